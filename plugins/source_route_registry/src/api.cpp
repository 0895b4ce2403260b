#include "api.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

namespace crossover::route_registry {

namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

Object::Ptr route_body(const StoredRoute& stored) {
    Object::Ptr o = route_to_json(stored.route);
    o->set("version", std::to_string(stored.version));
    return o;
}

Reply json_reply(int status, const Object::Ptr& body) {
    Reply r;
    r.status = status;
    r.body = to_json_text(body);
    return r;
}

Reply route_reply(int status, const StoredRoute& stored) {
    Reply r = json_reply(status, route_body(stored));
    r.headers.emplace_back("ETag", etag(stored.version));
    return r;
}

Precondition precondition_of(const Request& request) {
    Precondition p;
    if (!request.if_match.empty()) {
        p.if_match = request.if_match;
    }
    p.if_none_match_any = request.if_none_match == "*";
    return p;
}

std::string bearer_token(const std::string& authorization) {
    static const std::string scheme = "bearer ";
    if (authorization.size() <= scheme.size()) {
        return {};
    }
    for (std::size_t i = 0; i < scheme.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(authorization[i])) != scheme[i]) {
            return {};
        }
    }
    std::string token = authorization.substr(scheme.size());
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) {
        token.pop_back();
    }
    return token;
}

// "/v1/routes/x" with prefix "/v1/routes/" -> "x"; false when the path is
// not below the prefix or names something deeper.
bool tail_of(const std::string& path, const std::string& prefix, std::string& tail) {
    if (path.compare(0, prefix.size(), prefix) != 0) {
        return false;
    }
    tail = path.substr(prefix.size());
    return !tail.empty() && tail.find('/') == std::string::npos;
}

Reply method_not_allowed(const std::string& allow) {
    Reply r = error_reply(405, "method not allowed");
    r.headers.emplace_back("Allow", allow);
    return r;
}

}  // namespace

Reply error_reply(int status, const std::string& message, const std::string& field) {
    Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    o->set("error", message);
    if (!field.empty()) {
        o->set("field", field);
    }
    return json_reply(status, o);
}

Reply Api::handle(const Request& request) {
    const std::optional<Caller> caller = tokens_.authenticate(bearer_token(request.authorization));
    if (!caller) {
        Reply r = error_reply(401, "unauthorized");
        r.headers.emplace_back("WWW-Authenticate", "Bearer");
        return r;
    }
    const bool write = request.method != "GET" && request.method != "HEAD";
    if (write && caller->access != Access::Write) {
        return error_reply(403, "forbidden");
    }
    if (request.body_too_large) {
        return error_reply(413, "request body larger than " + std::to_string(max_body_) + " bytes");
    }
    // A refused write is logged too: who tried what.
    const auto refused = [&](const Reply& reply) {
        if (write) {
            log_(LogLevel::Info, request.method + " " + request.path + ": refused (" +
                                     std::to_string(reply.status) + ") for " + caller->who +
                                     " from " + request.peer);
        }
        return reply;
    };
    try {
        return route_request(request, *caller);
    } catch (const InvalidRoute& e) {
        return refused(error_reply(400, e.what(), e.field()));
    } catch (const Refused& e) {
        return refused(error_reply(e.status(), e.what()));
    } catch (const std::exception& e) {
        log_(LogLevel::Error, std::string("request failed: ") + e.what());
        return error_reply(500, "internal error");
    }
}

Reply Api::route_request(const Request& request, const Caller& caller) {
    const std::string& m = request.method;
    std::string name;
    if (request.path == "/v1/routes" || request.path == "/v1/routes/") {
        return m == "GET" ? list() : method_not_allowed("GET");
    }
    if (tail_of(request.path, "/v1/routes/", name)) {
        if (m == "GET") {
            return get(name);
        }
        if (m == "PUT") {
            return put(request, caller, name, false);
        }
        if (m == "DELETE") {
            return remove(request, caller, name);
        }
        return method_not_allowed("GET, PUT, DELETE");
    }
    if (request.path == "/xds/tasks") {
        return m == "POST" ? put(request, caller, "", true) : method_not_allowed("POST");
    }
    if (tail_of(request.path, "/xds/tasks/", name)) {
        return m == "DELETE" ? remove(request, caller, name) : method_not_allowed("DELETE");
    }
    return error_reply(404, "no such resource (see /v1/routes)");
}

Reply Api::put(const Request& request, const Caller& caller, const std::string& name, bool task) {
    if (!name.empty()) {
        check_route_name(name, "name");
    }
    Route route = parse_route(request.body, name, limits_);
    const PutResult result = store_.put(std::move(route), precondition_of(request));
    const char* what = result.outcome == PutOutcome::Created    ? "created"
                       : result.outcome == PutOutcome::Replaced ? "replaced"
                                                                : "unchanged";
    log_(LogLevel::Info, std::string(task ? "POST /xds/tasks: " : "PUT: ") + "route '" +
                             result.route->route.name + "' " + what + " (version " +
                             std::to_string(result.route->version) + ") by " + caller.who +
                             " from " + request.peer);
    return route_reply(result.outcome == PutOutcome::Created ? 201 : 200, *result.route);
}

Reply Api::remove(const Request& request, const Caller& caller, const std::string& name) {
    check_route_name(name, "name");
    const std::uint64_t version = store_.remove(name, precondition_of(request));
    log_(LogLevel::Info, "DELETE: route '" + name + "' removed (registry version " +
                             std::to_string(version) + ") by " + caller.who + " from " +
                             request.peer);
    Reply r;
    r.status = 204;
    return r;
}

Reply Api::get(const std::string& name) {
    check_route_name(name, "name");
    const RoutePtr route = store_.get(name);
    if (!route) {
        return error_reply(404, "route '" + name + "' does not exist");
    }
    return route_reply(200, *route);
}

Reply Api::list() {
    const View view = store_.view();
    Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    o->set("version", std::to_string(view.version));
    Array::Ptr routes = new Array;
    for (const auto& [name, stored] : view.routes) {
        routes->add(route_body(*stored));
    }
    o->set("routes", routes);
    Reply r = json_reply(200, o);
    r.headers.emplace_back("ETag", etag(view.version));
    return r;
}

}  // namespace crossover::route_registry
