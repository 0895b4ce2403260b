// EndpointSlices into ClusterLoadAssignments, on the path the source takes:
// JSON from the API server (one object, or {"items": [...]}) converted to YAML
// trees, each checked by parse_endpointslice, the valid ones merged by
// build_eds. The document written must always parse back with one resource
// per cluster and the endpoint count it claims.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <Poco/JSON/Array.h>
#include <yaml-cpp/yaml.h>

#include "crossover/status.h"
#include "crossover_kube/json.h"
#include "endpointslice.h"

using namespace crossover;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    Poco::JSON::Object::Ptr root;
    try {
        root = kube::parse_object(text, "fuzz");
    } catch (const Error&) {
        return 0;  // not a JSON object: the informer refuses the event
    }
    std::vector<Poco::JSON::Object::Ptr> objects;
    if (const auto items = root->getArray("items"); !items.isNull()) {
        for (std::size_t i = 0; i < items->size(); ++i) {
            if (const auto o = items->getObject(static_cast<unsigned>(i)); !o.isNull()) {
                objects.push_back(o);
            }
        }
    } else {
        objects.push_back(root);
    }
    std::vector<eds::EndpointSlicePtr> slices;
    for (const auto& o : objects) {
        try {
            slices.push_back(std::make_shared<const eds::EndpointSlice>(
                eds::parse_endpointslice(kube::to_yaml(o), "fuzz")));
        } catch (const Error&) {
            // Refused with a message naming the slice and the field.
        }
    }
    for (const auto include : {eds::Include::Ready, eds::Include::Serving}) {
        eds::EdsOptions options;
        options.include = include;
        const eds::EdsDocument doc = eds::build_eds(slices, options);
        const YAML::Node parsed = YAML::Load(doc.content);  // throws (a finding) when broken
        std::size_t endpoints = 0;
        for (const auto& cla : parsed["resources"]) {
            (void)cla["cluster_name"].as<std::string>();
            for (const auto& locality : cla["endpoints"]) {
                endpoints += locality["lb_endpoints"].size();
            }
        }
        if (parsed["resources"].size() != doc.clusters || endpoints != doc.endpoints) {
            std::abort();
        }
    }
    return 0;
}
