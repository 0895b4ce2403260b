// JSON string escaping: the one escaper of the tree, for JSON text (log
// lines, /readyz, xDS documents written as JSON) and for double-quoted YAML
// scalars, whose escapes include all of JSON's.
//
//   std::string line = "{\"msg\":" + crossover::json::quoted(message) + "}";
//
// Quotes and backslashes are escaped, \b \f \n \r \t by name, the other
// control characters and DEL as \u00XX (YAML does not allow DEL raw). Other
// bytes, UTF-8 included, are copied as they are.
#pragma once

#include <string>
#include <string_view>

namespace crossover::json {

// Appends `text` escaped, without the surrounding quotes.
inline void append_escaped(std::string& out, std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    for (const char ch : text) {
        const auto u = static_cast<unsigned char>(ch);
        switch (ch) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (u < 0x20 || u == 0x7f) {
                    out += "\\u00";
                    out += kHex[u >> 4U];
                    out += kHex[u & 0xfU];
                } else {
                    out += ch;
                }
        }
    }
}

// Appends `text` as a JSON string, quotes included.
inline void append_quoted(std::string& out, std::string_view text) {
    out += '"';
    append_escaped(out, text);
    out += '"';
}

// `text` escaped, without quotes.
inline std::string escaped(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    append_escaped(out, text);
    return out;
}

// `text` as a JSON string, quotes included.
inline std::string quoted(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    append_quoted(out, text);
    return out;
}

}  // namespace crossover::json
