// The data a template sees, built from the transform's inputs and options.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "crossover/snapshot.h"
#include "value.h"

namespace crossover::tmpl {

// .TrafficSplits: TrafficSplit name -> {name, namespace, service,
// backends: [{service, weight}]} with integer weights (v1alpha1 quantities
// scaled exactly). Throws crossover::Error naming the TrafficSplit.
Value trafficsplits_value(const std::vector<ObjectPtr>& objects);

// .ConfigMaps: ConfigMap name -> {key: content} from documents whose origin
// is a ConfigMap. Throws crossover::Error when two namespaces hold a
// ConfigMap of the same name with the same key.
Value configmaps_value(const std::vector<DocumentPtr>& documents);

// .Env: only the listed variables that are set.
Value env_value(const std::vector<std::string>& names);

// Deep merge: maps merge key by key, `over` wins everywhere else.
Value merge_values(const Value& base, const Value& over);

}  // namespace crossover::tmpl
