// The incremental (Delta) xDS protocol of one stream, without the transport:
// per type, what the client subscribed to, which version of each resource it
// holds, and which resources are to be sent or announced as removed.
//
// Rules (Envoy's xDS protocol; see the plugin's README):
//  - resource_names_subscribe / _unsubscribe change the subscription whatever
//    the nonce; "*" subscribes to (or unsubscribes from) every resource. The
//    first request for LDS or CDS without names is a wildcard subscription.
//  - initial_resource_versions (first request of a type, on reconnect) tell
//    what the client already holds: only resources that differ are sent, and
//    those it holds that are gone are announced in removed_resources.
//  - A subscribed name that does not exist is announced removed once, so the
//    client knows at once; an unsubscribed one is simply forgotten.
//  - The response_nonce ACKs or NACKs the latest response of its type; a NACK
//    (any error_detail) keeps the refused versions from being sent again
//    until they change. Older nonces are stale: their ACK/NACK is ignored.
//  - Every subscription is answered once even when there is nothing to send,
//    so that a client waiting for its first response can finish starting.
//
// Not thread-safe: the server guards each stream with its own lock.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "discovery_codec.h"
#include "resources.h"
#include "sotw_protocol.h"

namespace crossover::xds_server {

struct DueDelta {
    std::string type_url;
    std::string system_version;
    std::string nonce;
    std::vector<ResourcePtr> changed;
    std::vector<std::string> removed;
};

class DeltaProtocol {
public:
    RequestResult on_request(const Request& request);

    // The next response due against `set`, in ADS order, recorded as sent.
    std::optional<DueDelta> next(const ResourceSet& set);

    [[nodiscard]] const NodeInfo& node() const { return node_; }
    // The version of `name` the client holds, as far as the server knows ("" if none).
    [[nodiscard]] std::string client_version(const std::string& type_url,
                                             const std::string& name) const;

private:
    struct TypeState {
        bool wildcard = false;
        std::set<std::string, std::less<>> names;
        // What the client holds: name -> version ("" = told it does not exist).
        std::map<std::string, std::string, std::less<>> known;
        std::map<std::string, std::string, std::less<>> refused;  // NACKed versions
        std::map<std::string, std::string, std::less<>> last_sent;
        std::string nonce;
        bool answered = false;  // a response since the subscription last changed
    };

    std::map<std::string, TypeState, std::less<>> types_;
    NodeInfo node_;
    bool has_node_ = false;
    std::uint64_t nonce_counter_ = 0;
};

}  // namespace crossover::xds_server
