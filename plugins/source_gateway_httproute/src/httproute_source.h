// The gateway_httproute source: watches Gateway API HTTPRoutes and publishes
// the valid ones as objects (kind "HTTPRoute", the whole manifest as body) for
// transforms such as httproute_merge.
#pragma once

#include <chrono>
#include <string>

#include "crossover/sdk.h"
#include "crossover_kube/informer.h"
#include "crossover_kube/last_valid.h"
#include "crossover_kube/object_source.h"
#include "crossover_kube/options.h"

namespace crossover::kube {

struct HTTPRouteSourceOptions {
    SourceOptions source;
    std::string api_version = "auto";  // v1, v1beta1, or auto: API discovery
};

extern const OptionTable<HTTPRouteSourceOptions> kHTTPRouteSourceOptions;

inline constexpr const char* kHTTPRouteSourceDoc =
    "Watches Gateway API HTTPRoutes (gateway.networking.k8s.io v1 or v1beta1, by default the one "
    "API discovery finds; by names, label "
    "selector, or every one in the namespace) and publishes the valid ones as objects of kind "
    "HTTPRoute. An invalid object is reported with its namespace/name, rule and backend and does "
    "not affect the others; its last valid version is kept.";

class HTTPRouteSource final : public ObjectSource {
public:
    HTTPRouteSource(const ComponentConfig& config, const HTTPRouteSourceOptions& options);

    // Builds a snapshot from the watched objects (exposed for tests).
    SnapshotPtr build(const Informer::State& state) override;

private:
    std::string collection(SourceContext& context,
                           std::chrono::steady_clock::time_point deadline) override;
    [[nodiscard]] bool same_output(const Snapshot& last, const Snapshot& next) const override;

    std::string api_version_;   // configured: v1, v1beta1 or auto
    std::string version_;       // in use
    LastValid<Object> routes_;  // by name
};

}  // namespace crossover::kube
