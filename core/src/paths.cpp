#include "paths.h"

#include <filesystem>
#include <system_error>

namespace crossover::core {

std::string executable_dir() {
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) {
        return ".";
    }
    return exe.parent_path().string();
}

std::string default_plugin_dir() {
    return (std::filesystem::path(executable_dir()) / CROSSOVER_PLUGIN_RELDIR)
        .lexically_normal()
        .string();
}

std::string absolute_path(const std::string& path, const std::string& base) {
    std::filesystem::path p(path);
    if (p.is_relative()) {
        p = std::filesystem::path(base) / p;
    }
    return p.lexically_normal().string();
}

}  // namespace crossover::core
