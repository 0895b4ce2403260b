#include "env_expand.h"

#include <cstdlib>

namespace crossover::core {

namespace {

bool valid_name(const std::string& name) {
    if (name.empty()) {
        return false;
    }
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
        const bool digit = c >= '0' && c <= '9';
        if (!(alpha || (digit && i > 0))) {
            return false;
        }
    }
    return true;
}

}  // namespace

std::optional<std::string> process_env(const std::string& name) {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) {
        return std::nullopt;
    }
    return std::string(value);
}

bool expand_env(const std::string& text, const EnvLookup& lookup, std::string& out,
                std::string& error) {
    out.clear();
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const char c = text[i];
        if (c != '$' || i + 1 >= text.size()) {
            out += c;
            ++i;
            continue;
        }
        if (text[i + 1] == '$') {
            out += '$';
            i += 2;
            continue;
        }
        if (text[i + 1] != '{') {
            out += c;
            ++i;
            continue;
        }
        const std::size_t close = text.find('}', i + 2);
        if (close == std::string::npos) {
            error = "unterminated variable reference '" + text.substr(i) + "'";
            return false;
        }
        const std::string inner = text.substr(i + 2, close - i - 2);
        std::string name = inner;
        std::optional<std::string> fallback;
        const std::size_t sep = inner.find(":-");
        if (sep != std::string::npos) {
            name = inner.substr(0, sep);
            fallback = inner.substr(sep + 2);
        }
        if (!valid_name(name)) {
            error = "invalid variable name in '${" + inner + "}'";
            return false;
        }
        std::optional<std::string> value = lookup(name);
        if (value && value->empty() && fallback) {
            value = fallback;  // ${VAR:-x} also covers set-but-empty, as in the shell
        }
        if (!value) {
            if (!fallback) {
                error = "environment variable " + name + " is not set (use ${" + name +
                        ":-default} to give a default)";
                return false;
            }
            value = fallback;
        }
        out += *value;
        i = close + 1;
    }
    return true;
}

}  // namespace crossover::core
