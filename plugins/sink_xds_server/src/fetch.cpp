#include "fetch.h"

#include <vector>

namespace crossover::xds_server {

EncodedResponse fetch_response(const DiscoveryCodec& codec, const ResourceSetPtr& set,
                               const std::string& type_url, const Request& request) {
    const TypeResources& resources = set->type(type_url);
    bool all = false;
    std::vector<ResourcePtr> selected;
    if (request.resource_names.empty() && wildcard_by_default(type_url)) {
        all = true;
    } else {
        for (const auto& name : request.resource_names) {
            if (name == "*") {
                all = true;
                selected.clear();
                break;
            }
            if (const auto it = resources.by_name.find(name); it != resources.by_name.end()) {
                selected.push_back(it->second);
            }
        }
    }
    return codec.sotw_response(set, resources, type_url, all, selected, {});
}

}  // namespace crossover::xds_server
