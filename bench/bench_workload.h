// The objects crossover-bench writes to the test API server (an RDS ConfigMap of N
// virtual hosts, TrafficSplits named after them) and crossover's own measurement of
// a change, read from its log.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "bench_process.h"
#include "fake_apiserver.h"

namespace crossover::bench {

inline std::string vhost_name(int i) {
    return "vh-" + std::to_string(i);
}

// An RDS DiscoveryResponse with `vhosts` virtual hosts, each routing by
// weighted_clusters to <vh>-primary (100) and <vh>-canary (0).
inline std::string rds_yaml(int vhosts, const std::string& version) {
    std::string y;
    y.reserve(static_cast<std::size_t>(vhosts) * 260 + 200);
    y += "version_info: \"" + version + "\"\n";
    y += "resources:\n";
    y += "- \"@type\": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n";
    y += "  name: local_route\n";
    y += "  virtual_hosts:\n";
    for (int i = 0; i < vhosts; ++i) {
        const std::string n = vhost_name(i);
        y += "  - name: " + n + "\n";
        y += "    domains: [\"" + n + "\", \"" + n + ".bench.svc.cluster.local\"]\n";
        y += "    routes:\n";
        y += "    - match: {prefix: \"/\"}\n";
        y += "      route:\n";
        y += "        timeout: 15s\n";
        y += "        weighted_clusters:\n";
        y += "          clusters:\n";
        y += "          - name: " + n + "-primary\n";
        y += "            weight: 100\n";
        y += "          - name: " + n + "-canary\n";
        y += "            weight: 0\n";
    }
    return y;
}

inline std::string json_string(const std::string& s) {
    return crossover::testing::fake_apiserver_detail::json_quote(s);
}

inline std::string configmap_json(const std::string& ns, const std::string& rds) {
    return R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"envoy-xds","namespace":)" +
           json_string(ns) + R"(},"data":{"rds.yaml":)" + json_string(rds) + "}}";
}

inline std::string split_json(const std::string& ns, int i, long primary, long canary) {
    const std::string n = vhost_name(i);
    return R"({"apiVersion":"split.smi-spec.io/v1alpha2","kind":"TrafficSplit","metadata":{"name":)" +
           json_string(n) + R"(,"namespace":)" + json_string(ns) + R"(},"spec":{"service":)" +
           json_string(n) + R"(,"backends":[{"service":)" + json_string(n + "-primary") +
           R"(,"weight":)" + std::to_string(primary) + R"(},{"service":)" +
           json_string(n + "-canary") + R"(,"weight":)" + std::to_string(canary) + "}]}}";
}

// "wrote new output (N us after the change)" lines of the log since `offset`.
inline std::vector<double> own_latencies_ms(const std::string& log_path, std::size_t& offset) {
    const std::string text = read_file(log_path);
    std::vector<double> out;
    const std::string needle = "wrote new output (";
    for (auto at = text.find(needle, offset); at != std::string::npos;
         at = text.find(needle, at + 1)) {
        out.push_back(std::stod(text.substr(at + needle.size())) / 1000.0);
    }
    offset = text.size();
    return out;
}

}  // namespace crossover::bench
