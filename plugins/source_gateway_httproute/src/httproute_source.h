// The gateway_httproute source: watches Gateway API HTTPRoutes and publishes
// the valid ones as objects (kind "HTTPRoute", the whole manifest as body) for
// transforms such as httproute_merge.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "crossover/sdk.h"
#include "crossover_kube/client.h"
#include "crossover_kube/informer.h"
#include "crossover_kube/last_valid.h"
#include "crossover_kube/options.h"

namespace crossover::kube {

inline constexpr OptionSpec kHTTPRouteSourceOptions[] = {
    CROSSOVER_KUBE_CONNECTION_OPTIONS,
    CROSSOVER_KUBE_WATCH_OPTIONS,
    {"api_version", OptionType::String, "auto", false,
     "gateway.networking.k8s.io version to watch: v1, v1beta1 (the same objects, the same "
     "schema), or auto (v1 when the server serves it, else v1beta1, from API discovery)"},
};

inline constexpr const char* kHTTPRouteSourceDoc =
    "Watches Gateway API HTTPRoutes (gateway.networking.k8s.io v1 or v1beta1, by default the one "
    "API discovery finds; by names, label "
    "selector, or every one in the namespace) and publishes the valid ones as objects of kind "
    "HTTPRoute. An invalid object is reported with its namespace/name, rule and backend and does "
    "not affect the others; its last valid version is kept.";

class HTTPRouteSource final : public Source {
public:
    explicit HTTPRouteSource(const ComponentConfig& config);
    Status run(SourceContext& context) noexcept override;
    void stop() noexcept override;

    // Builds a snapshot from the watched objects (exposed for tests).
    SnapshotPtr build(const Informer::State& state);

private:
    void on_change(SourceContext& context, const Informer::State& state);

    LogFn log_;
    std::unique_ptr<Client> client_;
    std::string ns_;
    std::string api_version_;  // configured: v1, v1beta1 or auto
    std::string version_;      // in use
    Selection selection_;
    InformerOptions informer_options_;
    std::chrono::milliseconds wait_timeout_{30000};
    bool onetime_ = false;
    LastValid<Object> routes_;  // by name
    SnapshotPtr last_published_;
};

}  // namespace crossover::kube
