// A plugin that uses a function nothing defines, linked with -z now as
// crossover_add_plugin links plugins: crossover loads plugins lazily, so only
// -z now makes the load itself report the missing symbol.
#include "crossover/sdk.h"

extern "C" const crossover::PluginDescriptor* crossover_test_nowhere_defined();

extern "C" CROSSOVER_EXPORT const crossover::PluginDescriptor* crossover_plugin_entry() {
    return crossover_test_nowhere_defined();
}
