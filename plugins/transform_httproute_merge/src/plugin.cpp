// Entry point of the httproute_merge transform plugin.
#include "crossover/sdk.h"
#include "httproute_merge.h"

namespace {

const crossover::OptionSpec kOptions[] = {
    {"cluster_name", crossover::OptionType::String, "'{{service}}'", false,
     "Pattern giving a backendRef's cluster name; placeholders {{service}} (the backendRef's "
     "name), {{namespace}} (its namespace, else the HTTPRoute's), {{port}} (its port), {{route}} "
     "(the HTTPRoute's name)"},
};

}  // namespace

CROSSOVER_PLUGIN(crossover::Kind::Transform, crossover::httproute_merge::HTTPRouteMergeTransform,
                 "httproute_merge",
                 "Sets the weights of Envoy weighted_clusters from Gateway API HTTPRoutes (v1, "
                 "v1beta1): hostnames pick virtual hosts, path matches pick routes, backendRefs "
                 "name clusters; the documents' text is edited in place.",
                 kOptions)
