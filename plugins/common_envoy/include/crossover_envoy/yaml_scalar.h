// YAML scalars typed the way Envoy types them, and how they are named in
// error messages.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>

#include <yaml-cpp/yaml.h>

#include "crossover/json.h"
#include "crossover_envoy/doc_tree.h"
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

// The kind of a plain scalar's `s.text`, as yaml-cpp's converters read it.
// Most plain scalars of xDS documents are names, paths and small decimal
// integers: those are told apart by their first bytes; anything that could
// be a boolean or a number in another form goes through the converters.
inline void classify_plain(Scalar& s) {
    const std::string& t = s.text;
    const char c = t.empty() ? '\0' : t[0];
    const bool maybe_number = (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
    const bool maybe_bool = c == 'y' || c == 'Y' || c == 'n' || c == 'N' || c == 't' || c == 'T' ||
                            c == 'f' || c == 'F' || c == 'o' || c == 'O';
    if (!t.empty() && !maybe_number && !maybe_bool && c != 'e' && c != 'E') {
        return;  // a string
    }
    // A decimal integer without a leading zero and short of int64's range.
    const std::size_t digits_from = c == '-' ? 1 : 0;
    const std::size_t digits = t.size() - digits_from;
    if (maybe_number && digits >= 1 && digits <= 18 && (t[digits_from] != '0' || digits == 1)) {
        std::int64_t v = 0;
        const char* end = t.data() + t.size();
        const auto res = std::from_chars(t.data(), end, v);
        if (res.ec == std::errc() && res.ptr == end) {
            s.kind = ScalarKind::Int;
            s.integer = v;
            return;
        }
    }
    // The converters read numbers (decimal, octal, hex, floating point) and
    // .inf/.nan from these bytes only: another byte after a numeric start
    // ("15s", "10.0.0.1:80") leaves a string.
    if (maybe_number && std::any_of(t.begin(), t.end(), [](char b) {
            return !((b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F') ||
                     b == '+' || b == '-' || b == '.' || b == 'x' || b == 'X' || b == 'i' ||
                     b == 'I' || b == 'n' || b == 'N' || b == ' ');
        })) {
        return;
    }
    const YAML::Node node(t);
    if (YAML::convert<bool>::decode(node, s.boolean)) {
        s.kind = ScalarKind::Bool;
        return;
    }
    if (YAML::convert<std::int64_t>::decode(node, s.integer)) {
        s.kind = ScalarKind::Int;
        return;
    }
    if (YAML::convert<double>::decode(node, s.real)) {
        s.kind = ScalarKind::Double;
    }
}

// Node `i` of `tree` (a scalar or a null; npos reads as null).
inline Scalar classify(const xds::DocTree& tree, std::uint32_t i) {
    Scalar s;
    if (!tree.is_scalar(i)) {
        s.kind = ScalarKind::Null;
        return s;
    }
    const xds::DocNode& node = tree[i];
    s.text.assign(node.value);
    if (!node.quoted) {
        classify_plain(s);
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

// Node `i` of `tree` as error messages name it (npos: a missing node).
inline std::string node_kind(const xds::DocTree& tree, std::uint32_t i) {
    if (i == xds::DocTree::npos) {
        return "nothing";
    }
    switch (tree[i].kind) {
        case xds::DocKind::Map: return "a map";
        case xds::DocKind::Sequence: return "a list";
        case xds::DocKind::Scalar: return describe(classify(tree, i));
        case xds::DocKind::Null: return "null";
    }
    return "nothing";
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
