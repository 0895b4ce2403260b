// YAML scalars typed the way Envoy types them, and how they are named in
// error messages.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>

#include <yaml-cpp/yaml.h>

#include "crossover/json.h"
#include "crossover_envoy/xds.h"

namespace crossover::envoy {

// Envoy turns YAML into a google.protobuf.Value before the JSON mapping: a
// quoted (or block) scalar is a string; a plain one is a bool if yaml-cpp
// reads it as one, else an integer, else a double, else a string.
enum class ScalarKind { Null, Bool, Int, Double, String };

struct Scalar {
    ScalarKind kind = ScalarKind::String;
    bool boolean = false;
    std::int64_t integer = 0;
    double real = 0;
    std::string text;
};

// A string as a JSON string literal, for messages: "podinfo".
inline std::string quote(const std::string& s) {
    return json::quoted(s);
}

inline Scalar classify(const YAML::Node& node) {
    Scalar s;
    if (node.IsNull()) {
        s.kind = ScalarKind::Null;
        return s;
    }
    s.text = node.Scalar();
    if (xds::is_quoted(node)) {
        return s;
    }
    if (YAML::convert<bool>::decode(node, s.boolean)) {
        s.kind = ScalarKind::Bool;
        return s;
    }
    if (YAML::convert<std::int64_t>::decode(node, s.integer)) {
        s.kind = ScalarKind::Int;
        return s;
    }
    if (YAML::convert<double>::decode(node, s.real)) {
        s.kind = ScalarKind::Double;
        return s;
    }
    return s;
}

inline std::string describe(const Scalar& s) {
    switch (s.kind) {
        case ScalarKind::Null: return "null";
        case ScalarKind::Bool: return "unquoted " + s.text + " (a boolean in YAML)";
        case ScalarKind::Int:
        case ScalarKind::Double: return "unquoted " + s.text + " (a number in YAML)";
        case ScalarKind::String: return "string " + quote(s.text);
    }
    return s.text;
}

inline std::string node_kind(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Map: return "a map";
        case YAML::NodeType::Sequence: return "a list";
        case YAML::NodeType::Scalar: return describe(classify(node));
        case YAML::NodeType::Null: return "null";
        default: return "nothing";
    }
}

// A decimal integer, the whole text; `out` is its value.
inline bool parse_integer_text(const std::string& text, bool is_unsigned, long double& out) {
    if (text.empty()) {
        return false;
    }
    const char* end = text.data() + text.size();
    if (is_unsigned) {
        std::uint64_t v = 0;
        auto res = std::from_chars(text.data(), end, v);
        if (res.ec != std::errc() || res.ptr != end) {
            return false;
        }
        out = static_cast<long double>(v);
        return true;
    }
    std::int64_t v = 0;
    auto res = std::from_chars(text.data(), end, v);
    if (res.ec != std::errc() || res.ptr != end) {
        return false;
    }
    out = static_cast<long double>(v);
    return true;
}

}  // namespace crossover::envoy
