// Runs a validated pipeline for the life of the process: signals (stop,
// reload on SIGHUP), the HTTP endpoint and metrics.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "logger.h"
#include "pipeline_config.h"

namespace crossover::core {

class PluginRegistry;

struct RunSettings {
    bool onetime = false;
    bool dry_run = false;
    LogLevel level = LogLevel::Info;
    LogFormat format = LogFormat::Text;
    std::vector<std::string> plugin_dirs;
    std::optional<std::string> listen;  // --listen; unset: the pipeline's server block
    std::string pipeline_file;          // re-read on SIGHUP; empty when built in memory
};

// Loads the default plugin directory, `extra_dirs` and the spec's plugins.
void load_plugins(PluginRegistry& registry, const PipelineSpec* spec,
                  const std::vector<std::string>& extra_dirs, std::vector<std::string>& errors);

// Loads plugins and validates `spec`, printing every problem. False on any.
bool prepare(PipelineSpec& spec, PluginRegistry& registry,
             const std::vector<std::string>& plugin_dirs);

// --dry-run: every sink becomes a `stdout` sink (after the real ones validated).
bool replace_sinks_with_stdout(PipelineSpec& spec, PluginRegistry& registry);

// SIGTERM, SIGINT and SIGHUP are blocked first thing in main(), so that one
// arriving while crossover starts is held until the signal thread handles it
// (a clean stop, not death by signal). Commands that run no pipeline unblock
// them again.
void block_stop_signals() noexcept;
void unblock_stop_signals() noexcept;

// Validates and runs a pipeline; returns the process exit code.
int run_pipeline(PipelineSpec spec, const RunSettings& settings);

void print_errors(const std::vector<std::string>& errors);
void print_config_errors(const std::vector<ConfigError>& errors);

}  // namespace crossover::core
