// The kubernetes_endpoints source: watches the EndpointSlices of some
// Services and publishes one document of ClusterLoadAssignments (EDS), one per
// Service port.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "crossover/sdk.h"
#include "crossover_kube/informer.h"
#include "crossover_kube/last_valid.h"
#include "crossover_kube/object_source.h"
#include "crossover_kube/options.h"
#include "endpointslice.h"

namespace crossover::kube {

inline constexpr OptionSpec kEndpointsSourceOptions[] = {
    CROSSOVER_KUBE_CONNECTION_OPTIONS,
    {"services", OptionType::StringList, nullptr, false,
     "names of the Services whose EndpointSlices are watched (label kubernetes.io/service-name); "
     "each one is required (see wait_timeout)"},
    {"label_selector", OptionType::String, nullptr, false,
     "label selector on the EndpointSlices (the EndpointSlice controller copies the Service's "
     "labels to them); combined with services when both are given"},
    {"document", OptionType::String, "eds.yaml", false, "name of the output document"},
    {"cluster_name", OptionType::String, "'{{namespace}}/{{service}}:{{port}}'", false,
     "pattern giving each ClusterLoadAssignment's cluster_name (what a CDS cluster's "
     "eds_cluster_config.service_name names); placeholders {{namespace}}, {{service}}, {{port}} "
     "(the port's name, else its number)"},
    {"include", OptionType::String, "ready", false,
     "which endpoints: 'ready' (conditions.ready, not terminating) or 'serving' (also terminating "
     "endpoints that still serve, with health_status DRAINING)"},
    CROSSOVER_KUBE_WATCH_TUNING_OPTIONS,
};

inline constexpr const char* kEndpointsSourceDoc =
    "Watches discovery.k8s.io/v1 EndpointSlices (of the Services named by 'services', or those a "
    "label selector picks) and publishes one EDS document: a DiscoveryResponse holding a "
    "ClusterLoadAssignment per Service port, with ready endpoints grouped into localities by "
    "zone. An invalid slice is reported with its namespace/name and field; its last valid "
    "version is kept.";

class EndpointsSource final : public ObjectSource {
public:
    explicit EndpointsSource(const ComponentConfig& config);

    // Builds a snapshot from the watched slices (exposed for tests).
    SnapshotPtr build(const Informer::State& state) override;

private:
    std::string collection(SourceContext& context,
                           std::chrono::steady_clock::time_point deadline) override;
    [[nodiscard]] bool same_output(const Snapshot& last, const Snapshot& next) const override;

    std::vector<std::string> services_;
    std::string document_;
    eds::EdsOptions eds_;
    eds::EdsBuilder eds_builder_;           // keeps unchanged Services' text
    LastValid<eds::EndpointSlice> slices_;  // by slice name
};

}  // namespace crossover::kube
