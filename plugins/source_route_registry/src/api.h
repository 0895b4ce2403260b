// The registry's HTTP API, apart from the server that carries it:
//
//   PUT    /v1/routes/{name}   create or replace (idempotent)      201 / 200
//   GET    /v1/routes/{name}   one route, ETag = its version        200 / 404
//   DELETE /v1/routes/{name}                                       204 / 404
//   GET    /v1/routes          {"version": "...", "routes": [...]}  200
//   POST   /xds/tasks          PUT with the name in the body ("id" or "name")
//   DELETE /xds/tasks/{id}     DELETE /v1/routes/{id}
//
// If-Match (a version or *) and If-None-Match: * make writes conditional
// (412). Errors are {"error": "...", "field": "..."}; 401 and 403 say no
// more than their status.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "crossover/log.h"
#include "registry.h"  // the file store, the default one callers build
#include "store.h"
#include "tokens.h"

namespace crossover::route_registry {

struct Request {
    std::string method;
    std::string path;  // without the query
    std::string authorization;
    std::string if_match;
    std::string if_none_match;
    std::string body;
    bool body_too_large = false;
    std::string peer;  // "127.0.0.1:53211", for the log
};

struct Reply {
    int status = 200;
    std::string body;  // JSON, or empty
    std::vector<std::pair<std::string, std::string>> headers;
};

class Api {
public:
    using LogFn = std::function<void(LogLevel, std::string_view)>;

    Api(RouteStore& store, TokenFile& tokens, RouteLimits limits, std::size_t max_body, LogFn log)
        : store_(store),
          tokens_(tokens),
          limits_(limits),
          max_body_(max_body),
          log_(std::move(log)) {}

    Reply handle(const Request& request);
    [[nodiscard]] std::size_t max_body() const { return max_body_; }

private:
    Reply route_request(const Request& request, const Caller& caller);
    Reply put(const Request& request, const Caller& caller, const std::string& name, bool task);
    Reply remove(const Request& request, const Caller& caller, const std::string& name);
    Reply get(const std::string& name);
    Reply list();

    RouteStore& store_;
    TokenFile& tokens_;
    RouteLimits limits_;
    std::size_t max_body_;
    LogFn log_;
};

// {"error": message, "field": field}
Reply error_reply(int status, const std::string& message, const std::string& field = {});

}  // namespace crossover::route_registry
