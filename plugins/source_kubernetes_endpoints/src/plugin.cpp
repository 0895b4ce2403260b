#include "endpoints_source.h"

CROSSOVER_PLUGIN(crossover::Kind::Source, crossover::kube::EndpointsSource, "kubernetes_endpoints",
                 crossover::kube::kEndpointsSourceDoc, crossover::kube::kEndpointsSourceOptions)
