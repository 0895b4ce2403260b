// The state-of-the-world xDS protocol of one stream, without the transport:
// what a client is subscribed to, what it was sent, acknowledged and refused,
// and which response is due next.
//
// Rules (Envoy's xDS protocol; see the plugin's README):
//  - A request whose nonce is neither empty nor the nonce of the latest
//    response of its type is stale and ignored entirely.
//  - A request answering the latest response is an ACK, or a NACK when it
//    carries error_detail (gRPC clients NACK with the new version, so the
//    error alone decides). A refused response is not sent again to this
//    stream until the resources or the subscription change.
//  - LDS and CDS requests without names are wildcard until the client names
//    resources; "*" asks for the wildcard explicitly. Other types get what
//    they name.
//  - A response is due for a type when what the stream would receive (the
//    subscription and the resources it selects) differs from what it was last
//    sent; only the newest state is ever sent, so memory does not grow with
//    the number of changes a slow client misses.
//  - Due responses go out in the ADS order: CDS, EDS, LDS, RDS, then others.
//
// Not thread-safe: the server guards each stream with its own lock.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "discovery_codec.h"
#include "resources.h"

namespace crossover::xds_server {

enum class RequestKind {
    Subscribe,  // a first request for the type, or a subscription change before any response
    Ack,
    Nack,
    Stale,  // nonce of an older response: ignored
};

struct RequestResult {
    RequestKind kind = RequestKind::Subscribe;
    std::string version;  // the version acknowledged or refused
};

// A response the stream is to send now.
struct DueResponse {
    std::string type_url;
    std::string version;
    std::string nonce;
    bool all = false;                   // every resource of the type
    std::vector<ResourcePtr> selected;  // else these
};

class SotwProtocol {
public:
    RequestResult on_request(const Request& request);

    // The next response due against `set`, in ADS order, recorded as sent.
    std::optional<DueResponse> next(const ResourceSet& set);

    // The node the client named in its first request that had one.
    [[nodiscard]] const NodeInfo& node() const { return node_; }
    [[nodiscard]] bool has_node() const { return has_node_; }
    // Types this stream has asked for.
    [[nodiscard]] std::vector<std::string> subscribed_types() const;
    // Version of `type_url` the client last acknowledged ("" if none).
    [[nodiscard]] std::string acked_version(const std::string& type_url) const;

private:
    struct TypeState {
        bool wildcard = false;
        bool named_before = false;  // the client has named resources: no legacy wildcard
        std::set<std::string, std::less<>> names;
        std::string nonce;  // of the latest response sent
        std::string sent_version;
        std::optional<std::uint64_t> sent_view;
        std::optional<std::uint64_t> refused_view;
        std::string acked_version;
    };

    std::uint64_t view_of(const TypeState& state, const TypeResources& resources,
                          std::vector<ResourcePtr>* selected) const;

    std::map<std::string, TypeState, std::less<>> types_;
    NodeInfo node_;
    bool has_node_ = false;
    std::uint64_t nonce_counter_ = 0;
};

}  // namespace crossover::xds_server
