// A registered route: what a program sends (JSON) and what the registry keeps.
//
//   {"domains": ["session-123.example.org"],
//    "endpoints": [{"address": "10.1.2.3", "port": 50051, "weight": 1}],
//    "protocol": "grpc", "prefix": "/", "timeout": "15s",
//    "tls": {"sni": "session-123.internal"}, "labels": {"team": "games"}}
//
// parse_route checks every field and throws InvalidRoute naming the first
// field at fault ("endpoints[1].port: 70000 is out of range 1 to 65535").
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <Poco/JSON/Object.h>

#include "crossover/status.h"

namespace crossover::route_registry {

enum class Protocol { Http1, Http2, Grpc };

const char* protocol_name(Protocol protocol) noexcept;

struct Endpoint {
    std::string address;  // IP literal or host name
    std::uint32_t port = 0;
    std::uint32_t weight = 0;  // 0: not given
    bool operator==(const Endpoint&) const = default;
};

struct Route {
    std::string name;
    std::vector<std::string> domains;
    std::vector<Endpoint> endpoints;
    Protocol protocol = Protocol::Http1;
    std::string prefix;  // empty: not given ("/")
    std::optional<std::chrono::milliseconds> timeout;
    bool tls = false;
    std::string sni;  // with tls; empty: no SNI
    std::map<std::string, std::string> labels;
    bool operator==(const Route&) const = default;

    // True when any endpoint is a host name rather than an IP literal.
    [[nodiscard]] bool has_host_names() const;
};

// A route (or request) Envoy or the registry cannot take. `field` is the
// path of the offending field ("endpoints[0].port"), empty for the body as a
// whole; what() is "field: problem".
class InvalidRoute : public Error {
public:
    InvalidRoute(std::string field, const std::string& problem);
    [[nodiscard]] const std::string& field() const noexcept { return field_; }

private:
    std::string field_;
};

// Limits a route must stay within.
struct RouteLimits {
    std::size_t max_domains = 100;
    std::size_t max_endpoints = 1000;
    std::size_t max_labels = 64;
};

// Checks a route name (the path segment or the "name"/"id" field).
void check_route_name(std::string_view name, const std::string& field = "name");

// Parses and checks a JSON body. `name` is the route name from the URL, or
// empty when the body must carry it (as "name" or "id"). A "name" in the body
// that differs from the URL's is an error. A "version" member is ignored (a
// GET's answer can be sent back as is).
Route parse_route(std::string_view body, const std::string& name, const RouteLimits& limits = {});
Route parse_route(const Poco::JSON::Object::Ptr& object, const std::string& name,
                  const RouteLimits& limits = {});

// The route as a JSON object (without version), the registry's canonical form.
Poco::JSON::Object::Ptr route_to_json(const Route& route);
std::string to_json_text(const Poco::JSON::Object::Ptr& object);

// "15s", "250ms", "1m30s" back from a duration.
std::string format_duration(std::chrono::milliseconds duration);

}  // namespace crossover::route_registry
