// Entry point of the smi_merge transform plugin.
#include "crossover/sdk.h"
#include "smi_merge.h"

namespace {

const crossover::OptionSpec kOptions[] = {
    {"match", crossover::OptionType::String, "name", false,
     "How a TrafficSplit finds virtual hosts: 'name' (virtual host name equals spec.service) or "
     "'domain' (a domain equals service, service.namespace or "
     "service.namespace.svc.cluster.local)"},
    {"cluster_name", crossover::OptionType::String, "'{{service}}'", false,
     "Pattern giving a backend's cluster name; placeholders {{service}} (the backend), "
     "{{namespace}}, {{root}} (spec.service), {{name}} (the TrafficSplit)"},
    {"dot_to_underscore", crossover::OptionType::Bool, "false", false,
     "Replace '.' with '_' in cluster names, as the original Helm chart names clusters"},
    {"promote", crossover::OptionType::Bool, "false", false,
     "Turn a route with a plain 'cluster:' naming the service or a backend into "
     "weighted_clusters"},
    {"unmatched", crossover::OptionType::String, "error", false,
     "A TrafficSplit that matches no virtual host: 'error' (nothing is written; for splits the "
     "user named) or 'skip' (warned once per object version and left out; for splits selected "
     "by namespace or label, which may belong to another Envoy)"},
};

}  // namespace

CROSSOVER_PLUGIN(crossover::Kind::Transform, crossover::smi_merge::SmiMergeTransform, "smi_merge",
                 "Sets the weights of Envoy weighted_clusters from SMI TrafficSplits (v1alpha1 to "
                 "v1alpha4), editing the documents' text in place so comments and layout survive.",
                 kOptions)
