// The pipeline file: parsing, environment expansion and validation against
// the loaded plugins' option schemas. Nothing starts until this succeeds.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "crossover/plugin.h"
#include "env_expand.h"
#include "pipeline_blocks.h"

namespace crossover::core {

class PluginRegistry;

// One problem in a pipeline file, always with where it is.
struct ConfigError {
    std::string file;
    int line = 0;           // 1-based; 0 when unknown
    std::string component;  // config path, e.g. "sinks.envoy"; empty for top level
    std::string option;     // option name, when the problem is one option
    std::string message;

    [[nodiscard]] std::string format() const;
};

struct ComponentSpec {
    Kind kind = Kind::Source;
    std::string name;
    std::string type;
    std::vector<std::string> inputs;
    YAML::Node options;                       // without `type` and `inputs`
    std::map<std::string, int> option_lines;  // option key -> 1-based line
    int line = 0;                             // the component's name
    int type_line = 0;                        // its `type:` value (0: none given)
    std::vector<int> input_lines;             // each of `inputs`, when known
    std::string path;                         // "sources.xds"
};

struct PipelineSpec {
    std::string file;      // "" when built in memory
    std::string base_dir;  // relative paths in options resolve here
    std::vector<std::string> plugin_dirs;
    std::vector<std::string> plugins;  // explicit plugin files
    EngineSpec engine;
    ServerSpec server;
    std::vector<ComponentSpec> components;  // sources, then transforms, then sinks

    [[nodiscard]] const ComponentSpec* find(const std::string& name) const;
};

// Parses a pipeline file: YAML syntax, known top-level keys, component
// structure, ${VAR} expansion. Appends problems to `errors`.
PipelineSpec parse_pipeline_file(const std::string& path, const EnvLookup& env,
                                 std::vector<ConfigError>& errors);

// Same, from text (`file` is used in messages and to resolve relative paths).
PipelineSpec parse_pipeline_text(const std::string& text, const std::string& file,
                                 const EnvLookup& env, std::vector<ConfigError>& errors);

// Checks types against the registry, options against each plugin's schema
// (filling in defaults), inputs (unknown, missing, cyclic). Appends problems.
void validate_pipeline(PipelineSpec& spec, const PluginRegistry& registry,
                       std::vector<ConfigError>& errors);

// Components in an order where every component comes after its inputs.
// Precondition: validate_pipeline found no cycle.
std::vector<const ComponentSpec*> topological_order(const PipelineSpec& spec);

// Serialises a spec back to pipeline-file YAML (for --print-pipeline).
std::string to_yaml(const PipelineSpec& spec);

}  // namespace crossover::core
