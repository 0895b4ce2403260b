// The log lines of a merge's weight changes, the same for every transform on the merge engine
// (smi_merge, httproute_merge).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "crossover/options.h"

namespace crossover::smi_merge {

// Logs `changes` (WeightMerger::changes()): a canary step's few lines at info level each; more
// than three (a relist, a `helm upgrade` changing every object) one info line naming how many
// and the first, e.g. "weights set for 1000 TrafficSplits and documents, the first: ...", and
// each change at debug level. `what` names the objects: "TrafficSplits", "HTTPRoute rules".
void log_weight_changes(const ComponentConfig& config, const std::vector<std::string>& changes,
                        std::string_view what);

}  // namespace crossover::smi_merge
