// A Flagger canary, played against the test Kubernetes API server with the
// real crossover binary. Each step writes the TrafficSplit exactly as Flagger's
// SMI routers do (pkg/router/smi.go for smi:v1alpha1, smi_v1alpha2.go,
// smi_v1alpha3.go): one object named after the target, backends
// <app>-canary then <app>-primary, v1alpha1 weights as quantities (strings),
// later versions as integers. After every step the RDS file behind
// <output>/current must carry exactly that step's weights.
//
// The analysis runs 0 -> 5 -> ... -> 50, promotes (all traffic back to the
// primary, which now runs the new version), then a second analysis reaches 10
// and is rolled back (all traffic to the primary).
//
// The Gateway API provider (gatewayapi:v1, pkg/router/gateway_api.go) plays the
// same canary through an HTTPRoute named after the target, whose one rule's
// backendRefs are <app>-primary then <app>-canary with the step's weights,
// through config/in-cluster-gatewayapi.yaml.
#define BOOST_TEST_MODULE flagger_canary
#include <boost/test/unit_test.hpp>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "fake_apiserver.h"
#include "process.h"

namespace ct = crossover::test;
using crossover::testing::FakeApiServer;

namespace {

using Clock = std::chrono::steady_clock;

// The TrafficSplit Flagger writes for `canary` percent of the traffic.
std::string flagger_split(const std::string& version, int canary) {
    const bool quantity = version == "v1alpha1";
    const auto weight = [&](int w) {
        return quantity ? "\"" + std::to_string(w) + "\"" : std::to_string(w);
    };
    return "apiVersion: split.smi-spec.io/" + version +
           "\n"
           "kind: TrafficSplit\n"
           "metadata:\n"
           "  name: podinfo\n"
           "  namespace: test\n"
           "  ownerReferences:\n"
           "  - apiVersion: flagger.app/v1beta1\n"
           "    kind: Canary\n"
           "    name: podinfo\n"
           "    controller: true\n"
           "    blockOwnerDeletion: true\n"
           "    uid: 3f1c2c55-0000-4000-8000-000000000001\n"
           "spec:\n"
           "  service: podinfo\n"
           "  backends:\n"
           "  - service: podinfo-canary\n"
           "    weight: " +
           weight(canary) +
           "\n"
           "  - service: podinfo-primary\n"
           "    weight: " +
           weight(100 - canary) + "\n";
}

// {primary, canary} weights of the podinfo route in an RDS document; {-1, -1}
// when the file is missing or does not have them (yet).
std::pair<int, int> weights(const std::string& rds_path) {
    std::pair<int, int> w{-1, -1};
    try {
        const YAML::Node rds = YAML::LoadFile(rds_path);
        for (const auto& vh : rds["resources"][0]["virtual_hosts"]) {
            if (vh["name"].as<std::string>() != "podinfo") {
                continue;
            }
            for (const auto& c : vh["routes"][0]["route"]["weighted_clusters"]["clusters"]) {
                const auto name = c["name"].as<std::string>();
                if (name == "podinfo-primary") {
                    w.first = c["weight"].as<int>();
                } else if (name == "podinfo-canary") {
                    w.second = c["weight"].as<int>();
                }
            }
        }
    } catch (const std::exception&) {  // NOLINT(bugprone-empty-catch): not written yet
        return {-1, -1};
    }
    return w;
}

// Polls until the output has `canary` percent; returns the time it took, or
// a negative duration after a generous deadline (the machine may be busy).
double wait_for(const std::string& rds_path, int canary, Clock::time_point since) {
    const auto deadline = since + std::chrono::seconds(60);
    const std::pair<int, int> want{100 - canary, canary};
    while (Clock::now() < deadline) {
        if (weights(rds_path) == want) {
            return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
        }
        std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    return -1;
}

// The HTTPRoute Flagger's gatewayapi:v1 router writes for `canary` percent.
std::string flagger_httproute(int canary) {
    return "apiVersion: gateway.networking.k8s.io/v1\n"
           "kind: HTTPRoute\n"
           "metadata:\n"
           "  name: podinfo\n"
           "  namespace: test\n"
           "  ownerReferences:\n"
           "  - apiVersion: flagger.app/v1beta1\n"
           "    kind: Canary\n"
           "    name: podinfo\n"
           "    controller: true\n"
           "    blockOwnerDeletion: true\n"
           "    uid: 3f1c2c55-0000-4000-8000-000000000001\n"
           "spec:\n"
           "  parentRefs:\n"
           "  - {group: gateway.networking.k8s.io, kind: Gateway, name: gateway, namespace: "
           "istio-ingress}\n"
           "  hostnames: [podinfo]\n"
           "  rules:\n"
           "  - matches:\n"
           "    - path: {type: PathPrefix, value: /}\n"
           "    backendRefs:\n"
           "    - {group: \"\", kind: Service, name: podinfo-primary, port: 9898, weight: " +
           std::to_string(100 - canary) +
           "}\n"
           "    - {group: \"\", kind: Service, name: podinfo-canary, port: 9898, weight: " +
           std::to_string(canary) + "}\n";
}

// The analysis steps of every provider: stepWeight 5 up to maxWeight 50, promotion, the next
// revision's analysis to 10, rollback.
std::vector<int> canary_steps() {
    std::vector<int> steps;
    for (int w = 5; w <= 50; w += 5) {
        steps.push_back(w);
    }
    steps.insert(steps.end(), {0, 5, 10, 0});
    return steps;
}

struct Canary {
    std::string version;
    bool legacy_flags;
};

void play(const Canary& c) {
    FakeApiServer::Options options;
    options.preferred_version = c.version;
    FakeApiServer api(options);
    ct::TempDir t;
    api.apply_file(ct::fixtures_dir() + "/manifests/envoy-xds.configmap.yaml");
    // Flagger's Reconcile: the split is created with all traffic on the primary.
    api.apply(flagger_split(c.version, 0));

    const std::string out = t / "runtime";
    std::vector<std::string> argv;
    std::vector<std::string> env;
    if (c.legacy_flags) {
        // The original crossover's command line, as its Helm chart ran it.
        argv = {ct::crossover_bin(),
                "--apiserver",
                api.url(),
                "--token-file",
                api.token_file(),
                "--ca-file",
                api.ca_file(),
                "--namespace",
                "test",
                "--configmap",
                "envoy-xds",
                "--smi",
                "--trafficsplit",
                "podinfo",
                "--trafficsplit-api-version",
                c.version,
                "--output-dir",
                out,
                "--swap",
                "symlink",
                "--listen",
                "off"};
    } else {
        // The ready-made sidecar pipeline, reaching the server through a kubeconfig.
        argv = {ct::crossover_bin(), "run", ct::source_dir() + "/config/in-cluster.yaml",
                "--listen", "off"};
        env = {"KUBECONFIG=" + api.write_kubeconfig("test"), "POD_NAMESPACE=test",
               "CROSSOVER_OUTPUT_DIR=" + out};
    }
    ct::Process proc(argv, t.path(), env);
    const std::string rds = out + "/current/rds.yaml";
    BOOST_REQUIRE_MESSAGE(wait_for(rds, 0, Clock::now()) >= 0,
                          "the first output never appeared; stderr:\n"
                              << proc.err());

    std::vector<double> latencies;
    for (const int w : canary_steps()) {
        const auto t0 = Clock::now();
        api.apply(flagger_split(c.version, w));
        const double ms = wait_for(rds, w, t0);
        BOOST_REQUIRE_MESSAGE(ms >= 0, c.version << ": step to canary weight " << w
                                                 << " never reached the output; stderr:\n"
                                                 << proc.err());
        latencies.push_back(ms);
    }
    std::sort(latencies.begin(), latencies.end());
    const double median = latencies.empty() ? 0.0 : latencies[latencies.size() / 2];
    const double worst = latencies.empty() ? 0.0 : latencies.back();
    std::ostringstream line;
    line << "Flagger smi:" << c.version << " ("
         << (c.legacy_flags ? "original flags" : "config/in-cluster.yaml")
         << "): TrafficSplit update -> current/rds.yaml over " << latencies.size()
         << " steps: median " << median << " ms, max " << worst << " ms\n";
    std::cout << line.str() << std::flush;

    proc.signal(SIGTERM);
    BOOST_TEST(proc.wait() == 0, proc.err());
    BOOST_TEST((weights(rds) == std::pair<int, int>{100, 0}));
}

}  // namespace

BOOST_AUTO_TEST_CASE(flagger_smi_v1alpha1) {
    play({"v1alpha1", false});
    play({"v1alpha1", true});
}

BOOST_AUTO_TEST_CASE(flagger_smi_v1alpha2) {
    play({"v1alpha2", false});
    play({"v1alpha2", true});
}

BOOST_AUTO_TEST_CASE(flagger_smi_v1alpha3) {
    play({"v1alpha3", false});
    play({"v1alpha3", true});
}

BOOST_AUTO_TEST_CASE(flagger_gatewayapi_v1) {
    FakeApiServer api;
    ct::TempDir t;
    api.apply_file(ct::fixtures_dir() + "/manifests/envoy-xds.configmap.yaml");
    api.apply(flagger_httproute(0));  // Reconcile: all traffic on the primary
    const std::string out = t / "runtime";
    ct::Process proc({ct::crossover_bin(), "run",
                      ct::source_dir() + "/config/in-cluster-gatewayapi.yaml", "--listen", "off"},
                     t.path(),
                     {"KUBECONFIG=" + api.write_kubeconfig("test"), "POD_NAMESPACE=test",
                      "CROSSOVER_OUTPUT_DIR=" + out});
    const std::string rds = out + "/current/rds.yaml";
    BOOST_REQUIRE_MESSAGE(wait_for(rds, 0, Clock::now()) >= 0,
                          "the first output never appeared; stderr:\n"
                              << proc.err());
    std::vector<double> latencies;
    for (const int w : canary_steps()) {
        const auto t0 = Clock::now();
        api.apply(flagger_httproute(w));
        const double ms = wait_for(rds, w, t0);
        BOOST_REQUIRE_MESSAGE(ms >= 0, "gatewayapi:v1: step to canary weight "
                                           << w << " never reached the output; stderr:\n"
                                           << proc.err());
        latencies.push_back(ms);
    }
    // A bad step (a negative weight) is refused naming the rule and the backend; the last
    // good weights stay.
    std::string bad = flagger_httproute(10);
    bad.replace(bad.find("weight: 10}"), 11, "weight: -10}");
    api.apply(bad);
    BOOST_REQUIRE(ct::eventually(
        [&] {
            return proc.err().find(
                       "spec.rules[0].backendRefs[1] (podinfo-canary): weight: "
                       "negative weight -10") != std::string::npos;
        },
        std::chrono::seconds(60)));
    BOOST_TEST((weights(rds) == std::pair<int, int>{100, 0}));
    std::sort(latencies.begin(), latencies.end());
    std::cout << "Flagger gatewayapi:v1 (config/in-cluster-gatewayapi.yaml): HTTPRoute update -> "
                 "current/rds.yaml over "
              << latencies.size() << " steps: median " << latencies[latencies.size() / 2]
              << " ms, max " << latencies.back() << " ms\n"
              << std::flush;
    proc.signal(SIGTERM);
    BOOST_TEST(proc.wait() == 0, proc.err());
}
