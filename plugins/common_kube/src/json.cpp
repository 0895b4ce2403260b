#include "crossover_kube/json.h"

#include <sstream>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include "crossover/status.h"

namespace crossover::kube {

Poco::JSON::Object::Ptr parse_object(const std::string& text, const std::string& what) {
    try {
        Poco::JSON::Parser parser;
        Poco::Dynamic::Var v = parser.parse(text);
        if (v.type() != typeid(Poco::JSON::Object::Ptr)) {
            throw Error(what + ": expected a JSON object");
        }
        return v.extract<Poco::JSON::Object::Ptr>();
    } catch (const Poco::Exception& e) {
        throw Error(what + ": invalid JSON: " + e.displayText());
    }
}

namespace {

// Writes `value` into `out`, a node already inside the tree being built. Each
// member is written in place (out[key], out[i]) rather than built as a tree of
// its own and assigned: yaml-cpp merges the node memory of an assigned tree
// into its parent's, once per level, which made converting a TrafficSplit
// about twice as slow (a burst of 1,000 of them is converted at once).
void fill(YAML::Node out, const Poco::Dynamic::Var& value) {
    if (value.isEmpty()) {
        out = YAML::Node(YAML::NodeType::Null);
        return;
    }
    if (value.type() == typeid(Poco::JSON::Object::Ptr)) {
        const auto& obj = value.extract<Poco::JSON::Object::Ptr>();
        if (obj.isNull()) {
            out = YAML::Node(YAML::NodeType::Null);
        } else if (obj->size() == 0) {
            out = YAML::Node(YAML::NodeType::Map);
        } else {
            for (const auto& [key, member] : *obj) {
                fill(out[key], member);
            }
        }
        return;
    }
    if (value.type() == typeid(Poco::JSON::Array::Ptr)) {
        const auto& arr = value.extract<Poco::JSON::Array::Ptr>();
        if (arr.isNull()) {
            out = YAML::Node(YAML::NodeType::Null);
        } else if (arr->size() == 0) {
            out = YAML::Node(YAML::NodeType::Sequence);
        } else {
            std::size_t i = 0;
            for (const auto& item : *arr) {
                fill(out[i++], item);  // index size() appends
            }
        }
        return;
    }
    // Tags as yaml-cpp gives loaded documents: "!" for a quoted (string)
    // scalar, "?" for a plain one (numbers, booleans), so consumers can tell
    // "5" from 5 the same way for objects read from files and from the API.
    out = value.isBoolean() ? std::string(value.convert<bool>() ? "true" : "false")
                            : value.convert<std::string>();
    out.SetTag(value.isString() ? "!" : "?");
}

}  // namespace

YAML::Node to_yaml(const Poco::Dynamic::Var& value) {
    YAML::Node out(YAML::NodeType::Null);  // a node of its own for fill() to write into
    fill(out, value);
    return out;
}

std::string get_string(const Poco::JSON::Object::Ptr& obj, const std::string& key) {
    if (obj.isNull() || !obj->has(key)) {
        return {};
    }
    const Poco::Dynamic::Var v = obj->get(key);
    if (v.isEmpty() || v.type() == typeid(Poco::JSON::Object::Ptr) ||
        v.type() == typeid(Poco::JSON::Array::Ptr)) {
        return {};
    }
    return v.convert<std::string>();
}

std::string metadata_field(const Poco::JSON::Object::Ptr& obj, const std::string& key) {
    if (obj.isNull()) {
        return {};
    }
    return get_string(obj->getObject("metadata"), key);
}

std::string to_json(const Poco::JSON::Object::Ptr& obj) {
    std::ostringstream out;
    obj->stringify(out);
    return out.str();
}

}  // namespace crossover::kube
