// EndpointSlices served over xDS: the real binary with the kubernetes_endpoints
// source and the xds_server sink; a client subscribed to one
// ClusterLoadAssignment by name (as gRPC's xDS clients subscribe) gets the
// pod IPs, and a pod becoming ready pushes a new version.
#define BOOST_TEST_MODULE endpoints_xds
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <regex>
#include <string>

#include "fake_apiserver.h"
#include "test_support.h"

using namespace crossover::xds_server;
using namespace crossover::xds_server::test;
using crossover::test::Process;
using crossover::test::TempDir;
using crossover::testing::FakeApiServer;
using namespace std::chrono_literals;

namespace {

int logged_port(const std::string& log) {
    static const std::regex re("serving xDS .* on 127\\.0\\.0\\.1:([0-9]+)");
    std::smatch m;
    return std::regex_search(log, m, re) ? std::stoi(m[1]) : 0;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_pod_becoming_ready_is_pushed_to_eds_subscribers) {
    const auto* api = api_or_skip();
    if (api == nullptr) {
        return;
    }
    const Messages messages(*api);
    FakeApiServer k8s;
    TempDir tmp;
    const std::string slice_file =
        crossover::test::fixtures_dir() + "/endpointslice/podinfo-ipv4.yaml";
    k8s.apply_file(slice_file);
    crossover::test::write_text(
        tmp / "pipeline.yaml",
        "sources:\n  endpoints:\n    type: kubernetes_endpoints\n    services: [podinfo]\n"
        "sinks:\n  xds:\n    type: xds_server\n    inputs: [endpoints]\n"
        "    listen: 127.0.0.1:0\n    proto_path: " +
            crossover::test::build_dir() + "/share/crossover/envoy-protos\n");
    Process crossover(
        {crossover::test::crossover_bin(), "run", tmp / "pipeline.yaml", "--listen", "off"},
        tmp.path(), {"KUBECONFIG=" + k8s.write_kubeconfig("test"), "POD_NAMESPACE=test"});
    int port = 0;
    BOOST_REQUIRE_MESSAGE(eventually([&] { return (port = logged_port(crossover.err())) != 0; }),
                          crossover.err());

    SotwClient c(channel_to(port), messages);
    BOOST_REQUIRE(c.send({std::string(kEndpointType), {"test/podinfo:http"}}));
    auto eds = c.receive();
    BOOST_REQUIRE_MESSAGE(eds, crossover.err());
    BOOST_TEST(eds->names == std::vector<std::string>{"test/podinfo:http"});
    const std::string first = eds->messages.at(0)->ShortDebugString();
    BOOST_TEST(first.find("10.1.2.3") != std::string::npos, first);
    BOOST_TEST(first.find("10.1.3.7") == std::string::npos, first);  // still starting
    BOOST_TEST(first.find("load_balancing_weight { value: 1 }") != std::string::npos, first);
    BOOST_REQUIRE(c.ack(*eds, {"test/podinfo:http"}));

    std::string slice = crossover::test::read_text(slice_file);
    const std::string starting = "conditions: {ready: false, serving: false, terminating: false}";
    slice.replace(slice.find(starting), starting.size(),
                  "conditions: {ready: true, serving: true, terminating: false}");
    k8s.apply(slice);
    auto eds2 = c.receive(30s);
    BOOST_REQUIRE_MESSAGE(eds2, crossover.err());
    BOOST_TEST(eds2->version != eds->version);
    BOOST_TEST(eds2->messages.at(0)->ShortDebugString().find("10.1.3.7") != std::string::npos);

    ::kill(crossover.pid(), SIGTERM);
    BOOST_TEST(crossover.wait(20s) == 0);
}
