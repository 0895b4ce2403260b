#define BOOST_TEST_MODULE kubernetes_e2e
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdio>

#include "fake_apiserver.h"
#include "kube_test_support.h"
#include "process.h"

namespace ct = crossover::test;
using kube_test::configmap_json;
using kube_test::FakeApiServer;

namespace {

// A kubeconfig for the test server, so the binary resolves it the way users do.
std::string write_kubeconfig(const FakeApiServer& server, const std::string& dir) {
    const std::string path = dir + "/kubeconfig";
    std::ofstream(path) << "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
                        << "contexts:\n- name: test\n  context: {cluster: fake, user: crossover, "
                           "namespace: test}\n"
                        << "clusters:\n- name: fake\n  cluster:\n    server: " << server.url()
                        << "\n    certificate-authority: " << server.ca_file() << "\n"
                        << "users:\n- name: crossover\n  user:\n    tokenFile: "
                        << server.token_file() << "\n";
    return path;
}

std::string pipeline(const std::string& kubeconfig, const std::string& out_dir,
                     const std::string& names) {
    return "engine: {debounce: 5ms, max_delay: 100ms}\n"
           "sources:\n"
           "  xds:\n"
           "    type: kubernetes_configmap\n"
           "    kubeconfig: " +
           kubeconfig + "\n    names: " + names +
           "\n    wait_timeout: 2s\n"
           "sinks:\n"
           "  envoy:\n"
           "    type: symlink\n"
           "    inputs: [xds]\n"
           "    dir: " +
           out_dir + "\n";
}

// A manifest fixture (YAML) as the JSON the test API server takes.
std::string fixture_json(const std::string& relative) {
    const YAML::Node node = YAML::LoadFile(ct::fixtures_dir() + "/" + relative);
    std::string out;
    crossover::testing::fake_apiserver_detail::yaml_to_json(node, out);
    return out;
}

// The weight of `cluster` in the first weighted route of an RDS document.
std::string cluster_weight(const std::string& rds_text, const std::string& cluster) {
    try {
        const YAML::Node rds = YAML::Load(rds_text);
        for (const auto& vh : rds["resources"][0]["virtual_hosts"]) {
            for (const auto& route : vh["routes"]) {
                const YAML::Node wc = route["route"]["weighted_clusters"];
                if (!wc) {
                    continue;
                }
                for (const auto& c : wc["clusters"]) {
                    if (c["name"].as<std::string>() == cluster) {
                        return c["weight"].as<std::string>();
                    }
                }
            }
        }
    } catch (const std::exception&) {  // NOLINT(bugprone-empty-catch): not written yet
    }
    return "<none>";
}

}  // namespace

BOOST_AUTO_TEST_CASE(flagger_steps_reach_the_output_through_smi_merge) {
    FakeApiServer server;
    ct::TempDir t;
    server.apply(fixture_json("manifests/envoy-xds.configmap.yaml"));
    server.apply(fixture_json("trafficsplit/flagger-v1alpha1.yaml"));
    const std::string kc = write_kubeconfig(server, t.path());
    const std::string out = t / "out";
    ct::write_text(t / "p.yaml",
                   "engine: {debounce: 5ms, max_delay: 100ms}\n"
                   "sources:\n"
                   "  xds: {type: kubernetes_configmap, kubeconfig: " +
                       kc +
                       ", names: [envoy-xds]}\n"
                       "  splits: {type: smi_trafficsplit, kubeconfig: " +
                       kc +
                       ", names: [podinfo], api_version: v1alpha1}\n"
                       "transforms:\n"
                       "  weighted: {type: smi_merge, inputs: [xds, splits]}\n"
                       "sinks:\n"
                       "  envoy: {type: symlink, inputs: [weighted], dir: " +
                       out + "}\n");
    ct::Process proc({ct::crossover_bin(), "run", t / "p.yaml", "--listen", "off"}, t.path());
    const std::string rds = out + "/current/rds.yaml";
    BOOST_REQUIRE_MESSAGE(
        ct::eventually([&] { return cluster_weight(ct::read_text(rds), "podinfo-canary") == "5"; }),
        "first output never appeared; stderr:\n"
            << proc.err());
    BOOST_TEST(cluster_weight(ct::read_text(rds), "podinfo-primary") == "95");

    std::vector<double> latencies_ms;
    for (int step = 10; step <= 50; step += 10) {
        std::string ts = fixture_json("trafficsplit/flagger-v1alpha1.yaml");
        const auto set = [&](const std::string& from, const std::string& to) {
            const auto pos = ts.find(from);
            BOOST_REQUIRE(pos != std::string::npos);
            ts.replace(pos, from.size(), to);
        };
        set(R"("weight":"5")", R"("weight":")" + std::to_string(step) + "\"");
        set(R"("weight":"95")", R"("weight":")" + std::to_string(100 - step) + "\"");
        const auto t0 = std::chrono::steady_clock::now();
        server.apply(ts);
        BOOST_REQUIRE_MESSAGE(ct::eventually([&] {
                                  return cluster_weight(ct::read_text(rds), "podinfo-canary") ==
                                         std::to_string(step);
                              }),
                              "step " << step << " never reached the output; stderr:\n"
                                      << proc.err());
        latencies_ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
    }
    std::sort(latencies_ms.begin(), latencies_ms.end());
    std::printf(
        "TrafficSplit step -> output file latency over %zu steps: median %.1f ms, max "
        "%.1f ms\n",
        latencies_ms.size(), latencies_ms[latencies_ms.size() / 2], latencies_ms.back());
    // An invalid step is refused and the last good weights stay.
    std::string bad = fixture_json("trafficsplit/flagger-v1alpha1.yaml");
    bad.replace(bad.find(R"("weight":"5")"), 12, R"("weight":"-5")");
    server.apply(bad);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    BOOST_TEST(cluster_weight(ct::read_text(rds), "podinfo-canary") == "50");
    proc.signal(SIGTERM);
    BOOST_TEST(proc.wait(std::chrono::seconds(10)) == 0);
}

BOOST_AUTO_TEST_CASE(plugins_are_listed_by_the_binary) {
    ct::TempDir t;
    const auto r = ct::run({ct::crossover_bin(), "plugins"}, t.path());
    BOOST_REQUIRE_EQUAL(r.code, 0);
    BOOST_TEST(r.out.find("source kubernetes_configmap") != std::string::npos);
    BOOST_TEST(r.out.find("source smi_trafficsplit") != std::string::npos);
    BOOST_TEST(r.out.find("sink kubernetes_configmap") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(configmap_updates_reach_the_output_directory) {
    FakeApiServer server;
    ct::TempDir t;
    server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v0"}, {"cds.yaml", "c"}}));
    const std::string kc = write_kubeconfig(server, t.path());
    const std::string out = t / "out";
    ct::write_text(t / "p.yaml", pipeline(kc, out, "[envoy-xds]"));
    ct::Process proc({ct::crossover_bin(), "run", t / "p.yaml", "--listen", "off"}, t.path());
    const std::string rds = out + "/current/rds.yaml";
    BOOST_REQUIRE_MESSAGE(ct::eventually([&] { return ct::read_text(rds) == "v0"; }),
                          "first output never appeared; stderr:\n"
                              << proc.err());
    BOOST_TEST(ct::read_text(out + "/current/cds.yaml") == "c");

    std::vector<double> latencies_ms;
    std::vector<double> after_apply_ms;  // from the server's acknowledgement of the update
    for (int i = 1; i <= 20; ++i) {
        const std::string want = "v" + std::to_string(i);
        const auto t0 = std::chrono::steady_clock::now();
        server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", want}, {"cds.yaml", "c"}}));
        const auto t1 = std::chrono::steady_clock::now();
        BOOST_REQUIRE_MESSAGE(ct::eventually([&] { return ct::read_text(rds) == want; }),
                              "update " << i << " never reached the output; stderr:\n"
                                        << proc.err());
        latencies_ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
        after_apply_ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t1)
                .count());
    }
    std::sort(latencies_ms.begin(), latencies_ms.end());
    std::sort(after_apply_ms.begin(), after_apply_ms.end());
    std::printf("after the server acknowledged the update: median %.1f ms, max %.1f ms\n",
                after_apply_ms[after_apply_ms.size() / 2], after_apply_ms.back());
    std::printf(
        "ConfigMap update -> output file latency over %zu updates (incl. the control "
        "request): median %.1f ms, max %.1f ms\n",
        latencies_ms.size(), latencies_ms[latencies_ms.size() / 2], latencies_ms.back());

    // A deleted ConfigMap leaves the last output in place.
    server.remove("ConfigMap", "test", "envoy-xds");
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    BOOST_TEST(ct::read_text(rds) == "v20");
    BOOST_TEST(proc.running());
    server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "back"}}));
    BOOST_REQUIRE(ct::eventually([&] { return ct::read_text(rds) == "back"; }));
    proc.signal(SIGTERM);
    BOOST_TEST(proc.wait(std::chrono::seconds(10)) == 0);
}

BOOST_AUTO_TEST_CASE(onetime_writes_or_fails_naming_the_missing_configmap) {
    FakeApiServer server;
    ct::TempDir t;
    server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v1"}}));
    const std::string kc = write_kubeconfig(server, t.path());
    ct::write_text(t / "ok.yaml", pipeline(kc, t / "out", "[envoy-xds]"));
    auto r = ct::run({ct::crossover_bin(), "run", t / "ok.yaml", "--onetime"}, t.path());
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    BOOST_TEST(ct::read_text(t / "out/current/rds.yaml") == "v1");

    ct::write_text(t / "missing.yaml", pipeline(kc, t / "out2", "[envoy-xds, not-there]"));
    r = ct::run({ct::crossover_bin(), "run", t / "missing.yaml", "--onetime"}, t.path());
    BOOST_TEST(r.code != 0);
    BOOST_TEST(r.err.find("test/not-there") != std::string::npos, r.err);
    BOOST_TEST(!std::filesystem::exists(t / "out2/current/rds.yaml"));
}
