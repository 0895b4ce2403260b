#include "sotw_protocol.h"

#include <algorithm>
#include <functional>
#include <string_view>

namespace crossover::xds_server {

namespace {

void mix(std::uint64_t& h, std::string_view bytes) {
    // Views stay inside the process: std::hash is enough to tell them apart.
    h ^= std::hash<std::string_view>{}(bytes) + 0x9e3779b97f4a7c15ULL + (h << 6U) + (h >> 2U);
}

}  // namespace

RequestResult SotwProtocol::on_request(const Request& request) {
    if (request.has_node && !has_node_) {
        node_ = request.node;
        has_node_ = true;
    }
    RequestResult result;
    const auto known = types_.find(request.type_url);
    if (!request.response_nonce.empty() &&
        (known == types_.end() || request.response_nonce != known->second.nonce)) {
        result.kind = RequestKind::Stale;
        return result;
    }
    TypeState& t = types_[request.type_url];
    if (!request.response_nonce.empty()) {
        result.version = t.sent_version;
        if (request.has_error) {
            result.kind = RequestKind::Nack;
            t.refused_view = t.sent_view;
        } else {
            result.kind = RequestKind::Ack;
            t.acked_version = t.sent_version;
            t.refused_view.reset();
        }
    }
    bool star = false;
    std::set<std::string, std::less<>> names;
    for (const auto& n : request.resource_names) {
        if (n == "*") {
            star = true;
        } else {
            names.insert(n);
        }
    }
    if (!names.empty()) {
        t.named_before = true;
    }
    t.wildcard =
        star || (names.empty() && !t.named_before && wildcard_by_default(request.type_url));
    t.names = std::move(names);
    return result;
}

std::uint64_t SotwProtocol::view_of(const TypeState& state, const TypeResources& resources,
                                    std::vector<ResourcePtr>* selected) const {
    std::uint64_t h = 0;
    if (state.wildcard) {
        mix(h, "*");
        mix(h, resources.version);
    }
    for (const auto& name : state.names) {
        mix(h, name);
        if (state.wildcard) {
            continue;
        }
        const auto it = resources.by_name.find(name);
        if (it != resources.by_name.end()) {
            mix(h, it->second->version);
            if (selected != nullptr) {
                selected->push_back(it->second);
            }
        } else {
            mix(h, "-");
        }
    }
    return h;
}

std::optional<DueResponse> SotwProtocol::next(const ResourceSet& set) {
    for (auto* entry : in_push_order(types_)) {
        const std::string* type_url = &entry->first;
        TypeState& t = entry->second;
        if (!t.wildcard && t.names.empty()) {
            // Nothing subscribed (gRPC clients unsubscribe with an empty
            // list): nothing to send, and a later subscription starts afresh.
            t.sent_view.reset();
            continue;
        }
        const TypeResources& resources = set.type(*type_url);
        const std::uint64_t view = view_of(t, resources, nullptr);
        if ((t.sent_view && *t.sent_view == view) || (t.refused_view && *t.refused_view == view)) {
            continue;
        }
        DueResponse due;
        due.type_url = *type_url;
        due.version = resources.version;
        due.all = t.wildcard;
        if (!t.wildcard) {
            view_of(t, resources, &due.selected);
        }
        due.nonce = std::to_string(++nonce_counter_);
        t.nonce = due.nonce;
        t.sent_view = view;
        t.sent_version = due.version;
        return due;
    }
    return std::nullopt;
}

std::vector<std::string> SotwProtocol::subscribed_types() const {
    std::vector<std::string> out;
    out.reserve(types_.size());
    for (const auto& [type_url, state] : types_) {
        out.push_back(type_url);
    }
    return out;
}

std::string SotwProtocol::acked_version(const std::string& type_url) const {
    const auto it = types_.find(type_url);
    return it != types_.end() ? it->second.acked_version : std::string();
}

}  // namespace crossover::xds_server
