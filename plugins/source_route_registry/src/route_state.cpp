#include "route_state.h"

#include <charconv>

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

namespace crossover::route_registry {

namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

Object::Ptr parse_json_object(const std::string& text, const std::string& what) {
    try {
        Poco::JSON::Parser parser;
        const Poco::Dynamic::Var v = parser.parse(text);
        if (v.type() != typeid(Object::Ptr)) {
            throw Error(what + ": expected a JSON object");
        }
        return v.extract<Object::Ptr>();
    } catch (const Poco::Exception& e) {
        throw Error(what + ": invalid JSON: " + e.message());
    }
}

std::uint64_t get_u64(const Object::Ptr& o, const std::string& key, const std::string& what) {
    if (!o->has(key) || !o->get(key).isInteger()) {
        throw Error(what + ": '" + key + "' missing or not an integer");
    }
    return o->get(key).convert<std::uint64_t>();
}

}  // namespace

RoutePtr RouteState::find(const std::string& name) const {
    const auto it = routes_.find(name);
    return it == routes_.end() ? nullptr : it->second;
}

void RouteState::check_precondition(const std::string& name,
                                    const Precondition& precondition) const {
    const RoutePtr current = find(name);
    if (precondition.if_none_match_any && current) {
        throw Refused(412, "route '" + name + "' exists (version " +
                               std::to_string(current->version) + ") and If-None-Match is *");
    }
    if (!precondition.if_match) {
        return;
    }
    if (!current) {
        throw Refused(
            412, "route '" + name + "' does not exist, If-Match wants " + *precondition.if_match);
    }
    if (*precondition.if_match == "*") {
        return;
    }
    const auto wanted = parse_etag(*precondition.if_match);
    if (!wanted || *wanted != current->version) {
        throw Refused(412, "route '" + name + "' is at version " +
                               std::to_string(current->version) + ", If-Match wants " +
                               *precondition.if_match);
    }
}

void RouteState::check_put(const Route& route, const Precondition& precondition) const {
    check_precondition(route.name, precondition);
    for (std::size_t i = 0; i < route.domains.size(); ++i) {
        const auto it = domain_owner_.find(route.domains[i]);
        if (it != domain_owner_.end() && it->second != route.name) {
            throw Refused(409, "domains[" + std::to_string(i) + "]: '" + route.domains[i] +
                                   "' belongs to route '" + it->second + "'");
        }
    }
}

void RouteState::check_delete(const std::string& name, const Precondition& precondition) const {
    if (!find(name) && !precondition.if_match) {
        throw Refused(404, "route '" + name + "' does not exist");
    }
    check_precondition(name, precondition);
}

void RouteState::apply_put(RoutePtr stored) {
    const std::string name = stored->route.name;
    if (const RoutePtr old = find(name)) {
        for (const auto& d : old->route.domains) {
            domain_owner_.erase(d);
        }
    }
    for (const auto& d : stored->route.domains) {
        domain_owner_[d] = name;
    }
    routes_[name] = std::move(stored);
}

void RouteState::apply_remove(const std::string& name) {
    const auto it = routes_.find(name);
    if (it == routes_.end()) {
        return;
    }
    for (const auto& d : it->second->route.domains) {
        domain_owner_.erase(d);
    }
    routes_.erase(it);
}

void RouteState::adopt(RoutePtr stored) {
    check_put(stored->route, Precondition{});
    apply_put(std::move(stored));
}

std::string RouteState::put(Route route) {
    auto stored = std::make_shared<StoredRoute>();
    stored->version = ++version_;
    stored->route = std::move(route);
    Object::Ptr record = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    record->set("op", std::string("put"));
    record->set("seq", stored->version);
    record->set("route", route_to_json(stored->route));
    apply_put(std::move(stored));
    return to_json_text(record);
}

std::string RouteState::remove(const std::string& name) {
    Object::Ptr record = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    record->set("op", std::string("delete"));
    record->set("seq", ++version_);
    record->set("name", name);
    apply_remove(name);
    return to_json_text(record);
}

std::string RouteState::snapshot() const {
    Object::Ptr root = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
    root->set("format", 1);
    root->set("version", version_);
    Array::Ptr routes = new Array;
    for (const auto& [name, stored] : routes_) {
        Object::Ptr entry = new Object(Poco::JSON_PRESERVE_KEY_ORDER);
        entry->set("version", stored->version);
        entry->set("route", route_to_json(stored->route));
        routes->add(entry);
    }
    root->set("routes", routes);
    return to_json_text(root);
}

void RouteState::load_snapshot(const std::string& snapshot) {
    const std::string what = "snapshot.json";
    const Object::Ptr root = parse_json_object(snapshot, what);
    if (get_u64(root, "format", what) != 1) {
        throw Error(what + ": unknown format (expected 1)");
    }
    const std::uint64_t version = get_u64(root, "version", what);
    const Array::Ptr routes = root->getArray("routes");
    if (!routes) {
        throw Error(what + ": 'routes' missing or not a list");
    }
    for (std::size_t i = 0; i < routes->size(); ++i) {
        const std::string entry_what = what + ": routes[" + std::to_string(i) + "]";
        const Object::Ptr entry = routes->getObject(static_cast<unsigned>(i));
        if (!entry || !entry->getObject("route")) {
            throw Error(entry_what + ": expected {version, route}");
        }
        auto stored = std::make_shared<StoredRoute>();
        stored->version = get_u64(entry, "version", entry_what);
        try {
            stored->route = parse_route(entry->getObject("route"), "");
        } catch (const InvalidRoute& e) {
            throw Error(entry_what + ": " + e.what());
        }
        if (stored->version > version) {
            throw Error(entry_what + ": version above the snapshot's");
        }
        Precondition none;
        try {
            check_put(stored->route, none);
        } catch (const Refused& e) {
            throw Error(entry_what + ": " + e.what());
        }
        apply_put(std::move(stored));
    }
    version_ = version;
}

void RouteState::replay(const std::string& record, std::size_t index) {
    const std::string what = "journal record " + std::to_string(index);
    const Object::Ptr r = parse_json_object(record, what);
    const std::uint64_t seq = get_u64(r, "seq", what);
    if (seq <= version_) {
        return;  // already in the snapshot
    }
    if (seq != version_ + 1) {
        throw Error(what + ": seq " + std::to_string(seq) + " does not follow " +
                    std::to_string(version_));
    }
    const std::string op = r->has("op") ? r->get("op").toString() : std::string();
    if (op == "put") {
        const Object::Ptr route = r->getObject("route");
        if (!route) {
            throw Error(what + ": 'route' missing");
        }
        Route parsed;
        try {
            parsed = parse_route(route, "");
            check_put(parsed, Precondition{});
        } catch (const Error& e) {
            throw Error(what + ": " + e.what());
        }
        put(std::move(parsed));
    } else if (op == "delete") {
        if (!r->has("name") || !r->get("name").isString()) {
            throw Error(what + ": 'name' missing");
        }
        remove(r->get("name").extract<std::string>());
    } else {
        throw Error(what + ": unknown op '" + op + "'");
    }
}

std::string etag(std::uint64_t version) {
    return "\"" + std::to_string(version) + "\"";
}

std::optional<std::uint64_t> parse_etag(const std::string& text) {
    std::string_view t = text;
    if (t.substr(0, 2) == "W/") {
        t.remove_prefix(2);
    }
    if (t.size() >= 2 && t.front() == '"' && t.back() == '"') {
        t = t.substr(1, t.size() - 2);
    }
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (t.empty() || ec != std::errc() || end != t.data() + t.size()) {
        return std::nullopt;
    }
    return v;
}

}  // namespace crossover::route_registry
