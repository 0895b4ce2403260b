// Option schemas and the validated configuration handed to a plugin factory.
//
// Each plugin declares its options in one table (OptionSpec[]). The core
// checks the user's pipeline file against that table before anything starts
// (unknown keys, wrong types, missing required options) and fills in
// defaults, so a factory can read options without re-validating their shape.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "crossover/log.h"
#include "crossover/metrics.h"
#include "crossover/status.h"

namespace crossover {

enum class OptionType : std::uint32_t {
    String = 1,      // scalar
    Bool = 2,        // true/false
    Int = 3,         // 64-bit signed integer
    Duration = 4,    // "250ms", "10s", "1m30s", "2h"
    StringList = 5,  // list of scalars (a single scalar is accepted as a one-item list)
    StringMap = 6,   // map of scalar to scalar
    Any = 7,         // any YAML value; the plugin checks it
};

inline const char* option_type_name(OptionType type) noexcept {
    switch (type) {
        case OptionType::String: return "string";
        case OptionType::Bool: return "bool";
        case OptionType::Int: return "int";
        case OptionType::Duration: return "duration";
        case OptionType::StringList: return "list of strings";
        case OptionType::StringMap: return "map of strings";
        case OptionType::Any: return "any";
    }
    return "unknown";
}

// An extra check of one option's value, run after its type was checked (by
// `crossover validate` as well as when the component is built). Returns true
// when the value is good; otherwise sets `why` (one line, no prefix).
using OptionCheckFn = bool (*)(const YAML::Node& value, std::string& why);

// One entry of a plugin's option table. Plugins normally build it with
// crossover::option() in option_table.h, which also fills the struct the
// factory receives; the fields after `doc` all have neutral defaults, so a
// plain aggregate table `{name, type, default, required, doc}` still works.
struct OptionSpec {
    const char* name;
    OptionType type;
    const char* default_value;  // YAML text, or nullptr for no default
    bool required;
    const char* doc;  // one line
    // Allowed values of a String option (or of each item of a StringList):
    // a nullptr-terminated array, or nullptr for any value.
    const char* const* choices = nullptr;
    // Int: the value's range; Duration: the range in milliseconds.
    std::int64_t min = INT64_MIN;
    std::int64_t max = INT64_MAX;
    // A String option naming a file or directory: relative values resolve
    // against the pipeline file's directory.
    bool path = false;
    // Older names still accepted for this option (nullptr-terminated array, or
    // nullptr). A pipeline using one is read as if it used `name`.
    const char* const* aliases = nullptr;
    OptionCheckFn check = nullptr;
};

// Parses a Go-style duration ("1m30s", "250ms", "0"); returns false on error.
// Units: ms, s, m, h (and us/ns, rounded down to milliseconds).
inline bool parse_duration(const std::string& text, std::chrono::milliseconds& out) noexcept {
    if (text == "0") {
        out = std::chrono::milliseconds(0);
        return true;
    }
    if (text.empty()) {
        return false;
    }
    long double total_ms = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t start = i;
        while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) {
            ++i;
        }
        if (i == start) {
            return false;
        }
        long double value = 0;
        long double frac = 0;
        bool in_frac = false;
        int digits = 0;
        for (std::size_t k = start; k < i; ++k) {
            if (text[k] == '.') {
                if (in_frac) {
                    return false;
                }
                in_frac = true;
                frac = 1;
                continue;
            }
            ++digits;
            if (in_frac) {
                frac /= 10;
                value += (text[k] - '0') * frac;
            } else {
                value = value * 10 + (text[k] - '0');
            }
        }
        if (digits == 0 || digits > 18) {
            return false;
        }
        std::size_t ustart = i;
        while (i < text.size() && text[i] >= 'a' && text[i] <= 'z') {
            ++i;
        }
        const std::string unit = text.substr(ustart, i - ustart);
        long double scale = 0;
        if (unit == "ns") {
            scale = 1e-6L;
        } else if (unit == "us") {
            scale = 1e-3L;
        } else if (unit == "ms") {
            scale = 1;
        } else if (unit == "s") {
            scale = 1000;
        } else if (unit == "m") {
            scale = 60000;
        } else if (unit == "h") {
            scale = 3600000;
        } else {
            return false;
        }
        total_ms += value * scale;
    }
    if (total_ms > 1e15L) {
        return false;
    }
    out = std::chrono::milliseconds(static_cast<std::int64_t>(total_ms));
    return true;
}

// The validated configuration of one component. Typed getters throw
// crossover::Error naming the component and option; call them inside the
// factory (the SDK's make_component catches and reports).
class ComponentConfig {
public:
    std::string name;          // the user's name for the component
    std::string type;          // plugin type
    std::string path;          // "sources.xds" — the config path, for messages
    std::string file;          // pipeline file, for messages ("" when built in memory)
    int line = 0;              // 1-based line of the component in the file
    std::string base_dir;      // directory of the pipeline file: relative paths resolve here
    YAML::Node options;        // validated map with defaults applied (type/inputs removed)
    bool onetime = false;      // run once and exit (init-container mode)
    Logger* logger = nullptr;  // never null when handed to a factory
    // Where the component exports its own metrics (crossover/metrics.h); never
    // null when handed to a factory by the engine.
    Metrics* metrics = nullptr;

    [[nodiscard]] bool has(const std::string& key) const;
    [[nodiscard]] std::string get_string(const std::string& key) const;
    [[nodiscard]] bool get_bool(const std::string& key) const;
    [[nodiscard]] std::int64_t get_int(const std::string& key) const;
    [[nodiscard]] std::chrono::milliseconds get_duration(const std::string& key) const;
    [[nodiscard]] std::vector<std::string> get_string_list(const std::string& key) const;
    [[nodiscard]] std::map<std::string, std::string> get_string_map(const std::string& key) const;
    [[nodiscard]] YAML::Node get(const std::string& key) const;
    // A path option resolved against base_dir when relative.
    [[nodiscard]] std::string get_path(const std::string& key) const;

    // "pipeline.yaml:12: sinks.envoy: option 'dir': " — prefix for messages.
    [[nodiscard]] std::string where(const std::string& key = {}) const;

    void log(LogLevel level, std::string_view message) const noexcept {
        if (logger != nullptr) {
            logger->log(level, name, message);
        }
    }
};

// ---- inline implementation ------------------------------------------------

namespace detail {
inline std::string yaml_kind(const YAML::Node& n) {
    switch (n.Type()) {
        case YAML::NodeType::Map: return "a map";
        case YAML::NodeType::Sequence: return "a list";
        case YAML::NodeType::Scalar: return "a scalar";
        case YAML::NodeType::Null: return "null";
        default: return "nothing";
    }
}
}  // namespace detail

inline std::string ComponentConfig::where(const std::string& key) const {
    std::string out;
    if (!file.empty()) {
        out += file;
        out += ':';
        int l = line;
        if (!key.empty() && options && options[key] && options[key].Mark().line >= 0) {
            l = options[key].Mark().line + 1;
        }
        out += std::to_string(l);
        out += ": ";
    }
    out += path.empty() ? name : path;
    if (!key.empty()) {
        out += ": option '" + key + "'";
    }
    out += ": ";
    return out;
}

inline bool ComponentConfig::has(const std::string& key) const {
    return options && options.IsMap() && options[key] && !options[key].IsNull();
}

inline YAML::Node ComponentConfig::get(const std::string& key) const {
    if (!has(key)) {
        return YAML::Node();
    }
    return options[key];
}

inline std::string ComponentConfig::get_string(const std::string& key) const {
    if (!has(key)) {
        return {};
    }
    const YAML::Node n = options[key];
    if (!n.IsScalar()) {
        throw Error(where(key) + "expected a string, got " + detail::yaml_kind(n));
    }
    return n.Scalar();
}

inline bool ComponentConfig::get_bool(const std::string& key) const {
    if (!has(key)) {
        return false;
    }
    const YAML::Node n = options[key];
    bool value = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, value)) {
        throw Error(where(key) + "expected true or false");
    }
    return value;
}

inline std::int64_t ComponentConfig::get_int(const std::string& key) const {
    if (!has(key)) {
        return 0;
    }
    const YAML::Node n = options[key];
    std::int64_t value = 0;
    if (!n.IsScalar() || !YAML::convert<std::int64_t>::decode(n, value)) {
        throw Error(where(key) + "expected an integer");
    }
    return value;
}

inline std::chrono::milliseconds ComponentConfig::get_duration(const std::string& key) const {
    std::chrono::milliseconds out{0};
    if (!has(key)) {
        return out;
    }
    const YAML::Node n = options[key];
    if (!n.IsScalar() || !parse_duration(n.Scalar(), out)) {
        throw Error(where(key) + "expected a duration such as 250ms, 10s or 1m");
    }
    return out;
}

inline std::vector<std::string> ComponentConfig::get_string_list(const std::string& key) const {
    std::vector<std::string> out;
    if (!has(key)) {
        return out;
    }
    const YAML::Node n = options[key];
    if (n.IsScalar()) {
        out.push_back(n.Scalar());
        return out;
    }
    if (!n.IsSequence()) {
        throw Error(where(key) + "expected a list of strings, got " + detail::yaml_kind(n));
    }
    for (const auto& item : n) {
        if (!item.IsScalar()) {
            throw Error(where(key) + "expected a list of strings, an item is " +
                        detail::yaml_kind(item));
        }
        out.push_back(item.Scalar());
    }
    return out;
}

inline std::map<std::string, std::string> ComponentConfig::get_string_map(
    const std::string& key) const {
    std::map<std::string, std::string> out;
    if (!has(key)) {
        return out;
    }
    const YAML::Node n = options[key];
    if (!n.IsMap()) {
        throw Error(where(key) + "expected a map of strings, got " + detail::yaml_kind(n));
    }
    for (const auto& kv : n) {
        if (!kv.first.IsScalar() || !kv.second.IsScalar()) {
            throw Error(where(key) + "expected a map of strings");
        }
        out[kv.first.Scalar()] = kv.second.Scalar();
    }
    return out;
}

inline std::string ComponentConfig::get_path(const std::string& key) const {
    std::string p = get_string(key);
    if (!p.empty() && p[0] != '/' && !base_dir.empty()) {
        p = base_dir + "/" + p;
    }
    return p;
}

// ---- checking one value against its entry ---------------------------------

// "a map", "a list", "'text'" or "nothing": the value as a message shows it.
inline std::string describe_value(const YAML::Node& n) {
    switch (n.Type()) {
        case YAML::NodeType::Map: return "a map";
        case YAML::NodeType::Sequence: return "a list";
        case YAML::NodeType::Scalar: return "'" + n.Scalar() + "'";
        case YAML::NodeType::Null:
        case YAML::NodeType::Undefined: break;
    }
    return "nothing";
}

// "250ms", "10s", "1m", "2h": the shortest exact Go-style spelling.
inline std::string format_duration(std::chrono::milliseconds d) {
    const std::int64_t ms = d.count();
    if (ms == 0) {
        return "0";
    }
    if (ms % 3600000 == 0) {
        return std::to_string(ms / 3600000) + "h";
    }
    if (ms % 60000 == 0) {
        return std::to_string(ms / 60000) + "m";
    }
    if (ms % 1000 == 0) {
        return std::to_string(ms / 1000) + "s";
    }
    return std::to_string(ms) + "ms";
}

namespace detail {

inline std::string choice_list(const char* const* choices) {
    std::string out;
    for (const char* const* c = choices; *c != nullptr; ++c) {
        if (!out.empty()) {
            out += c[1] == nullptr ? " or " : ", ";
        }
        out += '\'';
        out += *c;
        out += '\'';
    }
    return out;
}

inline bool is_choice(const char* const* choices, const std::string& value) {
    for (const char* const* c = choices; *c != nullptr; ++c) {
        if (value == *c) {
            return true;
        }
    }
    return false;
}

inline bool check_range(const OptionSpec& spec, std::int64_t value, const std::string& shown,
                        std::string& why) {
    if (value >= spec.min && value <= spec.max) {
        return true;
    }
    const bool duration = spec.type == OptionType::Duration;
    const auto show = [duration](std::int64_t v) {
        return duration ? format_duration(std::chrono::milliseconds(v)) : std::to_string(v);
    };
    if (spec.max == INT64_MAX) {
        why = "must be at least " + show(spec.min) + ", got " + shown;
    } else if (spec.min == INT64_MIN) {
        why = "must be at most " + show(spec.max) + ", got " + shown;
    } else {
        why = "must be between " + show(spec.min) + " and " + show(spec.max) + ", got " + shown;
    }
    return false;
}

inline bool check_type(const OptionSpec& spec, const YAML::Node& value, std::string& why) {
    switch (spec.type) {
        case OptionType::String:
            if (!value.IsScalar()) {
                why = "expected a string, got " + describe_value(value);
                return false;
            }
            return true;
        case OptionType::Bool: {
            bool b = false;
            if (!value.IsScalar() || !YAML::convert<bool>::decode(value, b)) {
                why = "expected true or false, got " + describe_value(value);
                return false;
            }
            return true;
        }
        case OptionType::Int: {
            std::int64_t i = 0;
            if (!value.IsScalar() || !YAML::convert<std::int64_t>::decode(value, i)) {
                why = "expected an integer, got " + describe_value(value);
                return false;
            }
            return check_range(spec, i, value.Scalar(), why);
        }
        case OptionType::Duration: {
            std::chrono::milliseconds d{};
            if (!value.IsScalar() || !parse_duration(value.Scalar(), d)) {
                why = "expected a duration such as 250ms, 10s or 1m, got " + describe_value(value);
                return false;
            }
            return check_range(spec, d.count(), value.Scalar(), why);
        }
        case OptionType::StringList:
            if (value.IsScalar()) {
                return true;
            }
            if (!value.IsSequence()) {
                why = "expected a list of strings, got " + describe_value(value);
                return false;
            }
            for (const auto& item : value) {
                if (!item.IsScalar()) {
                    why = "expected a list of strings, an item is " + describe_value(item);
                    return false;
                }
            }
            return true;
        case OptionType::StringMap:
            if (!value.IsMap()) {
                why = "expected a map of strings, got " + describe_value(value);
                return false;
            }
            for (const auto& kv : value) {
                if (!kv.second.IsScalar()) {
                    why = "expected a map of strings, '" + kv.first.Scalar() + "' is " +
                          describe_value(kv.second);
                    return false;
                }
            }
            return true;
        case OptionType::Any: return true;
    }
    why = "unknown option type";
    return false;
}

}  // namespace detail

// Checks a present value against its entry: type, range, choices, the
// plugin's own check. The one rule `crossover validate`, the engine and the
// plugins' decoding all apply. Returns false and sets `why` (no prefix).
inline bool check_option(const OptionSpec& spec, const YAML::Node& value, std::string& why) {
    if (!detail::check_type(spec, value, why)) {
        return false;
    }
    if (spec.choices != nullptr) {
        if (spec.type == OptionType::String && !detail::is_choice(spec.choices, value.Scalar())) {
            why =
                "expected " + detail::choice_list(spec.choices) + ", got " + describe_value(value);
            return false;
        }
        if (spec.type == OptionType::StringList) {
            const auto bad = [&](const YAML::Node& item) {
                why = "expected each item to be " + detail::choice_list(spec.choices) + ", got " +
                      describe_value(item);
                return false;
            };
            if (value.IsScalar() && !detail::is_choice(spec.choices, value.Scalar())) {
                return bad(value);
            }
            if (value.IsSequence()) {
                for (const auto& item : value) {
                    if (!detail::is_choice(spec.choices, item.Scalar())) {
                        return bad(item);
                    }
                }
            }
        }
    }
    return spec.check == nullptr || spec.check(value, why);
}

}  // namespace crossover
