#include "configmap_source.h"

CROSSOVER_PLUGIN(crossover::Kind::Source, crossover::kube::ConfigMapSource, "kubernetes_configmap",
                 crossover::kube::kConfigMapSourceDoc, crossover::kube::kConfigMapSourceOptions)
