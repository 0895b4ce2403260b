// Entry point of the `template` transform plugin.
#include "crossover/sdk.h"
#include "template_transform.h"

namespace {
const char kDoc[] =
    "Renders documents whose names match a glob (default *.tmpl) as Helm-style Go templates "
    "with .Values, .TrafficSplits, .ConfigMaps, .Env and .Namespace; the output is named "
    "without the .tmpl suffix. Other documents and all objects pass through unchanged.";
}

CROSSOVER_PLUGIN(crossover::Kind::Transform, crossover::tmpl::TemplateTransform, "template", kDoc,
                 crossover::tmpl::kTemplateOptions)
