// Entry point of the `template` transform plugin.
#include "crossover/sdk.h"
#include "template_transform.h"

namespace {
const char kDoc[] =
    "Renders documents whose names match a glob (default *.tmpl) as Helm-style Go templates "
    "with .Values, .TrafficSplits, .ConfigMaps, .Env and .Namespace; the output is named "
    "without the .tmpl suffix. Other documents and all objects pass through unchanged.";
}

extern "C" CROSSOVER_EXPORT const crossover::PluginDescriptor* crossover_plugin_entry() {
    static const crossover::PluginDescriptor descriptor{
        CROSSOVER_ABI_VERSION,
        CROSSOVER_TOOLCHAIN_ID,
        "template",
        crossover::Kind::Transform,
        kDoc,
        crossover::tmpl::kTemplateOptions,
        crossover::tmpl::kTemplateOptionCount,
        &crossover::make_component<crossover::tmpl::TemplateTransform>,
        &crossover::destroy_component};
    return &descriptor;
}
