// The plugin ABI.
//
// A plugin is a shared object exporting one C-linkage function,
// `crossover_plugin_entry`, that returns a PluginDescriptor. The core loads it
// with dlopen(RTLD_NOW | RTLD_LOCAL), reads `abi_version` and `toolchain`
// first and refuses the plugin on any mismatch before touching anything else.
//
// ABI policy: CROSSOVER_ABI_VERSION is bumped on every incompatible change to
// any header under include/crossover/. The ABI passes C++ types (std::string,
// std::shared_ptr, std::vector, YAML::Node), so it is also pinned to the C++
// toolchain: GCC's C++ ABI (__GXX_ABI_VERSION) with libstdc++'s C++11 string
// ABI, and yaml-cpp 0.7 as shipped by Debian 12. `toolchain` records the first
// two; build plugins with the same compiler family and Debian release as the
// core. Everything except the entry point is built with hidden visibility.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "crossover/component.h"
#include "crossover/options.h"

#define CROSSOVER_ABI_VERSION 2u

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
    std::uint32_t abi_version;  // CROSSOVER_ABI_VERSION; must stay the first field
    std::uint32_t toolchain;    // CROSSOVER_TOOLCHAIN_ID; must stay the second field
    const char* name;           // the `type:` users write
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

}  // namespace crossover

extern "C" {
using crossover_plugin_entry_fn = const crossover::PluginDescriptor* (*)();
}

#define CROSSOVER_PLUGIN_ENTRY_SYMBOL "crossover_plugin_entry"

// Defines the entry point. Usage, at namespace scope in one .cpp file:
//   CROSSOVER_PLUGIN(Kind::Transform, MyTransform, "my_type", "What it does.", kOptions)
#define CROSSOVER_PLUGIN(KIND, CLASS, NAME, DOC, OPTIONS)                                     \
    extern "C" CROSSOVER_EXPORT const crossover::PluginDescriptor* crossover_plugin_entry() { \
        static const crossover::PluginDescriptor descriptor{                                  \
            CROSSOVER_ABI_VERSION,                                                            \
            CROSSOVER_TOOLCHAIN_ID,                                                           \
            NAME,                                                                             \
            KIND,                                                                             \
            DOC,                                                                              \
            OPTIONS,                                                                          \
            sizeof(OPTIONS) / sizeof((OPTIONS)[0]),                                           \
            &crossover::make_component<CLASS>,                                                \
            &crossover::destroy_component};                                                   \
        return &descriptor;                                                                   \
    }
