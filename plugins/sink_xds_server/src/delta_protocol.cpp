#include "delta_protocol.h"

#include <algorithm>
#include <tuple>
#include <utility>

namespace crossover::xds_server {

RequestResult DeltaProtocol::on_request(const Request& request) {
    if (request.has_node && !has_node_) {
        node_ = request.node;
        has_node_ = true;
    }
    const bool first = types_.find(request.type_url) == types_.end();
    TypeState& t = types_[request.type_url];
    RequestResult result;
    if (!request.response_nonce.empty()) {
        if (request.response_nonce != t.nonce) {
            result.kind = RequestKind::Stale;
        } else if (request.has_error) {
            result.kind = RequestKind::Nack;
            t.refused = t.last_sent;
        } else {
            result.kind = RequestKind::Ack;
            t.refused.clear();
        }
    }
    if (first) {
        for (const auto& [name, version] : request.initial_versions) {
            t.known[name] = version;
        }
        if (request.subscribe.empty() && wildcard_by_default(request.type_url)) {
            t.wildcard = true;
        }
    }
    // A subscription that grows is answered, even with nothing to send.
    for (const auto& name : request.subscribe) {
        if (name == "*") {
            t.answered = t.answered && t.wildcard;
            t.wildcard = true;
        } else if (t.names.insert(name).second) {
            t.answered = false;
        }
    }
    for (const auto& name : request.unsubscribe) {
        if (name == "*") {
            t.wildcard = false;
        } else {
            t.names.erase(name);
        }
    }
    // Forget what the client no longer asks for: it drops those resources itself.
    if (!t.wildcard) {
        for (auto it = t.known.begin(); it != t.known.end();) {
            it = t.names.count(it->first) == 0 ? t.known.erase(it) : std::next(it);
        }
    }
    return result;
}

std::optional<DueDelta> DeltaProtocol::next(const ResourceSet& set) {
    for (auto* entry : in_push_order(types_)) {
        const std::string* type_url = &entry->first;
        TypeState& t = entry->second;
        if (!t.wildcard && t.names.empty()) {
            continue;
        }
        const TypeResources& resources = set.type(*type_url);
        DueDelta due;
        const auto consider = [&](const std::string& name) {
            const auto it = resources.by_name.find(name);
            const auto held = t.known.find(name);
            if (it != resources.by_name.end()) {
                const std::string& version = it->second->version;
                const auto refused = t.refused.find(name);
                if ((held == t.known.end() || held->second != version) &&
                    (refused == t.refused.end() || refused->second != version)) {
                    due.changed.push_back(it->second);
                }
            } else if (held == t.known.end() ? t.names.count(name) != 0 : !held->second.empty()) {
                due.removed.push_back(name);
            }
        };
        if (t.wildcard) {
            for (const auto& [name, r] : resources.by_name) {
                consider(name);
            }
        }
        for (const auto& name : t.names) {
            if (!t.wildcard || resources.by_name.count(name) == 0) {
                consider(name);
            }
        }
        if (t.wildcard) {
            // Held resources that are gone (and not named: those were considered).
            for (const auto& [name, version] : t.known) {
                if (!version.empty() && resources.by_name.count(name) == 0 &&
                    t.names.count(name) == 0) {
                    due.removed.push_back(name);
                }
            }
        }
        if (due.changed.empty() && due.removed.empty() && t.answered) {
            continue;
        }
        t.answered = true;
        t.last_sent.clear();
        for (const auto& r : due.changed) {
            t.known[r->name] = r->version;
            t.last_sent[r->name] = r->version;
        }
        for (const auto& name : due.removed) {
            if (t.names.count(name) != 0) {
                t.known[name] = "";  // told: it does not exist
            } else {
                t.known.erase(name);
            }
        }
        due.type_url = *type_url;
        due.system_version = resources.version;
        due.nonce = std::to_string(++nonce_counter_);
        t.nonce = due.nonce;
        return due;
    }
    return std::nullopt;
}

std::string DeltaProtocol::client_version(const std::string& type_url,
                                          const std::string& name) const {
    const auto t = types_.find(type_url);
    if (t == types_.end()) {
        return {};
    }
    const auto it = t->second.known.find(name);
    return it != t->second.known.end() ? it->second : std::string();
}

}  // namespace crossover::xds_server
