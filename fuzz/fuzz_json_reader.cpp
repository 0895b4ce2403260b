// The Kubernetes client's JSON reader against Poco's parser: whatever the
// reader reads, Poco must read too, into the same tree (the same keys, value
// types and values, the same text when written out again). What the reader
// leaves alone goes to Poco's parser, as before it existed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <string_view>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "crossover_kube/json_reader.h"

namespace {

using Poco::Dynamic::Var;

bool same(const Var& a, const Var& b);

bool same_object(const Poco::JSON::Object& a, const Poco::JSON::Object& b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (auto x = a.begin(), y = b.begin(); x != a.end(); ++x, ++y) {
        if (x->first != y->first || !same(x->second, y->second)) {
            return false;
        }
    }
    return true;
}

bool same(const Var& a, const Var& b) {
    if (a.type() != b.type()) {
        return false;
    }
    if (a.isEmpty()) {
        return true;
    }
    if (a.type() == typeid(Poco::JSON::Object::Ptr)) {
        return same_object(*a.extract<Poco::JSON::Object::Ptr>(),
                           *b.extract<Poco::JSON::Object::Ptr>());
    }
    if (a.type() == typeid(Poco::JSON::Array::Ptr)) {
        const auto& x = *a.extract<Poco::JSON::Array::Ptr>();
        const auto& y = *b.extract<Poco::JSON::Array::Ptr>();
        if (x.size() != y.size()) {
            return false;
        }
        for (auto i = x.begin(), j = y.begin(); i != x.end(); ++i, ++j) {
            if (!same(*i, *j)) {
                return false;
            }
        }
        return true;
    }
    if (a.type() == typeid(double)) {
        const double x = a.extract<double>();
        const double y = b.extract<double>();
        return std::memcmp(&x, &y, sizeof x) == 0;
    }
    return a.convert<std::string>() == b.convert<std::string>();
}

std::string written(const Poco::JSON::Object::Ptr& object) {
    std::ostringstream out;
    object->stringify(out);
    return out.str();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const Poco::JSON::Object::Ptr read = crossover::kube::read_json_object(text);
    if (read.isNull()) {
        return 0;
    }
    Poco::JSON::Object::Ptr reference;
    try {
        Poco::JSON::Parser parser;
        reference = parser.parse(text).extract<Poco::JSON::Object::Ptr>();
    } catch (const Poco::Exception&) {
        std::abort();  // read what Poco refuses
    }
    if (!same_object(*read, *reference) || written(read) != written(reference)) {
        std::abort();
    }
    return 0;
}
