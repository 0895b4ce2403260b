#include "names.h"

#include <arpa/inet.h>

#include <array>
#include <charconv>

namespace crossover::route_registry {

namespace {

bool lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool alnum(char c) {
    return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

std::string quoted(std::string_view text) {
    return "'" + std::string(text) + "'";
}

// One DNS-1123 label: 1 to 63 of [a-z0-9-], alphanumeric at both ends.
std::string check_label(std::string_view label, std::string_view whole) {
    if (label.empty()) {
        return quoted(whole) + " has an empty label";
    }
    if (label.size() > 63) {
        return quoted(whole) + " has a label longer than 63 characters";
    }
    for (const char c : label) {
        if (!lower_alnum(c) && c != '-') {
            return quoted(whole) + " may hold only lowercase letters, digits, '-' and '.'";
        }
    }
    if (label.front() == '-' || label.back() == '-') {
        return quoted(whole) + " has a label starting or ending with '-'";
    }
    return {};
}

// The text after a wildcard: host-name characters, no second '*'.
std::string check_wildcard_rest(std::string_view rest, std::string_view whole) {
    if (rest.empty()) {
        return {};
    }
    if (rest.size() > 252) {
        return quoted(whole) + " is longer than 253 characters";
    }
    for (const char c : rest) {
        if (c == '*') {
            return quoted(whole) + ": a wildcard may stand only at the start or the end";
        }
        if (!lower_alnum(c) && c != '-' && c != '.') {
            return quoted(whole) +
                   " may hold only lowercase letters, digits, '-', '.' and one "
                   "leading or trailing '*'";
        }
    }
    return {};
}

}  // namespace

std::string check_dns1123_subdomain(std::string_view text) {
    if (text.empty()) {
        return "must not be empty";
    }
    if (text.size() > 253) {
        return quoted(text) + " is longer than 253 characters";
    }
    for (const char c : text) {
        if (!lower_alnum(c) && c != '-' && c != '.') {
            return quoted(text) +
                   " is not a DNS-1123 name (lowercase letters, digits, '-' and '.')";
        }
    }
    if (!lower_alnum(text.front()) || !lower_alnum(text.back())) {
        return quoted(text) + " must start and end with a lowercase letter or digit";
    }
    return {};
}

std::string check_host_name(std::string_view text) {
    if (text.empty()) {
        return "must not be empty";
    }
    if (text.size() > 253) {
        return quoted(text) + " is longer than 253 characters";
    }
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = text.find('.', start);
        const std::string_view label = text.substr(
            start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (std::string problem = check_label(label, text); !problem.empty()) {
            return problem;
        }
        if (dot == std::string_view::npos) {
            break;
        }
        start = dot + 1;
    }
    return {};
}

bool is_ipv4(std::string_view text) {
    if (text.empty() || text.size() > 15) {
        return false;
    }
    std::array<char, 16> buf{};
    text.copy(buf.data(), text.size());
    in_addr out{};
    return ::inet_pton(AF_INET, buf.data(), &out) == 1;
}

bool is_ipv6(std::string_view text) {
    if (text.empty() || text.size() > 45) {
        return false;
    }
    std::array<char, 46> buf{};
    text.copy(buf.data(), text.size());
    in6_addr out{};
    return ::inet_pton(AF_INET6, buf.data(), &out) == 1;
}

std::string check_address(std::string_view text) {
    if (text.empty()) {
        return "must not be empty";
    }
    if (is_ipv4(text) || is_ipv6(text)) {
        return {};
    }
    // Digits and dots only, yet not an IPv4 address: a typo, not a host name.
    if (text.find_first_not_of("0123456789.") == std::string_view::npos) {
        return quoted(text) + " is not a valid IPv4 address";
    }
    if (text.find(':') != std::string_view::npos) {
        return quoted(text) + " is not a valid IPv6 address";
    }
    std::string problem = check_host_name(text);
    if (!problem.empty()) {
        return problem + " (expected an IP address or a host name)";
    }
    return {};
}

std::string check_domain(std::string_view text) {
    if (text.empty()) {
        return "must not be empty";
    }
    if (text.size() > 253 + 6) {
        return quoted(text) + " is too long";
    }
    for (const char c : text) {
        if (c >= 'A' && c <= 'Z') {
            return quoted(text) + " must be lowercase";
        }
    }
    if (text == "*") {
        return {};
    }
    if (text.front() == '*') {
        return check_wildcard_rest(text.substr(1), text);
    }
    if (text.back() == '*') {
        return check_wildcard_rest(text.substr(0, text.size() - 1), text);
    }
    if (text.find('*') != std::string_view::npos) {
        return quoted(text) + ": a wildcard may stand only at the start or the end";
    }
    std::string_view host = text;
    // An optional ":port", after a host name, an IPv4 literal or "[v6]".
    const std::size_t colon = text.rfind(':');
    const bool bracketed = text.front() == '[';
    if (colon != std::string_view::npos && (!bracketed || text[colon - 1] == ']')) {
        const std::string_view port = text.substr(colon + 1);
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value < 1 ||
            value > 65535) {
            return quoted(text) + " has an invalid port (expected 1 to 65535)";
        }
        host = text.substr(0, colon);
    }
    if (bracketed) {
        if (host.size() < 3 || host.back() != ']' || !is_ipv6(host.substr(1, host.size() - 2))) {
            return quoted(text) + " is not a valid bracketed IPv6 address";
        }
        return {};
    }
    if (is_ipv4(host)) {
        return {};
    }
    if (host.find_first_not_of("0123456789.") == std::string_view::npos) {
        return quoted(text) + " is not a valid IPv4 address";
    }
    std::string problem = check_host_name(host);
    if (!problem.empty() && host != text) {
        return quoted(text) + ": " + problem;
    }
    return problem;
}

std::string check_label_key(std::string_view text) {
    if (text.empty()) {
        return "a label key must not be empty";
    }
    std::string_view name = text;
    if (const std::size_t slash = text.find('/'); slash != std::string_view::npos) {
        const std::string_view prefix = text.substr(0, slash);
        if (std::string problem = check_dns1123_subdomain(prefix); !problem.empty()) {
            return "label key " + quoted(text) + ": prefix " + problem;
        }
        name = text.substr(slash + 1);
    }
    if (name.empty() || name.size() > 63) {
        return "label key " + quoted(text) + ": the name must be 1 to 63 characters";
    }
    for (const char c : name) {
        if (!alnum(c) && c != '-' && c != '_' && c != '.') {
            return "label key " + quoted(text) +
                   " may hold only letters, digits, '-', '_', '.' and one '/'";
        }
    }
    if (!alnum(name.front()) || !alnum(name.back())) {
        return "label key " + quoted(text) + " must start and end with a letter or digit";
    }
    return {};
}

std::string check_label_value(std::string_view text) {
    if (text.empty()) {
        return {};
    }
    if (text.size() > 63) {
        return "label value " + quoted(text) + " is longer than 63 characters";
    }
    for (const char c : text) {
        if (!alnum(c) && c != '-' && c != '_' && c != '.') {
            return "label value " + quoted(text) + " may hold only letters, digits, '-', '_', '.'";
        }
    }
    if (!alnum(text.front()) || !alnum(text.back())) {
        return "label value " + quoted(text) + " must start and end with a letter or digit";
    }
    return {};
}

}  // namespace crossover::route_registry
