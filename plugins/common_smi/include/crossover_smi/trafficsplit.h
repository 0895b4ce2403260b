// SMI TrafficSplit (split.smi-spec.io v1alpha1 .. v1alpha4) parsed from a
// crossover::Object into a plain struct with integer weights.
//
//  - v1alpha1: weights are Kubernetes quantities ("100", "500m", "1Ki"),
//    converted with quantities_to_weights (ratios exact).
//  - v1alpha2, v1alpha3, v1alpha4: weights are integers, kept as written; a
//    string weight ("500m", a v1alpha1 object read through a later version
//    with the CRD's conversion None) is a quantity, and the split's weights
//    are then converted as in v1alpha1.
//  - v1alpha3/v1alpha4 `spec.matches` is kept as a YAML node (aliases the
//    object's body: treat as read-only).
//
// Errors are crossover::Error with messages such as
//   "TrafficSplit test/podinfo: spec.backends[1].weight: negative weight -10"
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "crossover/snapshot.h"

namespace crossover::smi {

struct Backend {
    std::string service;
    std::uint32_t weight = 0;  // Envoy weight (v1alpha1: scaled exactly)
    std::string weight_text;   // the weight as written in the object
};

struct TrafficSplit {
    ObjectRef ref;            // kind "TrafficSplit", namespace, name, resourceVersion
    std::string api_version;  // "split.smi-spec.io/v1alpha2"
    std::string version;      // "v1alpha2"
    std::string service;      // spec.service (the root service)
    std::vector<Backend> backends;
    YAML::Node matches;  // spec.matches when present (v1alpha3+), else null

    // "TrafficSplit ns/name"
    [[nodiscard]] std::string describe() const { return ref.describe(); }
    // Sum of the backends' weights (fits in uint32 by construction).
    [[nodiscard]] std::uint64_t total_weight() const;
};

// True when `object` is a TrafficSplit (by ref.kind or the body's kind).
bool is_trafficsplit(const Object& object);

// Throws crossover::Error naming "TrafficSplit ns/name: <field>: <problem>" for
// a missing spec.service, no backends, a backend without a service, a
// duplicate backend, a negative or unparsable weight, weights that do not fit
// Envoy's uint32, or an unsupported apiVersion.
TrafficSplit parse_trafficsplit(const Object& object);

}  // namespace crossover::smi
