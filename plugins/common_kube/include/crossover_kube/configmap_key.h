// Kubernetes' rule for a ConfigMap data key (the API server's IsConfigMapKey):
// letters, digits, '-', '_' and '.', at most 253 of them, and not ".", ".."
// or anything starting with "..". Such a key is also a safe file name, which
// is why the ConfigMap source writes keys as files without escaping them.
#pragma once

#include <algorithm>
#include <string_view>

namespace crossover::kube {

inline bool is_configmap_key(std::string_view key) {
    if (key.empty() || key == "." || key.substr(0, 2) == ".." || key.size() > 253) {
        return false;
    }
    return std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
    });
}

}  // namespace crossover::kube
