// Error messages that say exactly what is wrong and where.
//
// Every error a plugin reports should name the object it concerns (a
// Kubernetes object, or a document and the object it came from), the path of
// the field inside it, and the problem:
//
//   document rds.yaml (ConfigMap test/envoy-xds): resources[0].virtual_hosts[1]: no domains
//   TrafficSplit test/podinfo: spec.backends[1].weight: negative weight -10
//   pipeline.yaml:14: transforms.headers: option 'clusters': must not be empty
//
// The helpers here build such messages and the crossover::Error carrying
// them; throw it inside crossover::guard (component.h), which turns it into
// a Status at the plugin boundary. Everything is inline: nothing here needs
// to be exported from a plugin.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include <yaml-cpp/yaml.h>

#include "crossover/options.h"
#include "crossover/snapshot.h"
#include "crossover/status.h"

namespace crossover {

// "document rds.yaml (ConfigMap test/envoy-xds)", or "document rds.yaml" when
// the origin is unknown.
inline std::string describe(const Document& document) {
    std::string out = "document " + document.name;
    if (!document.origin.kind.empty() || !document.origin.name.empty()) {
        out += " (" + document.origin.describe() + ")";
    }
    return out;
}

// "TrafficSplit test/podinfo"
inline std::string describe(const Object& object) {
    return object.ref.describe();
}

// Joins the parts of a message, skipping empty ones:
//   error_message("TrafficSplit test/podinfo", "spec.service", "missing")
//   == "TrafficSplit test/podinfo: spec.service: missing"
inline std::string error_message(std::string_view subject, std::string_view path,
                                 std::string_view problem) {
    std::string out;
    for (std::string_view part : {subject, path, problem}) {
        if (part.empty()) {
            continue;
        }
        if (!out.empty()) {
            out += ": ";
        }
        out += part;
    }
    return out;
}

// An Error about a field of a document: throw error_at(doc, path, "...").
inline Error error_at(const Document& document, std::string_view path, std::string_view problem) {
    return Error(error_message(describe(document), path, problem));
}

// An Error about a field of a Kubernetes object.
inline Error error_at(const Object& object, std::string_view path, std::string_view problem) {
    return Error(error_message(describe(object), path, problem));
}

// An Error about one option of a component, prefixed with the pipeline file,
// line and component path (ComponentConfig::where).
inline Error option_error(const ComponentConfig& config, const std::string& key,
                          std::string_view problem) {
    return Error(config.where(key) + std::string(problem));
}

// A string option restricted to a set of values; throws option_error
// "expected one of 'a', 'b', got 'c'". An absent option gives `fallback`.
inline std::string get_choice(const ComponentConfig& config, const std::string& key,
                              std::initializer_list<std::string_view> choices,
                              std::string_view fallback = {}) {
    if (!config.has(key)) {
        return std::string(fallback);
    }
    std::string value = config.get_string(key);
    std::string list;
    for (std::string_view c : choices) {
        if (value == c) {
            return value;
        }
        list += list.empty() ? "'" : ", '";
        list += c;
        list += "'";
    }
    throw option_error(config, key, "expected one of " + list + ", got '" + value + "'");
}

// An integer option within [min, max]; throws option_error otherwise.
inline std::int64_t get_int_in_range(const ComponentConfig& config, const std::string& key,
                                     std::int64_t min, std::int64_t max) {
    const std::int64_t value = config.get_int(key);
    if (value < min || value > max) {
        throw option_error(config, key,
                           "expected an integer from " + std::to_string(min) + " to " +
                               std::to_string(max) + ", got " + std::to_string(value));
    }
    return value;
}

// Paths of fields inside a YAML tree, written the way people read them:
// "resources[0].virtual_hosts[1].routes[0]". Keys that are not plain
// identifiers are written in brackets: resources[0]["@type"].
class YamlPath {
public:
    YamlPath() = default;
    explicit YamlPath(std::string text) : text_(std::move(text)) {}

    [[nodiscard]] YamlPath key(std::string_view name) const {
        YamlPath out(text_);
        if (plain_key(name)) {
            if (!out.text_.empty()) {
                out.text_ += '.';
            }
            out.text_ += name;
        } else {
            out.text_ += "[\"";
            for (const char c : name) {
                if (c == '"' || c == '\\') {
                    out.text_ += '\\';
                }
                out.text_ += c;
            }
            out.text_ += "\"]";
        }
        return out;
    }

    [[nodiscard]] YamlPath index(std::size_t i) const {
        return YamlPath(text_ + "[" + std::to_string(i) + "]");
    }

    [[nodiscard]] const std::string& str() const noexcept { return text_; }
    [[nodiscard]] bool empty() const noexcept { return text_.empty(); }
    // So a path can be passed wherever a message part is expected.
    operator std::string_view() const noexcept {
        return text_;
    }  // NOLINT(google-explicit-constructor)

private:
    static bool plain_key(std::string_view name) noexcept {
        if (name.empty()) {
            return false;
        }
        for (const char c : name) {
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '_' || c == '-';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    std::string text_;
};

// "line 12" for a node parsed from text, "" for a node built in memory.
inline std::string line_of(const YAML::Node& node) {
    if (!node || node.Mark().line < 0) {
        return {};
    }
    return "line " + std::to_string(node.Mark().line + 1);
}

// "a map", "a list", "a scalar", "null" or "nothing": for "expected X, got Y".
inline std::string yaml_type_name(const YAML::Node& node) {
    if (!node.IsDefined()) {
        return "nothing";
    }
    return detail::yaml_kind(node);
}

}  // namespace crossover
