// From the sink's input documents to a ResourceSet: each document is a
// DiscoveryResponse read with common_envoy (the one way from a document to
// messages in the tree); its resources are keyed by (type URL, name).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "crossover/snapshot.h"
#include "crossover_envoy/api.h"
#include "discovery_codec.h"
#include "resources.h"

namespace crossover::xds_server {

class ResourceReader {
public:
    ResourceReader(const envoy::Api& api, const DiscoveryCodec& codec) : api_(api), codec_(codec) {}

    // The resources of every document (or of those `include` accepts).
    // Throws crossover::Error listing the problems (document, resource,
    // field) when any document is refused or two documents define the same
    // resource.
    ResourceSetPtr read(const Snapshot& snapshot,
                        const std::function<bool(const std::string&)>& include = {});

private:
    struct Cached {
        std::string content;
        std::vector<ResourcePtr> resources;
    };
    std::vector<ResourcePtr> read_document(const Document& document,
                                           std::vector<std::string>& errors);

    const envoy::Api& api_;
    const DiscoveryCodec& codec_;
    // Documents unchanged since the last run are not read again (during a
    // canary only the routes change).
    std::map<std::string, Cached> cache_;
};

}  // namespace crossover::xds_server
