#include "value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <system_error>

#include "crossover/status.h"

namespace crossover::tmpl {

std::string TemplateError::format(const std::string& name) const {
    return name + ":" + std::to_string(pos_.line) + ":" + std::to_string(pos_.col) + ": " +
           message_;
}

Value Value::missing(Pos pos, std::string message) {
    Value v;
    v.data_ = std::make_shared<const MissingInfo>(MissingInfo{pos, std::move(message)});
    return v;
}

Value Value::boolean(bool b) {
    Value v;
    v.data_ = b;
    return v;
}

Value Value::integer(std::int64_t i) {
    Value v;
    v.data_ = i;
    return v;
}

Value Value::floating(double f) {
    Value v;
    v.data_ = f;
    return v;
}

Value Value::string(std::string s) {
    Value v;
    v.data_ = std::move(s);
    return v;
}

namespace {
std::uint64_t add_size(std::uint64_t a, std::uint64_t b) {
    const std::uint64_t sum = a + b;
    return sum < a ? ~std::uint64_t{0} : sum;
}
}  // namespace

Value Value::list(List items) {
    Value v;
    for (const auto& item : items) {
        v.depth_ = std::max(v.depth_, item.depth_ + 1);
        v.size_ = add_size(v.size_, item.size_);
    }
    v.depth_ = std::max<std::uint32_t>(v.depth_, 1);
    v.data_ = std::make_shared<const List>(std::move(items));
    return v;
}

Value Value::map(Map entries) {
    Value v;
    for (const auto& kv : entries) {
        v.depth_ = std::max(v.depth_, kv.second.depth_ + 1);
        v.size_ = add_size(v.size_, kv.second.size_);
    }
    v.depth_ = std::max<std::uint32_t>(v.depth_, 1);
    v.data_ = std::make_shared<const Map>(std::move(entries));
    return v;
}

double Value::as_number() const {
    if (type() == Type::Int) {
        return static_cast<double>(as_int());
    }
    return as_float();
}

void Value::require_present() const {
    if (is_missing()) {
        const auto& m = as_missing();
        throw TemplateError(m.pos, m.message);
    }
}

const char* type_name(Value::Type type) noexcept {
    switch (type) {
        case Value::Type::Null: return "null";
        case Value::Type::Missing: return "missing value";
        case Value::Type::Bool: return "bool";
        case Value::Type::Int: return "int";
        case Value::Type::Float: return "float";
        case Value::Type::String: return "string";
        case Value::Type::Seq: return "list";
        case Value::Type::Dict: return "map";
    }
    return "unknown";
}

bool truthy(const Value& v) noexcept {
    switch (v.type()) {
        case Value::Type::Null:
        case Value::Type::Missing: return false;
        case Value::Type::Bool: return v.as_bool();
        case Value::Type::Int: return v.as_int() != 0;
        case Value::Type::Float: return v.as_float() != 0.0;
        case Value::Type::String: return !v.as_string().empty();
        case Value::Type::Seq: return !v.as_list().empty();
        case Value::Type::Dict: return !v.as_map().empty();
    }
    return false;
}

std::string format_float(double f) {
    if (std::isnan(f)) {
        return "NaN";
    }
    if (std::isinf(f)) {
        return f > 0 ? "+Inf" : "-Inf";
    }
    if (f == 0.0) {
        return std::signbit(f) ? "-0" : "0";
    }
    // Shortest round-trip digits in scientific form: "d.ddde[+-]xx".
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific);
    std::string sci(buf, res.ptr);
    const auto e = sci.find('e');
    std::string mant = sci.substr(0, e);
    const int exp = std::atoi(sci.c_str() + e + 1);
    bool negative = false;
    if (!mant.empty() && mant[0] == '-') {
        negative = true;
        mant.erase(0, 1);
    }
    std::string digits;
    for (char c : mant) {
        if (c != '.') {
            digits += c;
        }
    }
    std::string out = negative ? "-" : "";
    if (exp < -4 || exp >= 6) {
        // Go: %e with shortest digits, exponent at least two digits.
        out += digits.substr(0, 1);
        if (digits.size() > 1) {
            out += '.';
            out += digits.substr(1);
        }
        out += 'e';
        out += exp < 0 ? '-' : '+';
        const int ae = exp < 0 ? -exp : exp;
        if (ae < 10) {
            out += '0';
        }
        out += std::to_string(ae);
        return out;
    }
    if (exp < 0) {
        out += "0.";
        out.append(static_cast<std::size_t>(-exp - 1), '0');
        out += digits;
        return out;
    }
    const auto int_digits = static_cast<std::size_t>(exp) + 1;
    if (digits.size() <= int_digits) {
        out += digits;
        out.append(int_digits - digits.size(), '0');
    } else {
        out += digits.substr(0, int_digits);
        out += '.';
        out += digits.substr(int_digits);
    }
    return out;
}

std::string display(const Value& v) {
    switch (v.type()) {
        case Value::Type::Null:
        case Value::Type::Missing: return "";
        case Value::Type::Bool: return v.as_bool() ? "true" : "false";
        case Value::Type::Int: return std::to_string(v.as_int());
        case Value::Type::Float: return format_float(v.as_float());
        case Value::Type::String: return v.as_string();
        case Value::Type::Seq: {
            std::string out = "[";
            bool first = true;
            for (const auto& item : v.as_list()) {
                if (!first) {
                    out += ' ';
                }
                first = false;
                out += item.is_null() ? "<nil>" : display(item);
            }
            return out + "]";
        }
        case Value::Type::Dict: {
            std::string out = "map[";
            bool first = true;
            for (const auto& [k, item] : v.as_map()) {
                if (!first) {
                    out += ' ';
                }
                first = false;
                out += k;
                out += ':';
                out += item.is_null() ? "<nil>" : display(item);
            }
            return out + "]";
        }
    }
    return "";
}

namespace {

bool all_digits(std::string_view s, int base) {
    if (s.empty()) {
        return false;
    }
    for (char c : s) {
        const bool ok = base == 16  ? std::isxdigit(static_cast<unsigned char>(c)) != 0
                        : base == 8 ? (c >= '0' && c <= '7')
                                    : (c >= '0' && c <= '9');
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool parse_integer(const std::string& text, std::int64_t& out) {
    std::string_view s = text;
    bool negative = false;
    if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
        negative = s[0] == '-';
        s.remove_prefix(1);
    }
    int base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s.remove_prefix(2);
    } else if (s.size() > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
        base = 8;
        s.remove_prefix(2);
    } else if (s.size() > 1 && s[0] == '0' && all_digits(s, 8)) {
        base = 8;  // YAML 1.1 octal, as Helm reads it
        s.remove_prefix(1);
    }
    if (!all_digits(s, base)) {
        return false;
    }
    std::uint64_t magnitude = 0;
    const auto res = std::from_chars(s.data(), s.data() + s.size(), magnitude, base);
    if (res.ec != std::errc() || res.ptr != s.data() + s.size()) {
        return false;
    }
    const auto limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (negative) {
        if (magnitude > limit + 1) {
            return false;
        }
        out = magnitude == limit + 1 ? std::numeric_limits<std::int64_t>::min()
                                     : -static_cast<std::int64_t>(magnitude);
    } else {
        if (magnitude > limit) {
            return false;
        }
        out = static_cast<std::int64_t>(magnitude);
    }
    return true;
}

bool parse_float(const std::string& text, double& out) {
    std::string_view s = text;
    if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf" || s == "+.Inf" || s == "+.INF") {
        out = std::numeric_limits<double>::infinity();
        return true;
    }
    if (s == "-.inf" || s == "-.Inf" || s == "-.INF") {
        out = -std::numeric_limits<double>::infinity();
        return true;
    }
    if (s == ".nan" || s == ".NaN" || s == ".NAN") {
        out = std::numeric_limits<double>::quiet_NaN();
        return true;
    }
    // [-+]? ( \.[0-9]+ | [0-9]+ ( \.[0-9]* )? ) ( [eE][-+]?[0-9]+ )?
    std::size_t i = 0;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
        ++i;
    }
    std::size_t int_digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        ++i;
        ++int_digits;
    }
    std::size_t frac_digits = 0;
    if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            ++i;
            ++frac_digits;
        }
    }
    if (int_digits + frac_digits == 0) {
        return false;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
            ++i;
        }
        std::size_t exp_digits = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            ++i;
            ++exp_digits;
        }
        if (exp_digits == 0) {
            return false;
        }
    }
    if (i != s.size()) {
        return false;
    }
    const char* begin = s.data();
    if (*begin == '+') {
        ++begin;
    }
    const auto res = std::from_chars(begin, s.data() + s.size(), out);
    return res.ec == std::errc() && res.ptr == s.data() + s.size();
}

}  // namespace

Value resolve_plain_scalar(const std::string& text) {
    if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
        return Value();
    }
    // YAML 1.1 booleans, as Helm reads values, except the one-letter y/n.
    static const char* const kTrue[] = {"true", "True", "TRUE", "yes", "Yes",
                                        "YES",  "on",   "On",   "ON"};
    static const char* const kFalse[] = {"false", "False", "FALSE", "no", "No",
                                         "NO",    "off",   "Off",   "OFF"};
    for (const char* t : kTrue) {
        if (text == t) {
            return Value::boolean(true);
        }
    }
    for (const char* f : kFalse) {
        if (text == f) {
            return Value::boolean(false);
        }
    }
    std::int64_t i = 0;
    if (parse_integer(text, i)) {
        return Value::integer(i);
    }
    double d = 0;
    if (parse_float(text, d)) {
        return Value::floating(d);
    }
    return Value::string(text);
}

namespace {

Value from_yaml_at(const YAML::Node& node, const std::string& what, std::uint32_t depth);

// "what: line N" when the node came from a parsed document.
std::string at_line(const std::string& what, const YAML::Node& node) {
    const int line = node.Mark().line;
    return line >= 0 ? what + ": line " + std::to_string(line + 1) : what;
}

void check_size(std::uint64_t size, const std::string& what, const YAML::Node& node) {
    if (size > kMaxValueSize) {
        throw Error(at_line(what, node) + ": data holds more than " +
                    std::to_string(kMaxValueSize) +
                    " values (aliases count every time they are used)");
    }
}

}  // namespace

Value from_yaml(const YAML::Node& node, const std::string& what) {
    return from_yaml_at(node, what, 0);
}

namespace {

Value from_yaml_at(const YAML::Node& node, const std::string& what, std::uint32_t depth) {
    if (depth > kMaxValueDepth) {
        throw Error(at_line(what, node) + ": data nested deeper than " +
                    std::to_string(kMaxValueDepth) + " levels");
    }
    if (!node) {
        return Value();
    }
    switch (node.Type()) {
        case YAML::NodeType::Undefined:
        case YAML::NodeType::Null: return Value();
        case YAML::NodeType::Scalar:
            // "!" marks a quoted (non-plain) scalar; "?" a plain one.
            if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") {
                return Value::string(node.Scalar());
            }
            return resolve_plain_scalar(node.Scalar());
        case YAML::NodeType::Sequence: {
            List items;
            items.reserve(node.size());
            std::uint64_t size = 1;
            for (const auto& item : node) {
                items.push_back(from_yaml_at(item, what, depth + 1));
                size += items.back().size();
                check_size(size, what, node);
            }
            return Value::list(std::move(items));
        }
        case YAML::NodeType::Map: {
            Map entries;
            std::uint64_t size = 1;
            for (const auto& kv : node) {
                if (!kv.first.IsScalar()) {
                    throw Error(at_line(what, kv.first) + ": map keys must be scalars");
                }
                Value item = from_yaml_at(kv.second, what, depth + 1);
                size += item.size();
                check_size(size, what, node);
                entries[kv.first.Scalar()] = std::move(item);
            }
            return Value::map(std::move(entries));
        }
    }
    return Value();
}

}  // namespace

bool values_equal(const Value& a, const Value& b, bool& comparable) {
    comparable = true;
    if (a.is_number() && b.is_number()) {
        if (a.type() == Value::Type::Int && b.type() == Value::Type::Int) {
            return a.as_int() == b.as_int();
        }
        return a.as_number() == b.as_number();
    }
    if (a.is_null() || b.is_null()) {
        return a.is_null() && b.is_null();
    }
    if (a.type() != b.type()) {
        comparable = false;
        return false;
    }
    switch (a.type()) {
        case Value::Type::Bool: return a.as_bool() == b.as_bool();
        case Value::Type::String: return a.as_string() == b.as_string();
        default: comparable = false; return false;
    }
}

}  // namespace crossover::tmpl
