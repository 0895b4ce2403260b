// The resources an xDS server serves: immutable sets, keyed by type URL and
// resource name, with a version per type and per resource.
//
// A ResourceSet is built once per pipeline output on the engine thread and
// then shared read-only by every stream (std::shared_ptr<const ResourceSet>),
// so a push to a thousand streams copies no resource bytes: each resource
// keeps its `resources` entry of a DiscoveryResponse already encoded.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "crossover_envoy/xds.h"

namespace crossover::xds_server {

// Envoy's v3 type URLs for the four resource kinds the ADS order covers.
inline constexpr std::string_view kClusterType = xds::type_url_view(xds::ResourceKind::Cluster);
inline constexpr std::string_view kEndpointType =
    xds::type_url_view(xds::ResourceKind::ClusterLoadAssignment);
inline constexpr std::string_view kListenerType = xds::type_url_view(xds::ResourceKind::Listener);
inline constexpr std::string_view kRouteType =
    xds::type_url_view(xds::ResourceKind::RouteConfiguration);

// Position of a type in the order ADS pushes changes ("make before break"):
// clusters, endpoints, listeners, routes, then any other type.
int push_rank(std::string_view type_url) noexcept;

// The entries of a map keyed by type URL, in push order (by push_rank, then by
// type URL): what a stream considers sending first.
template <class TypeMap>
std::vector<typename TypeMap::value_type*> in_push_order(TypeMap& types) {
    std::vector<typename TypeMap::value_type*> order;
    order.reserve(types.size());
    for (auto& entry : types) {
        order.push_back(&entry);
    }
    std::sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
        const int rank_a = push_rank(a->first);
        const int rank_b = push_rank(b->first);
        return rank_a != rank_b ? rank_a < rank_b : a->first < b->first;
    });
    return order;
}

// True for the v3 type URL of an xDS resource kind ("type.googleapis.com/"
// + a type of crossover_envoy/xds.h's table); requests for other types are ignored.
bool served_type(std::string_view type_url) noexcept;

// Types a client may subscribe to without naming resources (legacy wildcard).
bool wildcard_by_default(std::string_view type_url) noexcept;

// A content hash, printed as 16 hex digits: the same bytes give the same
// version in every process, so replicas serving the same state agree.
std::string content_version(std::string_view bytes);

struct Resource {
    std::string name;
    std::string type_url;
    std::string value;    // the serialized message (deterministic serialization)
    std::string version;  // content_version(value)
    std::string origin;   // the document it came from, for messages
    // This resource as one `resources` entry of a state-of-the-world
    // DiscoveryResponse (field tag, length, google.protobuf.Any).
    std::string sotw_entry;
};
using ResourcePtr = std::shared_ptr<const Resource>;

struct TypeResources {
    std::string type_url;
    // Changes exactly when a resource of this type is added, removed or changed.
    std::string version;
    std::map<std::string, ResourcePtr, std::less<>> by_name;
    // Every sotw_entry in name order: the body of a wildcard response.
    std::string all_entries;
};

class ResourceSet {
public:
    // Takes the resources of one output; names must be unique per type (the
    // caller reports duplicates with their documents).
    explicit ResourceSet(std::vector<ResourcePtr> resources);

    // The resources of `type_url`, or an empty set with its own version.
    [[nodiscard]] const TypeResources& type(std::string_view type_url) const;
    [[nodiscard]] const std::map<std::string, TypeResources, std::less<>>& types() const {
        return types_;
    }

private:
    std::map<std::string, TypeResources, std::less<>> types_;
    TypeResources empty_;
};
using ResourceSetPtr = std::shared_ptr<const ResourceSet>;

}  // namespace crossover::xds_server
