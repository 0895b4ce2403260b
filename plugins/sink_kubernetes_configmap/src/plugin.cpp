#include "configmap_sink.h"

CROSSOVER_PLUGIN(crossover::Kind::Sink, crossover::kube::ConfigMapSink, "kubernetes_configmap",
                 crossover::kube::kConfigMapSinkDoc, crossover::kube::kConfigMapSinkOptions)
