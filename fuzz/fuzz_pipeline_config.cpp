// The pipeline file loader: YAML parsing, ${VAR} expansion, structure checks
// and input validation (against an empty plugin registry), then printing the
// spec back. Problems in the file are reported through `errors`, never thrown.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pipeline_config.h"
#include "plugin_registry.h"

using namespace crossover::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    // Some variables set, one set but empty, the rest unset.
    const EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
        if (name == "EMPTY") {
            return std::string();
        }
        if (name.size() % 2 == 0) {
            return "value-of-" + name;
        }
        return std::nullopt;
    };
    std::vector<ConfigError> errors;
    PipelineSpec spec = parse_pipeline_text(text, "fuzz/pipeline.yaml", env, errors);
    const PluginRegistry registry;
    validate_pipeline(spec, registry, errors);
    for (const auto& e : errors) {
        (void)e.format();
    }
    if (errors.empty()) {
        (void)topological_order(spec);
    }
    (void)to_yaml(spec);
    return 0;
}
