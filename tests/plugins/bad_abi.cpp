// A plugin built for another plugin ABI version.
#include "crossover/sdk.h"

namespace {
const crossover::OptionSpec kOptions[] = {
    {"x", crossover::OptionType::String, nullptr, false, "unused"}};
}

extern "C" CROSSOVER_EXPORT const crossover::PluginDescriptor* crossover_plugin_entry() {
    static const crossover::PluginDescriptor descriptor{CROSSOVER_ABI_VERSION + 998u,
                                                        CROSSOVER_TOOLCHAIN_ID,
                                                        sizeof(crossover::PluginDescriptor),
                                                        CROSSOVER_YAML_CPP_VERSION,
                                                        "1.0.0",
                                                        "future",
                                                        crossover::Kind::Sink,
                                                        "from the future",
                                                        kOptions,
                                                        1,
                                                        nullptr,
                                                        nullptr};
    return &descriptor;
}
