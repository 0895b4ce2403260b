// Entry point of the smi_merge transform plugin.
#include "crossover/sdk.h"
#include "smi_merge.h"

CROSSOVER_PLUGIN(crossover::Kind::Transform, crossover::smi_merge::SmiMergeTransform, "smi_merge",
                 "Sets the weights of Envoy weighted_clusters from SMI TrafficSplits (v1alpha1 to "
                 "v1alpha4), editing the documents' text in place so comments and layout survive.",
                 crossover::smi_merge::kSmiMergeOptions)
