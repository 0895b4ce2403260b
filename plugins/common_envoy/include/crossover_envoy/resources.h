// The resources of a DiscoveryResponse document, as protobuf messages: what
// the xDS server sink sends and what envoy_validate checks.
//
//   crossover::envoy::Api api(crossover::envoy::default_api_dir());
//   auto decoded = crossover::envoy::decode_resources(api, *document);
//   if (!decoded.ok()) { /* decoded.errors name document, resource and field */ }
//   for (const auto& r : decoded.resources) send(r.type_url, r.name, r.serialized());
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "crossover/snapshot.h"
#include "crossover_envoy/api.h"

namespace crossover::envoy {

struct DecodedResource {
    std::size_t index = 0;  // position in `resources`
    std::string type_url;   // as written in "@type": "type.googleapis.com/envoy.config..."
    std::string name;       // `name` (`cluster_name` of a ClusterLoadAssignment); may be empty
    std::unique_ptr<pb::Message> message;  // of the type the URL names, from api.pool()

    // The message's bytes: the `value` of the google.protobuf.Any that
    // carries it in a DiscoveryResponse.
    [[nodiscard]] std::string serialized() const { return message->SerializeAsString(); }
};

struct DecodedDocument {
    std::string version_info;  // the document's `version_info`, may be empty
    std::vector<DecodedResource> resources;
    // Each "document rds.yaml (ConfigMap ns/name): resource "local_route":
    // resources[0].virtual_hosts[0].name: <problem>", capped at max_errors
    // (the last entry then says how many more there were). A resource with
    // errors is left out of `resources`.
    std::vector<std::string> errors;
    [[nodiscard]] bool ok() const { return errors.empty(); }
};

// Reads every resource of a DiscoveryResponse document (YAML or JSON). A
// document that does not parse, whose root is not a map or whose
// `resources` is not a list gives one error and no resources.
DecodedDocument decode_resources(const Api& api, const Document& document,
                                 std::size_t max_errors = 20);

}  // namespace crossover::envoy
