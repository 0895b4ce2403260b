// The kubernetes_endpoints source in the real binary: EndpointSlices from the
// test API server become an EDS file that envoy_validate accepts (Envoy's own
// protos), and a pod becoming ready reaches the file while watching.
#define BOOST_TEST_MODULE endpoints_e2e
#include <boost/test/unit_test.hpp>

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>

#include "fake_apiserver.h"
#include "process.h"

namespace ct = crossover::test;
using crossover::testing::FakeApiServer;
using Clock = std::chrono::steady_clock;

namespace {

bool protos_present() {
    return std::filesystem::exists(ct::build_dir() + "/share/crossover/envoy-protos/VERSION");
}

struct SkipNotice {
    SkipNotice() {
        if (!protos_present()) {
            std::cout << "SKIPPED: Envoy protos absent (run `make envoy_protos`)" << std::endl;
        }
    }
};
BOOST_TEST_GLOBAL_FIXTURE(SkipNotice);

boost::test_tools::assertion_result with_protos(boost::unit_test::test_unit_id) {
    return protos_present();
}

std::string pipeline(const std::string& out_dir) {
    return "sources:\n"
           "  endpoints:\n"
           "    type: kubernetes_endpoints\n"
           "    services: [podinfo, backend]\n"
           "    include: serving\n"
           "transforms:\n"
           "  checked:\n"
           "    type: envoy_validate\n"
           "    inputs: [endpoints]\n"
           "sinks:\n"
           "  envoy:\n"
           "    type: symlink\n"
           "    inputs: [checked]\n"
           "    dir: " +
           out_dir + "\n";
}

std::string read_or_empty(const std::string& path) {
    try {
        return ct::read_text(path);
    } catch (const std::exception&) {  // NOLINT(bugprone-empty-catch): not written yet
        return {};
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(eds_file_passes_envoy_validate, *boost::unit_test::precondition(with_protos)) {
    FakeApiServer api;
    ct::TempDir t;
    for (const char* f : {"podinfo-ipv4.yaml", "podinfo-ipv6.yaml", "unnamed-port.yaml"}) {
        api.apply_file(ct::fixtures_dir() + "/endpointslice/" + f);
    }
    ct::write_text(t / "pipeline.yaml", pipeline(t / "out"));
    const std::vector<std::string> env{"KUBECONFIG=" + api.write_kubeconfig("test"),
                                       "POD_NAMESPACE=test"};
    const auto r = ct::run({ct::crossover_bin(), "run", t / "pipeline.yaml", "--onetime"}, t.path(),
                           std::chrono::seconds(120), env);
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    const YAML::Node eds = YAML::LoadFile(t / "out/current/eds.yaml");
    BOOST_REQUIRE_EQUAL(eds["resources"].size(), 3U);
    BOOST_TEST(eds["resources"][2]["cluster_name"].as<std::string>() == "test/podinfo:http");
    BOOST_TEST(eds["resources"][2]["endpoints"].size() == 2U);  // zones eu-west-1a, eu-west-1b
    BOOST_TEST(
        eds["resources"][2]["endpoints"][1]["lb_endpoints"][0]["health_status"].as<std::string>() ==
        "DRAINING");
}

BOOST_AUTO_TEST_CASE(a_pod_becoming_ready_reaches_the_file,
                     *boost::unit_test::precondition(with_protos)) {
    FakeApiServer api;
    ct::TempDir t;
    api.apply_file(ct::fixtures_dir() + "/endpointslice/podinfo-ipv4.yaml");
    api.apply_file(ct::fixtures_dir() + "/endpointslice/unnamed-port.yaml");
    ct::write_text(t / "pipeline.yaml", pipeline(t / "out"));
    const std::vector<std::string> env{"KUBECONFIG=" + api.write_kubeconfig("test"),
                                       "POD_NAMESPACE=test"};
    ct::Process proc({ct::crossover_bin(), "run", t / "pipeline.yaml", "--listen", "off"}, t.path(),
                     env);
    const std::string file = t / "out/current/eds.yaml";
    BOOST_REQUIRE_MESSAGE(
        ct::eventually([&] { return !read_or_empty(file).empty(); }, std::chrono::seconds(60)),
        proc.err());
    BOOST_TEST(read_or_empty(file).find("10.1.3.7") == std::string::npos);

    // The starting pod 10.1.3.7 becomes ready.
    std::string slice = ct::read_text(ct::fixtures_dir() + "/endpointslice/podinfo-ipv4.yaml");
    const std::string starting = "conditions: {ready: false, serving: false, terminating: false}";
    slice.replace(slice.find(starting), starting.size(),
                  "conditions: {ready: true, serving: true, terminating: false}");
    const auto t0 = Clock::now();
    api.apply(slice);
    BOOST_REQUIRE_MESSAGE(
        ct::eventually([&] { return read_or_empty(file).find("10.1.3.7") != std::string::npos; },
                       std::chrono::seconds(60)),
        proc.err());
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    std::cout << "EndpointSlice update -> current/eds.yaml (with envoy_validate): " << ms
              << " ms\n";
    proc.signal(SIGTERM);
    BOOST_TEST(proc.wait() == 0, proc.err());
}
