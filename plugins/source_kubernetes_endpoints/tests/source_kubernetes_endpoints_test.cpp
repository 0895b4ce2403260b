// The kubernetes_endpoints source against the test API server: a pod
// becoming ready reaches the EDS document, slices come and go, bad slices are
// refused without losing the last good output.
#define BOOST_TEST_MODULE source_kubernetes_endpoints
#include <boost/test/unit_test.hpp>

#include "endpoints_source.h"
#include "kube_test_support.h"

using namespace kube_test;
using crossover::Snapshot;
using crossover::kube::EndpointsSource;
using crossover::kube::kEndpointsSourceOptions;

namespace {

std::unique_ptr<EndpointsSource> make_source(const FakeApiServer& server, const std::string& extra,
                                             CaptureLogger& logger, bool onetime = false) {
    const auto config = make_config(kEndpointsSourceOptions.specs(), kEndpointsSourceOptions.size(),
                                    connection_yaml(server) + extra, logger, onetime);
    return std::make_unique<EndpointsSource>(config, kEndpointsSourceOptions.decode(config));
}

// An EndpointSlice of `service` with one port "http" 9898 and these endpoints
// (address -> ready).
std::string slice_json(const std::string& name, const std::string& service,
                       const std::vector<std::pair<std::string, bool>>& endpoints,
                       const std::string& address_type = "IPv4") {
    std::string eps;
    for (const auto& [address, ready] : endpoints) {
        eps += (eps.empty() ? "" : ",") + std::string(R"({"addresses":[")") + address +
               R"("],"conditions":{"ready":)" + (ready ? "true" : "false") + R"(,"serving":)" +
               (ready ? "true" : "false") + R"(,"terminating":false},"zone":"zone-a"})";
    }
    return R"({"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":")" +
           name + R"(","namespace":"test","labels":{"kubernetes.io/service-name":")" + service +
           R"("}},"addressType":")" + address_type +
           R"(","ports":[{"name":"http","protocol":"TCP","port":9898}],"endpoints":[)" + eps + "]}";
}

std::string eds(const Snapshot& s) {
    const auto* d = s.find_document("eds.yaml");
    return d == nullptr ? std::string() : d->content;
}

bool has(const Snapshot& s, const std::string& needle) {
    return eds(s).find(needle) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_pod_becoming_ready_reaches_the_eds_document) {
    FakeApiServer server;
    server.apply(slice_json("podinfo-a", "podinfo", {{"10.0.0.1", true}, {"10.0.0.2", false}}));
    server.apply(slice_json("other-a", "other", {{"10.9.9.9", true}}));
    CaptureLogger logger;
    auto source = make_source(server, "services: [podinfo]\n", logger);
    TestContext ctx;
    SourceRunner runner(*source, ctx);
    BOOST_REQUIRE(ctx.wait_for([](const Snapshot& s) { return has(s, "10.0.0.1"); }));
    const auto first = ctx.latest();
    BOOST_TEST(first->complete);
    BOOST_TEST(has(*first, "cluster_name: \"test/podinfo:http\""), eds(*first));
    BOOST_TEST(!has(*first, "10.0.0.2"));  // not ready
    BOOST_TEST(!has(*first, "10.9.9.9"));  // another Service
    BOOST_TEST(count(server, "GET", "labelSelector=kubernetes.io%2Fservice-name") >= 1);

    server.apply(slice_json("podinfo-a", "podinfo", {{"10.0.0.1", true}, {"10.0.0.2", true}}));
    BOOST_REQUIRE(ctx.wait_for([](const Snapshot& s) { return has(s, "10.0.0.2"); }));
    BOOST_TEST(has(*ctx.latest(), "load_balancing_weight: 2"), eds(*ctx.latest()));

    // A change EDS does not show (another Service's slice, a label) publishes nothing.
    const std::size_t published = ctx.published();
    server.apply(slice_json("other-a", "other", {{"10.9.9.8", true}}));
    server.apply(slice_json("podinfo-a", "podinfo", {{"10.0.0.2", true}, {"10.0.0.1", true}}));
    server.apply(slice_json("podinfo-a", "podinfo", {{"10.0.0.1", true}, {"10.0.0.3", true}}));
    BOOST_REQUIRE(ctx.wait_for([](const Snapshot& s) { return has(s, "10.0.0.3"); }));
    BOOST_TEST(ctx.published() == published + 1);
}

BOOST_AUTO_TEST_CASE(slices_added_and_removed) {
    FakeApiServer server;
    server.apply(slice_json("podinfo-a", "podinfo", {{"10.0.0.1", true}}));
    CaptureLogger logger;
    auto source =
        make_source(server, "label_selector: kubernetes.io/service-name=podinfo\n", logger);
    TestContext ctx;
    SourceRunner runner(*source, ctx);
    BOOST_REQUIRE(ctx.wait_for([](const Snapshot& s) { return has(s, "10.0.0.1"); }));
    server.apply(slice_json("podinfo-b", "podinfo", {{"fd00::7", true}}, "IPv6"));
    BOOST_REQUIRE(ctx.wait_for(
        [](const Snapshot& s) { return has(s, "10.0.0.1") && has(s, "\"fd00::7\""); }));
    server.remove("EndpointSlice", "test", "podinfo-a");
    BOOST_REQUIRE(ctx.wait_for(
        [](const Snapshot& s) { return !has(s, "10.0.0.1") && has(s, "\"fd00::7\""); }));
    server.remove("EndpointSlice", "test", "podinfo-b");
    BOOST_REQUIRE(ctx.wait_for([](const Snapshot& s) { return eds(s) == "resources: []\n"; }));
    BOOST_TEST(ctx.latest()->complete);  // a label selector requires nothing
}

BOOST_AUTO_TEST_CASE(bad_slices_are_refused_and_the_last_good_output_stays) {
    FakeApiServer server;
    server.apply(slice_json("podinfo-a", "podinfo", {{"10.0.0.1", true}}));
    CaptureLogger logger;
    auto source = make_source(server, "services: [podinfo]\n", logger);
    TestContext ctx;
    SourceRunner runner(*source, ctx);
    BOOST_REQUIRE(ctx.wait_for([](const Snapshot& s) { return has(s, "10.0.0.1"); }));
    const std::string good = eds(*ctx.latest());

    server.apply(slice_json("podinfo-a", "podinfo", {{"10.0.0.1", true}, {"10.0.0.300", true}}));
    BOOST_REQUIRE(eventually([&] {
        return logger.contains(
            "EndpointSlice test/podinfo-a: endpoints[1].addresses[0]: '10.0.0.300' is not an IPv4 "
            "address; keeping the last valid version");
    }));
    BOOST_TEST(eds(*ctx.latest()) == good);

    // A second, new slice that is bad from the start is skipped; the good one stays.
    server.apply(
        R"({"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"podinfo-b","namespace":"test","labels":{"kubernetes.io/service-name":"podinfo"}},"addressType":"IPv4","ports":[{"name":"http","port":"http"}],"endpoints":[]})");
    BOOST_REQUIRE(eventually([&] {
        return logger.contains(
            "EndpointSlice test/podinfo-b: ports[0].port: expected a port number 1-65535, got "
            "'http'; skipped");
    }));
    BOOST_TEST(eds(*ctx.latest()) == good);

    // Fixed: the new content flows again.
    server.apply(slice_json("podinfo-a", "podinfo", {{"10.0.0.4", true}}));
    BOOST_REQUIRE(
        ctx.wait_for([](const Snapshot& s) { return has(s, "10.0.0.4") && !has(s, "10.0.0.1"); }));
}

BOOST_AUTO_TEST_CASE(onetime_waits_for_every_named_service) {
    FakeApiServer server;
    server.apply(slice_json("podinfo-a", "podinfo", {{"10.0.0.1", true}}));
    CaptureLogger logger;
    auto source =
        make_source(server, "services: [podinfo, missing]\nwait_timeout: 1s\n", logger, true);
    TestContext ctx;
    const crossover::Status st = source->run(ctx);
    BOOST_REQUIRE(!st.is_ok());
    BOOST_TEST(
        st.message().find("Service test/missing has no valid EndpointSlice") != std::string::npos,
        st.message());

    auto ok = make_source(server, "services: [podinfo]\ndocument: endpoints.yaml\n", logger, true);
    TestContext ctx2;
    const crossover::Status st2 = ok->run(ctx2);
    BOOST_REQUIRE_MESSAGE(st2.is_ok(), st2.message());
    BOOST_REQUIRE(ctx2.latest());
    BOOST_REQUIRE(ctx2.latest()->find_document("endpoints.yaml") != nullptr);
    BOOST_TEST(ctx2.latest()->find_document("endpoints.yaml")->content.find("10.0.0.1") !=
               std::string::npos);
}

BOOST_AUTO_TEST_CASE(configuration_errors_name_the_option) {
    CaptureLogger logger;
    const auto fails_on = [&](const std::string& yaml, const std::string& needle) {
        auto config = make_config(kEndpointsSourceOptions.specs(), kEndpointsSourceOptions.size(),
                                  "apiserver: http://127.0.0.1:1\n" + yaml, logger);
        try {
            EndpointsSource source(config, kEndpointsSourceOptions.decode(config));
        } catch (const crossover::Error& e) {
            BOOST_TEST(std::string(e.what()).find(needle) != std::string::npos, e.what());
            return;
        }
        BOOST_ERROR("accepted: " << yaml);
    };
    fails_on("", "give 'services' or 'label_selector'");
    fails_on("services: [a]\ninclude: all\n", "include");
    fails_on("services: [a]\ncluster_name: '{{service}}'\n", "cluster_name");
    fails_on("services: [a]\ndocument: a/b.yaml\n", "document");
    fails_on("services: ['a,b']\n", "services");
}
