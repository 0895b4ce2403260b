#include "trafficsplit_source.h"

CROSSOVER_PLUGIN(crossover::Kind::Source, crossover::kube::TrafficSplitSource, "smi_trafficsplit",
                 crossover::kube::kTrafficSplitSourceDoc,
                 crossover::kube::kTrafficSplitSourceOptions)
