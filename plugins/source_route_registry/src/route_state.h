// The registry's state in memory: routes by name, each with the version of
// its last write, the owner of every domain, and the registry's version (one
// more per write). Not thread-safe: the stores guard it.
//
// Changes are recorded as JSON records, the same ones the journal holds:
//   {"op":"put","seq":7,"route":{...}}   {"op":"delete","seq":8,"name":"user-123"}
// and the whole state as a snapshot:
//   {"format":1,"version":8,"routes":[{"version":7,"route":{...}}, ...]}
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "route.h"

namespace crossover::route_registry {

struct StoredRoute {
    Route route;
    std::uint64_t version = 0;
};

using RoutePtr = std::shared_ptr<const StoredRoute>;
using RouteMap = std::map<std::string, RoutePtr>;

// A refused change, with the HTTP status that says why.
class Refused : public Error {
public:
    Refused(int status, const std::string& message) : Error(message), status_(status) {}
    [[nodiscard]] int status() const noexcept { return status_; }

private:
    int status_;
};

// Optimistic concurrency: If-Match / If-None-Match of a request.
struct Precondition {
    std::optional<std::string> if_match;  // a version, or "*"
    bool if_none_match_any = false;       // If-None-Match: *
};

class RouteState {
public:
    [[nodiscard]] std::uint64_t version() const noexcept { return version_; }
    [[nodiscard]] const RouteMap& routes() const noexcept { return routes_; }
    [[nodiscard]] RoutePtr find(const std::string& name) const;

    // Throws Refused: 412 when the precondition fails, 404 for a delete of a
    // missing route, 409 when a domain belongs to another route.
    void check_put(const Route& route, const Precondition& precondition) const;
    void check_delete(const std::string& name, const Precondition& precondition) const;

    // Apply a checked change at version() + 1; return the record to journal.
    std::string put(Route route);
    std::string remove(const std::string& name);

    // The state as a snapshot document.
    [[nodiscard]] std::string snapshot() const;

    // Rebuilds the state from a snapshot and the journal's records (those at
    // or below the snapshot's version are skipped). Throws Error naming the
    // record at fault.
    void load_snapshot(const std::string& snapshot);
    void replay(const std::string& record, std::size_t index);

    // Adds a route kept elsewhere (the Kubernetes store) with its own
    // version. Throws Refused (409) when a domain belongs to another route.
    void adopt(RoutePtr stored);
    void set_version(std::uint64_t version) noexcept { version_ = version; }

private:
    void check_precondition(const std::string& name, const Precondition& precondition) const;
    void apply_put(RoutePtr stored);
    void apply_remove(const std::string& name);

    RouteMap routes_;
    std::map<std::string, std::string> domain_owner_;
    std::uint64_t version_ = 0;
};

// "\"7\"" for ETag headers, and back ("7", "\"7\"", "W/\"7\"").
std::string etag(std::uint64_t version);
std::optional<std::uint64_t> parse_etag(const std::string& text);

}  // namespace crossover::route_registry
