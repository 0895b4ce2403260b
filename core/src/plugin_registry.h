// Finds, loads and checks plugins (dlopen with RTLD_LAZY | RTLD_LOCAL;
// plugins built with crossover_add_plugin bind their own symbols at load).
#pragma once

#include <string>
#include <vector>

#include "crossover/plugin.h"

namespace crossover::core {

struct LoadedPlugin {
    std::string path;
    const PluginDescriptor* descriptor = nullptr;
};

class PluginRegistry {
public:
    PluginRegistry() = default;
    PluginRegistry(const PluginRegistry&) = delete;
    PluginRegistry& operator=(const PluginRegistry&) = delete;
    // Plugins stay mapped for the life of the process: components created
    // from them may outlive any particular registry use.
    ~PluginRegistry() = default;

    // Loads every *.so in `dir` (sorted by name). A directory already loaded
    // (same canonical path) is skipped. Appends one message per problem.
    void load_directory(const std::string& dir, std::vector<std::string>& errors);
    // Loads one plugin file. Returns false and appends a message on error.
    bool load_file(const std::string& path, std::vector<std::string>& errors);

    [[nodiscard]] const LoadedPlugin* find(Kind kind, const std::string& name) const;
    [[nodiscard]] std::vector<std::string> names(Kind kind) const;
    [[nodiscard]] const std::vector<LoadedPlugin>& plugins() const { return plugins_; }

private:
    // Records a checked descriptor loaded from `path`; why not when another
    // plugin already provides its type.
    std::string add(const std::string& path, const std::string& canon, const PluginDescriptor& d);

    std::vector<LoadedPlugin> plugins_;
    std::vector<std::string> loaded_dirs_;
    std::vector<std::string> loaded_files_;
};

}  // namespace crossover::core
