// DiscoveryResponse documents read into Envoy's messages (common_envoy's
// decode_resources over YamlReader): any bytes give resources or errors,
// never a crash. Needs the build's descriptor set; without it (no npm at
// configure time) every input is skipped.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "crossover/snapshot.h"
#include "crossover_envoy/api.h"
#include "crossover_envoy/resources.h"

namespace {

const crossover::envoy::Api* api() {
    static const std::unique_ptr<crossover::envoy::Api> instance =
        []() -> std::unique_ptr<crossover::envoy::Api> {
        if (!crossover::envoy::api_present(CROSSOVER_ENVOY_API_DIR)) {
            return nullptr;
        }
        return std::make_unique<crossover::envoy::Api>(CROSSOVER_ENVOY_API_DIR);
    }();
    return instance.get();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const crossover::envoy::Api* envoy = api();
    if (envoy == nullptr) {
        return 0;
    }
    crossover::Document doc;
    doc.name = "fuzz.yaml";
    doc.content.assign(reinterpret_cast<const char*>(data), size);
    const auto decoded = crossover::envoy::decode_resources(*envoy, doc);
    for (const auto& r : decoded.resources) {
        (void)r.serialized();
    }
    return 0;
}
