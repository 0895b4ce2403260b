// Where the running binary and its plugins are.
#pragma once

#include <string>

namespace crossover::core {

// Directory containing the running executable (resolved through /proc/self/exe).
std::string executable_dir();

// The default plugin directory: <executable_dir>/../lib/crossover/plugins, which
// holds in both the build tree and an installed tree.
std::string default_plugin_dir();

// Absolute, lexically normalised form of `path` relative to `base`.
std::string absolute_path(const std::string& path, const std::string& base);

}  // namespace crossover::core
