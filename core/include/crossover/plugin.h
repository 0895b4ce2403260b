// The plugin ABI.
//
// A plugin is a shared object exporting one C-linkage function,
// `crossover_plugin_entry`, that returns a PluginDescriptor. The core loads it
// with dlopen(RTLD_LAZY | RTLD_LOCAL), reads `abi_version` and `toolchain`
// first and refuses the plugin on any mismatch before touching anything else.
//
// ABI policy: CROSSOVER_ABI_VERSION is bumped on every incompatible change to
// any header under include/crossover/. The ABI passes C++ types (std::string,
// std::shared_ptr, std::vector, YAML::Node), so it is also pinned to the C++
// toolchain: GCC's C++ ABI (__GXX_ABI_VERSION) with libstdc++'s C++11 string
// ABI (`toolchain`), and the yaml-cpp release the plugin was compiled against
// (`yaml_cpp_version`, which must equal the core's). Build plugins with the
// same compiler family and Debian release as the core. Everything except the
// entry point is built with hidden visibility.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "crossover/component.h"
#include "crossover/option_table.h"
#include "crossover/options.h"

#define CROSSOVER_ABI_VERSION 2u

// Set by the SDK's CMake target from the yaml-cpp package found at build time.
#ifndef CROSSOVER_YAML_CPP_VERSION
#define CROSSOVER_YAML_CPP_VERSION "unknown"
#endif

// Set by crossover_add_plugin(... VERSION x.y.z); bundled plugins carry the
// core's version.
#ifndef CROSSOVER_PLUGIN_VERSION
#define CROSSOVER_PLUGIN_VERSION "unversioned"
#endif

#if defined(__GXX_ABI_VERSION)
#define CROSSOVER_TOOLCHAIN_ID \
    ((static_cast<std::uint32_t>(__GXX_ABI_VERSION) << 1u) | (_GLIBCXX_USE_CXX11_ABI ? 1u : 0u))
#else
#define CROSSOVER_TOOLCHAIN_ID 0u
#endif

#define CROSSOVER_EXPORT __attribute__((visibility("default")))

namespace crossover {

enum class Kind : std::uint32_t { Source = 1, Transform = 2, Sink = 3 };

inline const char* kind_name(Kind kind) noexcept {
    switch (kind) {
        case Kind::Source: return "source";
        case Kind::Transform: return "transform";
        case Kind::Sink: return "sink";
    }
    return "unknown";
}

// Creates a component from its validated configuration. On failure returns
// nullptr and sets `error` (one line, naming the option at fault).
using FactoryFn = Component* (*)(const ComponentConfig& config, std::string& error) noexcept;
using DestroyFn = void (*)(Component* component) noexcept;

struct PluginDescriptor {
    std::uint32_t abi_version;     // CROSSOVER_ABI_VERSION; must stay the first field
    std::uint32_t toolchain;       // CROSSOVER_TOOLCHAIN_ID; must stay the second field
    std::uint32_t size;            // sizeof(PluginDescriptor) as the plugin was built
    const char* yaml_cpp_version;  // CROSSOVER_YAML_CPP_VERSION of the plugin's build
    const char* version;           // the plugin's own version
    const char* name;              // the `type:` users write
    Kind kind;
    const char* doc;  // one paragraph
    const OptionSpec* options;
    std::size_t option_count;
    FactoryFn create;
    DestroyFn destroy;
};

// Factory helper: constructs T(config), turning exceptions into `error`.
template <typename T>
Component* make_component(const ComponentConfig& config, std::string& error) noexcept {
    try {
        return new T(config);
    } catch (const std::exception& e) {
        error = e.what();
    } catch (...) {
        error = "unknown exception while creating component";
    }
    return nullptr;
}

inline void destroy_component(Component* component) noexcept {
    delete component;
}

namespace detail {

// CROSSOVER_PLUGIN accepts a typed OptionTable (the component is built from
// the decoded options struct) or a plain OptionSpec array (the component
// reads its ComponentConfig itself).
template <typename C, typename T>
Component* create_component(const OptionTable<T>& table, const ComponentConfig& config,
                            std::string& error) noexcept {
    try {
        return new C(config, table.decode(config));
    } catch (const std::exception& e) {
        error = e.what();
    } catch (...) {
        error = "unknown exception while creating component";
    }
    return nullptr;
}

template <typename C, std::size_t N>
Component* create_component(const OptionSpec (&/*table*/)[N], const ComponentConfig& config,
                            std::string& error) noexcept {
    return make_component<C>(config, error);
}

template <typename T>
const OptionSpec* option_specs(const OptionTable<T>& table) noexcept {
    return table.specs();
}
template <std::size_t N>
const OptionSpec* option_specs(const OptionSpec (&table)[N]) noexcept {
    return table;
}
template <typename T>
std::size_t option_count(const OptionTable<T>& table) noexcept {
    return table.size();
}
template <std::size_t N>
std::size_t option_count(const OptionSpec (&/*table*/)[N]) noexcept {
    return N;
}

}  // namespace detail

}  // namespace crossover

extern "C" {
using crossover_plugin_entry_fn = const crossover::PluginDescriptor* (*)();
}

#define CROSSOVER_PLUGIN_ENTRY_SYMBOL "crossover_plugin_entry"

// Defines the entry point. Usage, at namespace scope in one .cpp file:
//   CROSSOVER_PLUGIN(Kind::Transform, MyTransform, "my_type", "What it does.", kOptions)
// where kOptions is a crossover::OptionTable<MyOptions> (see option_table.h)
// or a plain OptionSpec array.
#define CROSSOVER_PLUGIN(KIND, CLASS, NAME, DOC, OPTIONS)                                     \
    extern "C" CROSSOVER_EXPORT const crossover::PluginDescriptor* crossover_plugin_entry() { \
        static const crossover::PluginDescriptor descriptor{                                  \
            CROSSOVER_ABI_VERSION,                                                            \
            CROSSOVER_TOOLCHAIN_ID,                                                           \
            sizeof(crossover::PluginDescriptor),                                              \
            CROSSOVER_YAML_CPP_VERSION,                                                       \
            CROSSOVER_PLUGIN_VERSION,                                                         \
            NAME,                                                                             \
            KIND,                                                                             \
            DOC,                                                                              \
            crossover::detail::option_specs(OPTIONS),                                         \
            crossover::detail::option_count(OPTIONS),                                         \
            [](const crossover::ComponentConfig& config,                                      \
               std::string& error) noexcept -> crossover::Component* {                        \
                return crossover::detail::create_component<CLASS>(OPTIONS, config, error);    \
            },                                                                                \
            &crossover::destroy_component};                                                   \
        return &descriptor;                                                                   \
    }
