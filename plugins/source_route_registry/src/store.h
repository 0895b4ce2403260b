// Where the registry's routes are kept: the interface the HTTP API and the
// documents use, whichever store is configured (`store: file`, a journal on
// one machine; `store: kubernetes`, custom resources shared by replicas).
//
// Every implementation is thread-safe (HTTP handlers call it concurrently)
// and answers a write only once the store accepted it for good: on disk, or
// by the API server.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "route_state.h"

namespace crossover::route_registry {

enum class PutOutcome { Created, Replaced, Unchanged };

struct PutResult {
    PutOutcome outcome = PutOutcome::Created;
    RoutePtr route;
};

// Every route and the store's version (what GET /v1/routes answers).
struct View {
    std::uint64_t version = 0;
    RouteMap routes;
};

class RouteStore {
public:
    RouteStore() = default;
    virtual ~RouteStore() = default;
    RouteStore(const RouteStore&) = delete;
    RouteStore& operator=(const RouteStore&) = delete;
    RouteStore(RouteStore&&) = delete;
    RouteStore& operator=(RouteStore&&) = delete;

    // Create or replace a route. Throws Refused (404, 409, 412, 503) or
    // InvalidRoute.
    virtual PutResult put(Route route, const Precondition& precondition) = 0;
    // Remove a route; returns the store's version after the removal. Throws
    // Refused.
    virtual std::uint64_t remove(const std::string& name, const Precondition& precondition) = 0;
    // One route, nullptr when there is none. Throws Refused (503).
    virtual RoutePtr get(const std::string& name) = 0;
    // Every route. Throws Refused (503).
    virtual View view() = 0;

    // Called after every change of the routes (from the thread that saw it).
    virtual void on_change(std::function<void()> callback) = 0;

    // True once the store cannot go on without being built again.
    [[nodiscard]] virtual bool failed() const = 0;
};

}  // namespace crossover::route_registry
