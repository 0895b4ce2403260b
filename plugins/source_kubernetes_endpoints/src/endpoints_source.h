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

struct EndpointsSourceOptions {
    ConnectionOptions connection;
    Timeouts timeouts;
    std::vector<std::string> services;
    std::string label_selector;
    std::string document = "eds.yaml";
    std::string cluster_name = eds::ClusterNamePattern::kDefault;
    std::string include = "ready";
    WatchOptions watch;
};

extern const OptionTable<EndpointsSourceOptions> kEndpointsSourceOptions;

inline constexpr const char* kEndpointsSourceDoc =
    "Watches discovery.k8s.io/v1 EndpointSlices (of the Services named by 'services', or those a "
    "label selector picks) and publishes one EDS document: a DiscoveryResponse holding a "
    "ClusterLoadAssignment per Service port, with ready endpoints grouped into localities by "
    "zone. An invalid slice is reported with its namespace/name and field; its last valid "
    "version is kept.";

class EndpointsSource final : public ObjectSource {
public:
    EndpointsSource(const ComponentConfig& config, const EndpointsSourceOptions& options);

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
