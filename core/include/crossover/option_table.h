// Typed option tables: one line per option, one member per option.
//
// A plugin declares a struct holding its options, with their defaults as
// member initializers, and one table binding each option name to a member:
//
//   struct MyOptions {
//       std::string dir;                 // required below: no default
//       std::string mode = "symlink";
//       std::int64_t keep = 2;
//   };
//   const crossover::OptionTable<MyOptions> kOptions{
//       crossover::option("dir", &MyOptions::dir, "Directory Envoy reads.").required().path(),
//       crossover::option("mode", &MyOptions::mode, "How to swap.").choices({"symlink", "rename"}),
//       crossover::option("keep", &MyOptions::keep, "Versions kept.").range(1, 100),
//   };
//   CROSSOVER_PLUGIN(Kind::Sink, MySink, "my_sink", "What it does.", kOptions)
//
// The table is the schema: the type comes from the member, the default from
// the struct's initializer, choices, ranges, paths and aliases from the entry.
// The core checks the pipeline against it before anything is built (so
// `crossover validate` refuses what `crossover run` would), `crossover
// plugins`, the reference and the plugin READMEs are generated from it, and
// the factory receives the decoded struct: the component's constructor is
// `MySink(const ComponentConfig& config, MyOptions options)` and never reads
// YAML options itself.
//
// Conventions: a std::optional<T> member is "not set" unless given; an empty
// string, list or map default is shown as no default. Strings, bools,
// integers (any width: the range is also checked against the member's type),
// std::chrono::milliseconds, lists and maps of strings and YAML::Node (any
// value: check it with .check()) are supported.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "crossover/options.h"
#include "crossover/status.h"

namespace crossover {

namespace detail {

// A string as a YAML scalar: plain when it reads back as the same string,
// double-quoted otherwise ("0644", "true", "", "a: b").
inline std::string yaml_scalar_text(const std::string& s) {
    bool plain = !s.empty() && s != "true" && s != "false" && s != "null" && s != "~" &&
                 s != "yes" && s != "no" && s != "on" && s != "off" &&
                 !(s[0] >= '0' && s[0] <= '9') && s[0] != '-' && s[0] != '.';
    for (const char c : s) {
        const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' || c == '/' ||
                          c == ':' || c == '$' || c == '{' || c == '}';
        plain = plain && safe;
    }
    if (plain && s.find(": ") == std::string::npos && s.back() != ':' && s.front() != '{') {
        return s;
    }
    std::string out = "\"";
    for (const char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    out += '"';
    return out;
}

// How each member type maps to an option type, reads its value and shows its
// default. The value has been checked before it is read.
template <typename M, typename = void>
struct OptionMember;

template <>
struct OptionMember<std::string> {
    static constexpr OptionType type = OptionType::String;
    static std::string read(const ComponentConfig& c, const std::string& key, bool path) {
        return path ? c.get_path(key) : c.get_string(key);
    }
    static std::optional<std::string> shown(const std::string& v) {
        if (v.empty()) {
            return std::nullopt;
        }
        return yaml_scalar_text(v);
    }
};

template <>
struct OptionMember<bool> {
    static constexpr OptionType type = OptionType::Bool;
    static bool read(const ComponentConfig& c, const std::string& key, bool /*path*/) {
        return c.get_bool(key);
    }
    static std::optional<std::string> shown(bool v) { return v ? "true" : "false"; }
};

template <typename M>
struct OptionMember<M, std::enable_if_t<std::is_integral_v<M> && !std::is_same_v<M, bool>>> {
    static constexpr OptionType type = OptionType::Int;
    static M read(const ComponentConfig& c, const std::string& key, bool /*path*/) {
        const std::int64_t v = c.get_int(key);
        if (!std::in_range<M>(v)) {
            throw Error(c.where(key) + "must be between " +
                        std::to_string(std::numeric_limits<M>::min()) + " and " +
                        std::to_string(std::numeric_limits<M>::max()) + ", got " +
                        std::to_string(v));
        }
        return static_cast<M>(v);
    }
    static std::optional<std::string> shown(M v) { return std::to_string(v); }
};

template <>
struct OptionMember<std::chrono::milliseconds> {
    static constexpr OptionType type = OptionType::Duration;
    static std::chrono::milliseconds read(const ComponentConfig& c, const std::string& key,
                                          bool /*path*/) {
        return c.get_duration(key);
    }
    static std::optional<std::string> shown(std::chrono::milliseconds v) {
        return format_duration(v);
    }
};

template <>
struct OptionMember<std::vector<std::string>> {
    static constexpr OptionType type = OptionType::StringList;
    static std::vector<std::string> read(const ComponentConfig& c, const std::string& key,
                                         bool path) {
        std::vector<std::string> out = c.get_string_list(key);
        if (path) {
            for (auto& p : out) {
                if (!p.empty() && p[0] != '/' && !c.base_dir.empty()) {
                    p = c.base_dir + "/" + p;
                }
            }
        }
        return out;
    }
    static std::optional<std::string> shown(const std::vector<std::string>& v) {
        if (v.empty()) {
            return std::nullopt;
        }
        std::string out = "[";
        for (const auto& item : v) {
            out += (out.size() > 1 ? ", " : "") + yaml_scalar_text(item);
        }
        return out + "]";
    }
};

template <>
struct OptionMember<std::map<std::string, std::string>> {
    static constexpr OptionType type = OptionType::StringMap;
    static std::map<std::string, std::string> read(const ComponentConfig& c, const std::string& key,
                                                   bool /*path*/) {
        return c.get_string_map(key);
    }
    static std::optional<std::string> shown(const std::map<std::string, std::string>& v) {
        if (v.empty()) {
            return std::nullopt;
        }
        std::string out = "{";
        for (const auto& [k, item] : v) {
            out +=
                (out.size() > 1 ? ", " : "") + yaml_scalar_text(k) + ": " + yaml_scalar_text(item);
        }
        return out + "}";
    }
};

template <>
struct OptionMember<YAML::Node> {
    static constexpr OptionType type = OptionType::Any;
    static YAML::Node read(const ComponentConfig& c, const std::string& key, bool /*path*/) {
        return c.get(key);
    }
    static std::optional<std::string> shown(const YAML::Node& /*v*/) { return std::nullopt; }
};

template <typename M>
struct OptionMember<std::optional<M>> {
    static constexpr OptionType type = OptionMember<M>::type;
    static std::optional<M> read(const ComponentConfig& c, const std::string& key, bool path) {
        return OptionMember<M>::read(c, key, path);
    }
    static std::optional<std::string> shown(const std::optional<M>& v) {
        return v ? OptionMember<M>::shown(*v) : std::nullopt;
    }
};

}  // namespace detail

// Checks shared by many plugins, for OptionField::check().
namespace checks {

// A string, list or map option that must not be empty.
inline bool not_empty(const YAML::Node& value, std::string& why) {
    if ((value.IsScalar() && value.Scalar().empty()) ||
        ((value.IsSequence() || value.IsMap()) && value.size() == 0)) {
        why = "must not be empty";
        return false;
    }
    return true;
}

// A listening address written host:port (port 0 picks a free one).
inline bool host_port(const YAML::Node& value, std::string& why) {
    const std::string& text = value.Scalar();
    const std::size_t colon = text.rfind(':');
    bool ok = colon != std::string::npos && colon + 1 < text.size() && colon + 6 >= text.size();
    for (std::size_t i = colon + 1; ok && i < text.size(); ++i) {
        ok = text[i] >= '0' && text[i] <= '9';
    }
    if (!ok) {
        why = "expected host:port, got '" + text + "'";
        return false;
    }
    return true;
}

// Unix permissions written in octal, such as "0644".
inline bool octal_mode(const YAML::Node& value, std::string& why) {
    const std::string& text = value.Scalar();
    bool ok = !text.empty() && text.size() <= 4;
    unsigned mode = 0;
    for (const char c : text) {
        ok = ok && c >= '0' && c <= '7';
        mode = mode * 8 + static_cast<unsigned>(c - '0');
    }
    if (!ok || mode > 0777) {
        why = "expected octal permissions such as \"0644\", got '" + text + "'";
        return false;
    }
    return true;
}

// The value of an option octal_mode accepted.
inline unsigned parse_octal_mode(const std::string& text) {
    unsigned mode = 0;
    for (const char c : text) {
        mode = mode * 8 + static_cast<unsigned>(c - '0');
    }
    return mode;
}

}  // namespace checks

template <typename T>
class OptionTable;

// One option: its name, the member it fills and its one-line doc, refined by
// the chained calls below.
template <typename T>
class OptionField {
public:
    template <typename M>
    OptionField(const char* name, M T::*member, const char* doc) : name_(name) {
        spec_.name = nullptr;  // points into name_ once the table is built
        spec_.type = detail::OptionMember<M>::type;
        spec_.default_value = nullptr;
        spec_.required = false;
        spec_.doc = doc;
        const T defaults{};
        if (auto shown = detail::OptionMember<M>::shown(defaults.*member)) {
            default_text_ = std::move(*shown);
            has_default_ = true;
        }
        read_ = [member](const ComponentConfig& c, const std::string& key, bool path, T& out) {
            out.*member = detail::OptionMember<M>::read(c, key, path);
        };
    }

    // An option of a shared group (such as the Kubernetes connection) whose
    // struct is the member `sub` of T; `prefix` is put before its name.
    template <typename S>
    OptionField(const OptionField<S>& inner, S T::*sub, const std::string& prefix = {})
        : spec_(inner.spec_),
          name_(prefix + inner.name_),
          default_text_(inner.default_text_),
          has_default_(inner.has_default_),
          choices_(inner.choices_),
          aliases_(inner.aliases_) {
        read_ = [sub, read = inner.read_](const ComponentConfig& c, const std::string& key,
                                          bool path, T& out) { read(c, key, path, out.*sub); };
    }

    // The option must be given; no default is shown or applied.
    OptionField& required() {
        spec_.required = true;
        has_default_ = false;
        return *this;
    }
    // The value names a file or directory: relative values resolve against
    // the pipeline file's directory.
    OptionField& path() {
        spec_.path = true;
        return *this;
    }
    OptionField& choices(std::initializer_list<const char*> values) {
        choices_.assign(values.begin(), values.end());
        choices_.push_back(nullptr);
        return *this;
    }
    // Int: the allowed values; Duration: the allowed milliseconds.
    OptionField& range(std::int64_t min, std::int64_t max) {
        spec_.min = min;
        spec_.max = max;
        return *this;
    }
    OptionField& at_least(std::int64_t min) {
        spec_.min = min;
        return *this;
    }
    OptionField& at_least(std::chrono::milliseconds min) {
        spec_.min = min.count();
        return *this;
    }
    // An older name still accepted.
    OptionField& alias(const char* old_name) {
        if (aliases_.empty()) {
            aliases_.push_back(nullptr);
        }
        aliases_.insert(aliases_.end() - 1, old_name);
        return *this;
    }
    OptionField& check(OptionCheckFn fn) {
        spec_.check = fn;
        return *this;
    }
    // The default as shown and applied, when the member's initializer cannot
    // say it (a YAML::Node member, or a default that is computed later).
    OptionField& default_text(const char* yaml) {
        default_text_ = yaml;
        has_default_ = true;
        return *this;
    }

private:
    friend class OptionTable<T>;
    template <typename>
    friend class OptionField;
    using Reader = std::function<void(const ComponentConfig&, const std::string&, bool, T&)>;

    OptionSpec spec_{};
    std::string name_;
    std::string default_text_;
    bool has_default_ = false;
    std::vector<const char*> choices_;
    std::vector<const char*> aliases_;
    Reader read_;
};

template <typename T, typename M>
OptionField<T> option(const char* name, M T::*member, const char* doc) {
    return OptionField<T>(name, member, doc);
}

// Several entries of a table: one option, or a shared group of them.
template <typename T>
struct OptionFields {
    OptionFields(OptionField<T> one) : items{std::move(one)} {}  // NOLINT: implicit by design
    OptionFields(std::vector<OptionField<T>> many)               // NOLINT: implicit by design
        : items(std::move(many)) {}
    std::vector<OptionField<T>> items;
};

// The options of a shared group `S` (declared as OptionFields<S>) as entries
// of T's table, filling the member `sub`, their names prefixed by `prefix`.
template <typename T, typename S>
std::vector<OptionField<T>> option_group(const std::vector<OptionField<S>>& group, S T::*sub,
                                         const std::string& prefix = {}) {
    std::vector<OptionField<T>> out;
    out.reserve(group.size());
    for (const auto& f : group) {
        out.emplace_back(f, sub, prefix);
    }
    return out;
}

// A plugin's option table. Keep it at namespace scope (it owns the strings
// the OptionSpec array points into, so it is neither copied nor moved).
template <typename T>
class OptionTable {
public:
    using Options = T;

    OptionTable(std::initializer_list<OptionFields<T>> entries) {
        for (const auto& e : entries) {
            fields_.insert(fields_.end(), e.items.begin(), e.items.end());
        }
        specs_.reserve(fields_.size());
        for (const auto& f : fields_) {
            OptionSpec s = f.spec_;
            s.name = f.name_.c_str();
            s.default_value = f.has_default_ ? f.default_text_.c_str() : nullptr;
            s.choices = f.choices_.empty() ? nullptr : f.choices_.data();
            s.aliases = f.aliases_.empty() ? nullptr : f.aliases_.data();
            specs_.push_back(s);
        }
    }
    OptionTable(const OptionTable&) = delete;
    OptionTable& operator=(const OptionTable&) = delete;
    OptionTable(OptionTable&&) = delete;
    OptionTable& operator=(OptionTable&&) = delete;
    ~OptionTable() = default;

    [[nodiscard]] const OptionSpec* specs() const noexcept { return specs_.data(); }
    [[nodiscard]] std::size_t size() const noexcept { return specs_.size(); }

    // Checks every option of `config` against the table (the same rule as
    // `crossover validate`, for callers that built the config themselves)
    // and decodes it. Throws crossover::Error naming file, line, component
    // and option.
    [[nodiscard]] T decode(const ComponentConfig& config) const {
        T out{};
        for (std::size_t i = 0; i < fields_.size(); ++i) {
            const OptionSpec& spec = specs_[i];
            const std::string key = present_name(config, spec);
            if (key.empty()) {
                if (spec.required) {
                    throw Error(config.where(spec.name) + "missing required option (" + spec.doc +
                                ")");
                }
                continue;
            }
            std::string why;
            if (!check_option(spec, config.options[key], why)) {
                throw Error(config.where(key) + why);
            }
            fields_[i].read_(config, key, spec.path, out);
        }
        return out;
    }

private:
    // The key under which the option is given (its name or an alias), or "".
    static std::string present_name(const ComponentConfig& config, const OptionSpec& spec) {
        if (config.has(spec.name)) {
            return spec.name;
        }
        for (const char* const* a = spec.aliases; a != nullptr && *a != nullptr; ++a) {
            if (config.has(*a)) {
                return *a;
            }
        }
        return {};
    }

    std::vector<OptionField<T>> fields_;
    std::vector<OptionSpec> specs_;
};

}  // namespace crossover
