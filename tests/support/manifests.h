// Kubernetes manifests the end-to-end tests write for the file source.
#pragma once

#include <string>

namespace crossover::test {

// The TrafficSplit test/podinfo with backends podinfo-primary and podinfo-canary. v1alpha1
// weights are quantities, written as strings; later versions take integers. Flagger lists the
// canary first, people often the primary: `canary_first` picks the order.
inline std::string trafficsplit_manifest(const std::string& version, const std::string& primary,
                                         const std::string& canary, bool canary_first) {
    const bool quantities = version == "v1alpha1";
    const auto backend = [&](const std::string& service, const std::string& weight) {
        return "  - service: " + service +
               "\n    weight: " + (quantities ? "\"" + weight + "\"" : weight) + "\n";
    };
    const std::string p = backend("podinfo-primary", primary);
    const std::string c = backend("podinfo-canary", canary);
    return "apiVersion: split.smi-spec.io/" + version +
           "\nkind: TrafficSplit\nmetadata: {name: podinfo, namespace: test}\nspec:\n"
           "  service: podinfo\n  backends:\n" +
           (canary_first ? c + p : p + c);
}

}  // namespace crossover::test
