// The objects crossover-bench writes to the test API server (an RDS ConfigMap of N
// virtual hosts, TrafficSplits named after them) and crossover's own measurement of
// a change, read from its log.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
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

// The last "wrote new output" of the log since `offset`, waited for up to `bound`: crossover
// logs it once the output is swapped, so it may land just after the file the bench saw.
inline std::optional<double> wait_own_latency_ms(const std::string& log_path, std::size_t& offset,
                                                 std::chrono::milliseconds bound) {
    const auto until = Clock::now() + bound;
    for (;;) {
        if (const auto mine = own_latencies_ms(log_path, offset); !mine.empty()) {
            return mine.back();
        }
        if (Clock::now() >= until) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

// One update, for --updates-csv: no e2e when it never reached the output, no own part when
// the binary did not log it.
struct UpdateLine {
    int index = 0;
    std::optional<double> e2e_ms;
    std::optional<double> own_ms;
    std::optional<double> rss_mib;  // right after the update reached the output
};

inline const char* const kUpdatesCsvHeader =
    "case,vhosts,splits,binary,update,e2e_ms,own_ms,rss_after_mib\n";

// --updates-csv: one line per update ("failed" for an e2e never seen, empty for what is not
// known).
inline void write_update_lines(std::ostream& csv, const std::string& case_name, int vhosts,
                               int splits, const std::string& binary,
                               const std::vector<UpdateLine>& lines) {
    const auto opt = [](const std::optional<double>& v, int digits) {
        return v ? fixed(*v, digits) : std::string();
    };
    for (const auto& u : lines) {
        csv << '"' << case_name << "\"," << vhosts << "," << splits << "," << binary << ","
            << u.index << "," << (u.e2e_ms ? fixed(*u.e2e_ms, 3) : std::string("failed")) << ","
            << opt(u.own_ms, 3) << "," << opt(u.rss_mib, 2) << "\n";
    }
}

}  // namespace crossover::bench
