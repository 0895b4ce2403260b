// The smi_trafficsplit source: watches SMI TrafficSplits and publishes the
// valid ones as objects (kind "TrafficSplit", the whole manifest as body).
#pragma once

#include <map>
#include <string>

#include "crossover/sdk.h"
#include "crossover_kube/informer.h"
#include "crossover_kube/object_source.h"
#include "crossover_kube/options.h"

namespace crossover::kube {

struct TrafficSplitSourceOptions {
    SourceOptions source;
    std::string api_version = "auto";  // v1alpha1..4, or auto: API discovery
};

extern const OptionTable<TrafficSplitSourceOptions> kTrafficSplitSourceOptions;

inline constexpr const char* kTrafficSplitSourceDoc =
    "Watches SMI TrafficSplits (split.smi-spec.io v1alpha1..v1alpha4; by names, label selector, "
    "or every one in the namespace) and publishes the valid ones as objects of kind TrafficSplit. "
    "An invalid object is reported with its namespace/name and field and does not affect the "
    "others; its last valid version is kept.";

class TrafficSplitSource final : public ObjectSource {
public:
    TrafficSplitSource(const ComponentConfig& config, const TrafficSplitSourceOptions& options);

    // Builds a snapshot from the watched objects (exposed for tests).
    SnapshotPtr build(const Informer::State& state) override;

private:
    std::string collection(SourceContext& context,
                           std::chrono::steady_clock::time_point deadline) override;
    [[nodiscard]] bool same_output(const Snapshot& last, const Snapshot& next) const override;

    // What the last build made of one watched object.
    struct Checked {
        // The JSON last checked, held so that its address stays its own: the informer
        // replaces an object's JSON on every event, so the same pointer is the same content.
        Poco::JSON::Object::Ptr json;
        ObjectPtr valid;    // its last valid version (null: never valid)
        std::string error;  // the last error logged for it ("" while valid)
    };
    // Converts and checks `json`, the object `name` at `rv`, into `checked`.
    void check(const std::string& name, const Poco::JSON::Object::Ptr& json, const std::string& rv,
               Checked& checked);

    std::string api_version_;                 // configured: v1alpha1..4 or auto
    std::string version_;                     // in use
    std::map<std::string, Checked> checked_;  // by name: the objects of the last build
};

}  // namespace crossover::kube
