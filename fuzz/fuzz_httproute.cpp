// HTTPRoutes on the path the gateway_httproute source and the httproute_merge
// transform take: JSON from the API server converted to a YAML tree, checked
// by parse_httproute, turned into weight targets and merged into a small RDS.
// Refusals are crossover::Errors; anything else (a crash, another exception,
// an output that does not parse) is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include <yaml-cpp/yaml.h>

#include "crossover/status.h"
#include "crossover_gateway/httproute.h"
#include "crossover_kube/json.h"
#include "httproute_merge.h"

using namespace crossover;

namespace {

const char* kRds = R"(resources:
- "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration
  name: r
  virtual_hosts:
  - name: podinfo
    domains: ["podinfo", "podinfo.test"]
    routes:
    - match: {prefix: "/api"}
      route: {weighted_clusters: {clusters: [{name: podinfo-primary, weight: 1}, {name: podinfo-canary}]}}
    - match: {prefix: "/"}
      route:
        weighted_clusters:
          clusters:
          - name: podinfo-primary
            weight: 100
          - name: podinfo-canary
            weight: 0
)";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    auto object = std::make_shared<Object>();
    try {
        const auto json = kube::parse_object(text, "fuzz");
        object->body = kube::to_yaml(json);
        object->ref = ObjectRef{"HTTPRoute", "test", kube::metadata_field(json, "name"), "1"};
        object->api_version = kube::get_string(json, "apiVersion");
        (void)gateway::parse_httproute(*object);
    } catch (const Error&) {
        return 0;  // not JSON, or refused naming the route, rule and backend
    }
    auto docs = std::make_shared<Snapshot>();
    docs->documents = {std::make_shared<const Document>(Document{"rds.yaml", kRds, {}})};
    auto objects = std::make_shared<Snapshot>();
    objects->objects = {object};
    httproute_merge::Merger merger(httproute_merge::Options{});
    try {
        const auto out = merger.run({Input{"xds", docs}, Input{"routes", objects}});
        (void)YAML::Load(out->find_document("rds.yaml")->content);  // throws (a finding) if broken
    } catch (const Error&) {
        // No matching virtual host, route or cluster: refused with where it looked.
    }
    return 0;
}
