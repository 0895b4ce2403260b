// Entry point of the httproute_merge transform plugin.
#include "crossover/sdk.h"
#include "httproute_merge.h"

CROSSOVER_PLUGIN(crossover::Kind::Transform, crossover::httproute_merge::HTTPRouteMergeTransform,
                 "httproute_merge",
                 "Sets the weights of Envoy weighted_clusters from Gateway API HTTPRoutes (v1, "
                 "v1beta1): hostnames pick virtual hosts, path matches pick routes, backendRefs "
                 "name clusters; the documents' text is edited in place.",
                 crossover::httproute_merge::kHTTPRouteMergeOptions)
