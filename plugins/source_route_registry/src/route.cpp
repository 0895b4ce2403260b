#include "route.h"

#include <set>
#include <sstream>

#include <Poco/Dynamic/Var.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include "crossover/options.h"
#include "names.h"

namespace crossover::route_registry {

namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Array;
using Poco::JSON::Object;

constexpr std::int64_t kMaxTimeoutMs = 24LL * 3600 * 1000;
constexpr std::size_t kMaxPrefix = 1024;
constexpr std::uint32_t kMaxWeight = 1000000;

std::string index_path(const std::string& field, std::size_t i) {
    return field + "[" + std::to_string(i) + "]";
}

const char* type_of(const Var& v) {
    if (v.isEmpty()) {
        return "null";
    }
    if (v.type() == typeid(Object::Ptr)) {
        return "an object";
    }
    if (v.type() == typeid(Array::Ptr)) {
        return "a list";
    }
    if (v.isBoolean()) {
        return "a boolean";
    }
    if (v.isString()) {
        return "a string";
    }
    if (v.isNumeric()) {
        return "a number";
    }
    return "an unknown value";
}

std::string string_at(const Var& v, const std::string& field) {
    if (!v.isString()) {
        throw InvalidRoute(field, std::string("expected a string, got ") + type_of(v));
    }
    return v.extract<std::string>();
}

Object::Ptr object_at(const Var& v, const std::string& field) {
    if (v.type() != typeid(Object::Ptr)) {
        throw InvalidRoute(field, std::string("expected an object, got ") + type_of(v));
    }
    return v.extract<Object::Ptr>();
}

Array::Ptr array_at(const Var& v, const std::string& field) {
    if (v.type() != typeid(Array::Ptr)) {
        throw InvalidRoute(field, std::string("expected a list, got ") + type_of(v));
    }
    return v.extract<Array::Ptr>();
}

// An integer in [min, max]; floats with a fraction, strings and booleans are
// refused.
std::int64_t integer_at(const Var& v, const std::string& field, std::int64_t min,
                        std::int64_t max) {
    if (!v.isInteger() || v.isBoolean()) {
        throw InvalidRoute(field, std::string("expected an integer, got ") + type_of(v));
    }
    std::int64_t value = 0;
    if (v.isSigned()) {
        value = v.convert<std::int64_t>();
    } else {
        const auto u = v.convert<std::uint64_t>();
        value = u > static_cast<std::uint64_t>(max) ? max + 1 : static_cast<std::int64_t>(u);
    }
    if (value < min || value > max) {
        throw InvalidRoute(field, std::to_string(value) + " is out of range " +
                                      std::to_string(min) + " to " + std::to_string(max));
    }
    return value;
}

void refuse_unknown(const Object::Ptr& object, const std::set<std::string>& known,
                    const std::string& prefix) {
    for (const auto& [key, value] : *object) {
        if (known.count(key) == 0) {
            std::string list;
            for (const auto& k : known) {
                list += list.empty() ? "" : ", ";
                list += k;
            }
            throw InvalidRoute(prefix.empty() ? key : prefix + "." + key,
                               "unknown field (expected one of " + list + ")");
        }
    }
}

void check(const std::string& problem, const std::string& field) {
    if (!problem.empty()) {
        throw InvalidRoute(field, problem);
    }
}

std::vector<std::string> parse_domains(const Var& v, const RouteLimits& limits) {
    const Array::Ptr list = array_at(v, "domains");
    if (list->size() == 0) {
        throw InvalidRoute("domains", "give at least one domain");
    }
    if (list->size() > limits.max_domains) {
        throw InvalidRoute("domains",
                           "at most " + std::to_string(limits.max_domains) + " domains per route");
    }
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < list->size(); ++i) {
        const std::string field = index_path("domains", i);
        std::string d = string_at(list->get(static_cast<unsigned>(i)), field);
        check(check_domain(d), field);
        if (!seen.insert(d).second) {
            throw InvalidRoute(field, "'" + d + "' is listed twice");
        }
        out.push_back(std::move(d));
    }
    return out;
}

std::vector<Endpoint> parse_endpoints(const Var& v, const RouteLimits& limits) {
    const Array::Ptr list = array_at(v, "endpoints");
    if (list->size() == 0) {
        throw InvalidRoute("endpoints", "give at least one endpoint");
    }
    if (list->size() > limits.max_endpoints) {
        throw InvalidRoute("endpoints", "at most " + std::to_string(limits.max_endpoints) +
                                            " endpoints per route");
    }
    static const std::set<std::string> known{"address", "port", "weight"};
    std::vector<Endpoint> out;
    for (std::size_t i = 0; i < list->size(); ++i) {
        const std::string field = index_path("endpoints", i);
        const Object::Ptr e = object_at(list->get(static_cast<unsigned>(i)), field);
        refuse_unknown(e, known, field);
        Endpoint ep;
        if (!e->has("address")) {
            throw InvalidRoute(field + ".address", "missing");
        }
        ep.address = string_at(e->get("address"), field + ".address");
        check(check_address(ep.address), field + ".address");
        if (!e->has("port")) {
            throw InvalidRoute(field + ".port", "missing");
        }
        ep.port = static_cast<std::uint32_t>(integer_at(e->get("port"), field + ".port", 1, 65535));
        if (e->has("weight")) {
            ep.weight = static_cast<std::uint32_t>(
                integer_at(e->get("weight"), field + ".weight", 1, kMaxWeight));
        }
        for (std::size_t j = 0; j < out.size(); ++j) {
            if (out[j].address == ep.address && out[j].port == ep.port) {
                throw InvalidRoute(field, ep.address + ":" + std::to_string(ep.port) +
                                              " is the same endpoint as endpoints[" +
                                              std::to_string(j) + "]");
            }
        }
        out.push_back(std::move(ep));
    }
    return out;
}

Protocol parse_protocol(const Var& v) {
    const std::string p = string_at(v, "protocol");
    if (p == "http1") {
        return Protocol::Http1;
    }
    if (p == "http2") {
        return Protocol::Http2;
    }
    if (p == "grpc") {
        return Protocol::Grpc;
    }
    throw InvalidRoute("protocol", "expected one of http1, http2, grpc, got '" + p + "'");
}

std::string parse_prefix(const Var& v) {
    std::string p = string_at(v, "prefix");
    if (p.empty() || p.front() != '/') {
        throw InvalidRoute("prefix", "must start with '/'");
    }
    if (p.size() > kMaxPrefix) {
        throw InvalidRoute("prefix", "longer than " + std::to_string(kMaxPrefix) + " characters");
    }
    for (const char c : p) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f || c == '#' || c == '?') {
            throw InvalidRoute("prefix", "may not hold spaces, control characters, '?' or '#'");
        }
    }
    return p;
}

std::chrono::milliseconds parse_timeout(const Var& v) {
    const std::string text = string_at(v, "timeout");
    std::chrono::milliseconds out{0};
    if (!parse_duration(text, out)) {
        throw InvalidRoute("timeout", "'" + text + "' is not a duration such as 250ms, 15s or 1m");
    }
    if (out.count() > kMaxTimeoutMs) {
        throw InvalidRoute("timeout", "'" + text + "' is longer than 24h");
    }
    return out;
}

std::map<std::string, std::string> parse_labels(const Var& v, const RouteLimits& limits) {
    const Object::Ptr o = object_at(v, "labels");
    if (o->size() > limits.max_labels) {
        throw InvalidRoute("labels", "at most " + std::to_string(limits.max_labels) + " labels");
    }
    std::map<std::string, std::string> out;
    for (const auto& [key, value] : *o) {
        const std::string field = "labels[\"" + key + "\"]";
        check(check_label_key(key), field);
        std::string text = string_at(value, field);
        check(check_label_value(text), field);
        out.emplace(key, std::move(text));
    }
    return out;
}

}  // namespace

const char* protocol_name(Protocol protocol) noexcept {
    switch (protocol) {
        case Protocol::Http1: return "http1";
        case Protocol::Http2: return "http2";
        case Protocol::Grpc: return "grpc";
    }
    return "http1";
}

bool Route::has_host_names() const {
    for (const auto& e : endpoints) {
        if (!is_ipv4(e.address) && !is_ipv6(e.address)) {
            return true;
        }
    }
    return false;
}

InvalidRoute::InvalidRoute(std::string field, const std::string& problem)
    : Error(field.empty() ? problem : field + ": " + problem), field_(std::move(field)) {}

void check_route_name(std::string_view name, const std::string& field) {
    check(check_dns1123_subdomain(name), field);
}

Route parse_route(std::string_view body, const std::string& name, const RouteLimits& limits) {
    Var parsed;
    try {
        Poco::JSON::Parser parser;
        parsed = parser.parse(std::string(body));
    } catch (const Poco::Exception& e) {
        throw InvalidRoute("", "invalid JSON: " + e.message());
    } catch (const std::exception& e) {
        throw InvalidRoute("", std::string("invalid JSON: ") + e.what());
    }
    if (parsed.type() != typeid(Object::Ptr)) {
        throw InvalidRoute("", std::string("expected a JSON object, got ") + type_of(parsed));
    }
    return parse_route(parsed.extract<Object::Ptr>(), name, limits);
}

Route parse_route(const Object::Ptr& object, const std::string& name, const RouteLimits& limits) {
    static const std::set<std::string> known{"name",      "id",       "version", "domains",
                                             "endpoints", "protocol", "prefix",  "timeout",
                                             "tls",       "labels"};
    refuse_unknown(object, known, "");
    Route r;
    for (const char* key : {"name", "id"}) {
        if (!object->has(key)) {
            continue;
        }
        std::string given = string_at(object->get(key), key);
        if (!r.name.empty() && given != r.name) {
            throw InvalidRoute(key, "'" + given + "' differs from name '" + r.name + "'");
        }
        if (!name.empty() && given != name) {
            throw InvalidRoute(key,
                               "'" + given + "' differs from the name in the URL '" + name + "'");
        }
        r.name = std::move(given);
    }
    if (!name.empty()) {
        r.name = name;
    }
    if (r.name.empty()) {
        throw InvalidRoute("name", "missing");
    }
    check_route_name(r.name, "name");
    if (!object->has("domains")) {
        throw InvalidRoute("domains", "missing");
    }
    r.domains = parse_domains(object->get("domains"), limits);
    if (!object->has("endpoints")) {
        throw InvalidRoute("endpoints", "missing");
    }
    r.endpoints = parse_endpoints(object->get("endpoints"), limits);
    if (object->has("protocol")) {
        r.protocol = parse_protocol(object->get("protocol"));
    }
    if (object->has("prefix")) {
        r.prefix = parse_prefix(object->get("prefix"));
    }
    if (object->has("timeout")) {
        r.timeout = parse_timeout(object->get("timeout"));
    }
    if (object->has("tls")) {
        const Object::Ptr tls = object_at(object->get("tls"), "tls");
        refuse_unknown(tls, {"sni"}, "tls");
        r.tls = true;
        if (tls->has("sni")) {
            r.sni = string_at(tls->get("sni"), "tls.sni");
            check(check_host_name(r.sni), "tls.sni");
        }
    }
    if (object->has("labels")) {
        r.labels = parse_labels(object->get("labels"), limits);
    }
    return r;
}

Poco::JSON::Object::Ptr route_to_json(const Route& route) {
    Object::Ptr o = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    o->set("name", route.name);
    Array::Ptr domains = new Array;
    for (const auto& d : route.domains) {
        domains->add(d);
    }
    o->set("domains", domains);
    Array::Ptr endpoints = new Array;
    for (const auto& e : route.endpoints) {
        Object::Ptr ep = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
        ep->set("address", e.address);
        ep->set("port", static_cast<int>(e.port));
        if (e.weight != 0) {
            ep->set("weight", static_cast<std::int64_t>(e.weight));
        }
        endpoints->add(ep);
    }
    o->set("endpoints", endpoints);
    o->set("protocol", std::string(protocol_name(route.protocol)));
    if (!route.prefix.empty()) {
        o->set("prefix", route.prefix);
    }
    if (route.timeout) {
        o->set("timeout", format_duration(*route.timeout));
    }
    if (route.tls) {
        Object::Ptr tls = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
        if (!route.sni.empty()) {
            tls->set("sni", route.sni);
        }
        o->set("tls", tls);
    }
    if (!route.labels.empty()) {
        Object::Ptr labels = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
        for (const auto& [k, v] : route.labels) {
            labels->set(k, v);
        }
        o->set("labels", labels);
    }
    return o;
}

std::string to_json_text(const Poco::JSON::Object::Ptr& object) {
    std::ostringstream out;
    Poco::JSON::Stringifier::condense(object, out);
    return out.str();
}

std::string format_duration(std::chrono::milliseconds duration) {
    const std::int64_t ms = duration.count();
    if (ms == 0) {
        return "0s";
    }
    if (ms % 1000 != 0) {
        return std::to_string(ms) + "ms";
    }
    return std::to_string(ms / 1000) + "s";
}

}  // namespace crossover::route_registry
