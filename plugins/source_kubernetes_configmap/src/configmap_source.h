// The kubernetes_configmap source: watches ConfigMaps and publishes one
// document per data / binaryData key.
#pragma once

#include <cstddef>
#include <map>
#include <string>

#include "crossover/sdk.h"
#include "crossover_kube/informer.h"
#include "crossover_kube/object_source.h"
#include "crossover_kube/options.h"

namespace crossover::kube {

// The shared options of a source; nothing of its own.
using ConfigMapSourceOptions = SourceOptions;

extern const OptionTable<ConfigMapSourceOptions> kConfigMapSourceOptions;

inline constexpr const char* kConfigMapSourceDoc =
    "Watches ConfigMaps (by names, label selector or both, in one namespace) and publishes each "
    "data key as a document (binaryData decoded); several ConfigMaps merge, and the same key in "
    "two of them is an error. A named ConfigMap that is missing or deleted makes the snapshot "
    "incomplete, so the last output stays in place.";

class ConfigMapSource final : public ObjectSource {
public:
    ConfigMapSource(const ComponentConfig& config, const ConfigMapSourceOptions& options);

    // Builds the snapshot for a set of ConfigMaps; throws Error on a
    // collision or an unusable key (exposed for tests). A ConfigMap whose
    // resourceVersion did not change gives the same documents (the same
    // pointers) without being decoded again, and a key of a changed ConfigMap
    // whose content did not change keeps its document (whose origin then
    // names the resourceVersion that content was read at), so the stages
    // after the source can tell what changed by the pointer.
    [[nodiscard]] SnapshotPtr build(const Informer::State& state) override;

    // ConfigMaps decoded by build() so far (for tests: unchanged ones are not).
    [[nodiscard]] std::size_t decoded() const { return decoded_; }

private:
    // The documents of one ConfigMap as last built, by key.
    struct Built {
        std::string resource_version;
        std::map<std::string, DocumentPtr> documents;
    };
    // Decodes one ConfigMap's data and binaryData into documents, reusing
    // those of `last` whose content is unchanged. With `take`, and only once
    // nothing can fail, the data's text is moved out of `cm` instead of
    // copied (the document is then its only copy).
    [[nodiscard]] Built decode(const std::string& name, const Poco::JSON::Object::Ptr& cm,
                               const Built* last, bool take);

    std::string collection(SourceContext& context,
                           std::chrono::steady_clock::time_point deadline) override;
    [[nodiscard]] bool same_output(const Snapshot& last, const Snapshot& next) const override;
    // A snapshot that cannot be built keeps the last good output in place.
    void on_change(SourceContext& context, const Informer::State& state) override;

    std::string last_error_;
    std::map<std::string, Built> built_;  // by ConfigMap name
    std::size_t decoded_ = 0;
};

}  // namespace crossover::kube
