#include "crossover_kube/json.h"

#include <sstream>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include "crossover/status.h"
#include "crossover_kube/json_reader.h"

namespace crossover::kube {

Poco::JSON::Object::Ptr parse_object(const std::string& text, const std::string& what) {
    // Each string held once (watch events carry whole documents); Poco's parser reads the rest
    // and words the errors.
    if (auto object = read_json_object(text)) {
        return object;
    }
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

// Builds one YAML tree from a JSON value with every node in one node memory.
// yaml-cpp gives each node made on its own (YAML::Node(key), a converted
// subtree) a memory of its own and merges it into its parent's when it is
// inserted, and `out[key]` compares the key with every earlier key of the map
// through a conversion: together more than half the cost of converting a
// TrafficSplit (a burst converts 1,000 of them at once). Here every node is
// appended to a pool sequence of the same memory (an append makes the node
// in that memory, without a merge) and inserted into its map with
// force_insert, which neither looks for the key (a JSON object's keys are
// unique) nor merges. The pool is not reachable from the tree it returns.
class TreeBuilder {
public:
    TreeBuilder() : pool_(YAML::NodeType::Sequence) {}

    YAML::Node build(const Poco::Dynamic::Var& value) {
        YAML::Node out = make();
        fill(out, value);
        return out;
    }

private:
    // A new node in the pool's memory, defined (null) at once: the pool appends
    // only after a defined node. Setting the style (the default one) is what
    // defines it in place; `node = YAML::Null` would make a null node of its
    // own memory and merge it.
    YAML::Node make() {
        YAML::Node node = pool_[size_++];
        node.SetStyle(YAML::EmitterStyle::Default);
        return node;
    }

    // Writes `value` into `out`, a node of the pool's memory.
    void fill(YAML::Node out, const Poco::Dynamic::Var& value) {
        if (value.isEmpty()) {
            return;  // out is null already
        }
        if (value.type() == typeid(Poco::JSON::Object::Ptr)) {
            const auto& obj = value.extract<Poco::JSON::Object::Ptr>();
            if (obj.isNull()) {
                return;
            }
            if (obj->size() == 0) {
                out = YAML::Node(YAML::NodeType::Map);
                return;
            }
            for (const auto& [key, member] : *obj) {
                YAML::Node k = make();
                k = key;
                YAML::Node v = make();
                fill(v, member);
                out.force_insert(k, v);
            }
            return;
        }
        if (value.type() == typeid(Poco::JSON::Array::Ptr)) {
            const auto& arr = value.extract<Poco::JSON::Array::Ptr>();
            if (arr.isNull()) {
                return;
            }
            if (arr->size() == 0) {
                out = YAML::Node(YAML::NodeType::Sequence);
                return;
            }
            for (const auto& item : *arr) {
                YAML::Node v = make();
                fill(v, item);
                out.push_back(v);
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

    YAML::Node pool_;
    std::size_t size_ = 0;
};

}  // namespace

YAML::Node to_yaml(const Poco::Dynamic::Var& value) {
    return TreeBuilder().build(value);
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
