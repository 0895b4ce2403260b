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

YAML::Node to_yaml(const Poco::Dynamic::Var& value) {
    if (value.isEmpty()) {
        return YAML::Node(YAML::NodeType::Null);
    }
    if (value.type() == typeid(Poco::JSON::Object::Ptr)) {
        const auto& obj = value.extract<Poco::JSON::Object::Ptr>();
        YAML::Node out(YAML::NodeType::Map);
        if (obj.isNull()) {
            return YAML::Node(YAML::NodeType::Null);
        }
        for (const auto& [key, member] : *obj) {
            out[key] = to_yaml(member);
        }
        return out;
    }
    if (value.type() == typeid(Poco::JSON::Array::Ptr)) {
        const auto& arr = value.extract<Poco::JSON::Array::Ptr>();
        YAML::Node out(YAML::NodeType::Sequence);
        if (arr.isNull()) {
            return YAML::Node(YAML::NodeType::Null);
        }
        for (const auto& item : *arr) {
            out.push_back(to_yaml(item));
        }
        return out;
    }
    // Tags as yaml-cpp gives loaded documents: "!" for a quoted (string)
    // scalar, "?" for a plain one (numbers, booleans), so consumers can tell
    // "5" from 5 the same way for objects read from files and from the API.
    YAML::Node out(value.isBoolean() ? std::string(value.convert<bool>() ? "true" : "false")
                                     : value.convert<std::string>());
    out.SetTag(value.isString() ? "!" : "?");
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
