#include "httproute_source.h"

CROSSOVER_PLUGIN(crossover::Kind::Source, crossover::kube::HTTPRouteSource, "gateway_httproute",
                 crossover::kube::kHTTPRouteSourceDoc, crossover::kube::kHTTPRouteSourceOptions)
