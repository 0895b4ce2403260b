// toYaml, toJson and Go-style quoting.
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <string>

#include "functions.h"

namespace crossover::tmpl {
namespace {

const char kHex[] = "0123456789abcdef";

void append_hex_byte(std::string& out, unsigned char c) {
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
}

bool has_control(const std::string& s, bool allow_newline_tab) {
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (allow_newline_tab && (c == '\n' || c == '\t')) {
            continue;
        }
        if (c < 0x20 || c == 0x7f) {
            return true;
        }
    }
    return false;
}

// ---- YAML --------------------------------------------------------------

bool plain_safe(const std::string& s) {
    if (s.empty() || resolve_plain_scalar(s).type() != Value::Type::String) {
        return false;
    }
    static const std::string kIndicators = "-?:,[]{}#&*!|>'\"%@`";
    if (kIndicators.find(s[0]) != std::string::npos) {
        const bool dash_ok = (s[0] == '-' || s[0] == '?' || s[0] == ':') && s.size() > 1 &&
                             s[1] != ' ' && s[1] != '\t';
        if (!dash_ok) {
            return false;
        }
    }
    // y/n are booleans to YAML 1.1 readers: quote them too.
    if (s == "y" || s == "Y" || s == "n" || s == "N" || s == "<<") {
        return false;
    }
    if (s.front() == ' ' || s.back() == ' ' || s.back() == ':') {
        return false;
    }
    if (s.find(": ") != std::string::npos || s.find(" #") != std::string::npos ||
        s.find(":\t") != std::string::npos) {
        return false;
    }
    return !has_control(s, false);
}

std::string yaml_string(const std::string& s) {
    if (plain_safe(s)) {
        return s;
    }
    if (!has_control(s, false)) {
        std::string out = "'";
        for (char c : s) {
            out += c;
            if (c == '\'') {
                out += '\'';
            }
        }
        return out + "'";
    }
    // Go's escapes (\a \b \f \n \r \t \v \xHH) are all YAML double-quoted escapes too.
    return go_quote(s);
}

std::string yaml_scalar(const Value& v) {
    switch (v.type()) {
        case Value::Type::Null:
        case Value::Type::Missing: return "null";
        case Value::Type::Bool: return v.as_bool() ? "true" : "false";
        case Value::Type::Int: return std::to_string(v.as_int());
        case Value::Type::Float: {
            const double f = v.as_float();
            if (std::isnan(f)) {
                return ".nan";
            }
            if (std::isinf(f)) {
                return f > 0 ? ".inf" : "-.inf";
            }
            return format_float(f);
        }
        case Value::Type::String: return yaml_string(v.as_string());
        case Value::Type::Seq: return "[]";
        case Value::Type::Dict: return "{}";
    }
    return "null";
}

// A multi-line string that can be written as a literal block.
bool literal_ok(const std::string& s) {
    if (s.find('\n') == std::string::npos || has_control(s, true)) {
        return false;
    }
    if (s.front() == ' ' || s.front() == '\t' || s.front() == '\n') {
        return false;
    }
    if (s.size() >= 2 && s[s.size() - 1] == '\n' && s[s.size() - 2] == '\n') {
        return false;
    }
    // No trailing blanks on any line (they would not survive a round trip).
    for (std::size_t i = 0; i < s.size(); ++i) {
        if ((s[i] == ' ' || s[i] == '\t') && (i + 1 == s.size() || s[i + 1] == '\n')) {
            return false;
        }
    }
    return true;
}

void emit_literal(const std::string& s, std::size_t indent, std::string& out) {
    const bool trailing = s.back() == '\n';
    out += trailing ? " |\n" : " |-\n";
    const std::string body = trailing ? s.substr(0, s.size() - 1) : s;
    std::size_t start = 0;
    for (;;) {
        const std::size_t nl = body.find('\n', start);
        const std::string line = body.substr(start, nl == std::string::npos ? nl : nl - start);
        if (!line.empty()) {
            out.append(indent, ' ');
            out += line;
        }
        out += '\n';
        if (nl == std::string::npos) {
            break;
        }
        start = nl + 1;
    }
}

void emit_map(const Map& m, std::size_t indent, std::string& out, bool first_inline);
void emit_list(const List& l, std::size_t indent, std::string& out, bool first_inline);

// The value after "key:" or "-".
void emit_after_indicator(const Value& v, std::size_t indent, bool in_list, std::string& out) {
    if (v.type() == Value::Type::Dict && !v.as_map().empty()) {
        if (in_list) {
            out += ' ';
            emit_map(v.as_map(), indent + 2, out, true);
        } else {
            out += '\n';
            emit_map(v.as_map(), indent + 2, out, false);
        }
    } else if (v.type() == Value::Type::Seq && !v.as_list().empty()) {
        if (in_list) {
            out += ' ';
            emit_list(v.as_list(), indent + 2, out, true);
        } else {
            out += '\n';
            emit_list(v.as_list(), indent, out, false);
        }
    } else if (v.type() == Value::Type::String && literal_ok(v.as_string())) {
        emit_literal(v.as_string(), indent + 2, out);
    } else {
        out += ' ';
        out += yaml_scalar(v);
        out += '\n';
    }
}

void emit_map(const Map& m, std::size_t indent, std::string& out, bool first_inline) {
    bool first = true;
    for (const auto& [k, v] : m) {
        if (!(first && first_inline)) {
            out.append(indent, ' ');
        }
        first = false;
        out += yaml_string(k);
        out += ':';
        emit_after_indicator(v, indent, false, out);
    }
}

void emit_list(const List& l, std::size_t indent, std::string& out, bool first_inline) {
    bool first = true;
    for (const auto& v : l) {
        if (!(first && first_inline)) {
            out.append(indent, ' ');
        }
        first = false;
        out += '-';
        emit_after_indicator(v, indent, true, out);
    }
}

// ---- JSON --------------------------------------------------------------

void json_string(const std::string& s, std::string& out) {
    out += '"';
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char ch = s[i];
        const auto c = static_cast<unsigned char>(ch);
        switch (ch) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '<': out += "\\u003c"; break;
            case '>': out += "\\u003e"; break;
            case '&': out += "\\u0026"; break;
            default:
                if (c < 0x20) {
                    out += "\\u00";
                    append_hex_byte(out, c);
                } else if (c == 0xE2 && i + 2 < s.size() &&
                           static_cast<unsigned char>(s[i + 1]) == 0x80 &&
                           (static_cast<unsigned char>(s[i + 2]) == 0xA8 ||
                            static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
                    out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
                    i += 2;
                } else {
                    out += ch;
                }
        }
    }
    out += '"';
}

std::string json_float(double f) {
    char buf[64];
    const double a = std::fabs(f);
    if (a == 0 || (a >= 1e-6 && a < 1e21)) {
        const auto res = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::fixed);
        return std::string(buf, res.ptr);
    }
    const auto res = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific);
    std::string s(buf, res.ptr);
    // Go writes e-07 as e-7.
    const auto e = s.find('e');
    if (e != std::string::npos && e + 2 < s.size() && s[e + 2] == '0' && e + 3 < s.size()) {
        s.erase(e + 2, 1);
    }
    return s;
}

void json_value(const Value& v, std::string& out) {
    switch (v.type()) {
        case Value::Type::Null:
        case Value::Type::Missing: out += "null"; break;
        case Value::Type::Bool: out += v.as_bool() ? "true" : "false"; break;
        case Value::Type::Int: out += std::to_string(v.as_int()); break;
        case Value::Type::Float: {
            const double f = v.as_float();
            if (std::isnan(f) || std::isinf(f)) {
                throw std::invalid_argument("unsupported value " + format_float(f));
            }
            out += json_float(f);
            break;
        }
        case Value::Type::String: json_string(v.as_string(), out); break;
        case Value::Type::Seq: {
            out += '[';
            bool first = true;
            for (const auto& item : v.as_list()) {
                if (!first) {
                    out += ',';
                }
                first = false;
                json_value(item, out);
            }
            out += ']';
            break;
        }
        case Value::Type::Dict: {
            out += '{';
            bool first = true;
            for (const auto& [k, item] : v.as_map()) {
                if (!first) {
                    out += ',';
                }
                first = false;
                json_string(k, out);
                out += ':';
                json_value(item, out);
            }
            out += '}';
            break;
        }
    }
}

}  // namespace

std::string go_quote(const std::string& s) {
    std::string out = "\"";
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (ch) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\a': out += "\\a"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            case '\v': out += "\\v"; break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    out += "\\x";
                    append_hex_byte(out, c);
                } else {
                    out += ch;
                }
        }
    }
    return out + "\"";
}

std::string to_yaml(const Value& v) {
    std::string out;
    if (v.type() == Value::Type::Dict && !v.as_map().empty()) {
        emit_map(v.as_map(), 0, out, false);
    } else if (v.type() == Value::Type::Seq && !v.as_list().empty()) {
        emit_list(v.as_list(), 0, out, false);
    } else if (v.type() == Value::Type::String && literal_ok(v.as_string())) {
        out += '|';
        std::string block;
        emit_literal(v.as_string(), 2, block);
        out += block.substr(2);  // drop the " |" the helper wrote
    } else {
        out = yaml_scalar(v);
    }
    while (!out.empty() && out.back() == '\n') {
        out.pop_back();
    }
    return out;
}

std::string to_json(const Value& v) {
    std::string out;
    json_value(v, out);
    return out;
}

}  // namespace crossover::tmpl
