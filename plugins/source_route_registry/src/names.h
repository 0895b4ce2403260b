// Syntax checks for the names a route carries: route names, host names,
// Envoy domains, IP literals and Kubernetes labels. Each returns an empty
// string when the text is valid, else the problem in a few words, so the
// caller can prefix it with the field's path.
#pragma once

#include <string>
#include <string_view>

namespace crossover::route_registry {

// A DNS-1123 subdomain, as Kubernetes object names: at most 253 characters,
// lowercase letters, digits, '-' and '.', starting and ending with a letter
// or digit.
std::string check_dns1123_subdomain(std::string_view text);

// A host name: dot-separated DNS-1123 labels (each 1 to 63 characters of
// lowercase letters, digits and '-', not starting or ending with '-'), at
// most 253 characters in all.
std::string check_host_name(std::string_view text);

bool is_ipv4(std::string_view text);
bool is_ipv6(std::string_view text);

// An upstream address: an IPv4 or IPv6 literal, or a host name.
std::string check_address(std::string_view text);

// A virtual host domain as Envoy matches it: "*", a suffix wildcard
// ("*.example.org", "*-prod.example.org"), a prefix wildcard ("example.*"),
// or a host name, IPv4 literal or bracketed IPv6 literal with an optional
// ":port". Lowercase only (Envoy compares domains case-insensitively, so two
// spellings of one name would be one domain).
std::string check_domain(std::string_view text);

// A Kubernetes label key ("app", "example.org/team") and value.
std::string check_label_key(std::string_view text);
std::string check_label_value(std::string_view text);

}  // namespace crossover::route_registry
