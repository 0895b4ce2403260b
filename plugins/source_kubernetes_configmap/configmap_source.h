// The kubernetes_configmap source: watches ConfigMaps and publishes one
// document per data / binaryData key.
#pragma once

#include <memory>
#include <string>

#include "crossover/sdk.h"
#include "crossover_kube/client.h"
#include "crossover_kube/informer.h"
#include "crossover_kube/options.h"

namespace crossover::kube {

inline constexpr OptionSpec kConfigMapSourceOptions[] = {
    CROSSOVER_KUBE_CONNECTION_OPTIONS,
    CROSSOVER_KUBE_WATCH_OPTIONS,
};

inline constexpr const char* kConfigMapSourceDoc =
    "Watches ConfigMaps (by names, label selector or both, in one namespace) and publishes each "
    "data key as a document (binaryData decoded); several ConfigMaps merge, and the same key in "
    "two of them is an error. A named ConfigMap that is missing or deleted makes the snapshot "
    "incomplete, so the last output stays in place.";

class ConfigMapSource final : public Source {
public:
    explicit ConfigMapSource(const ComponentConfig& config);
    Status run(SourceContext& context) noexcept override;
    void stop() noexcept override;

    // Builds the snapshot for a set of ConfigMaps; throws Error on a
    // collision or an unusable key (exposed for tests).
    [[nodiscard]] SnapshotPtr build(const Informer::State& state) const;

private:
    Status run_onetime(SourceContext& context, Informer& informer);
    void on_change(SourceContext& context, const Informer::State& state);

    LogFn log_;
    std::unique_ptr<Client> client_;
    std::string ns_;
    Selection selection_;
    InformerOptions informer_options_;
    std::chrono::milliseconds wait_timeout_{30000};
    bool onetime_ = false;
    SnapshotPtr last_published_;
    std::string last_error_;
};

}  // namespace crossover::kube
