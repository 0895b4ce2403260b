// The gateway_httproute source against the test API server: Flagger's weight
// steps arrive as objects, both versions are served, bad routes are refused
// naming the rule and the backend while the last valid version stays.
#define BOOST_TEST_MODULE source_gateway_httproute
#include <boost/test/unit_test.hpp>

#include "httproute_source.h"
#include "kube_test_support.h"

using namespace kube_test;
using crossover::Snapshot;
using crossover::kube::HTTPRouteSource;
using crossover::kube::kHTTPRouteSourceOptions;

namespace {

std::unique_ptr<HTTPRouteSource> make_source(const FakeApiServer& server, const std::string& extra,
                                             CaptureLogger& logger, bool onetime = false) {
    const auto config = make_config(kHTTPRouteSourceOptions.specs(), kHTTPRouteSourceOptions.size(),
                                    connection_yaml(server) + extra, logger, onetime);
    return std::make_unique<HTTPRouteSource>(config, kHTTPRouteSourceOptions.decode(config));
}

// The HTTPRoute Flagger's gatewayapi:v1 router writes for `canary` percent.
std::string route_json(int primary, int canary, const std::string& version = "v1") {
    return R"({"apiVersion":"gateway.networking.k8s.io/)" + version +
           R"(","kind":"HTTPRoute","metadata":{"name":"podinfo","namespace":"test"},"spec":{"hostnames":["podinfo"],"rules":[{"matches":[{"path":{"type":"PathPrefix","value":"/"}}],"backendRefs":[{"name":"podinfo-primary","port":9898,"weight":)" +
           std::to_string(primary) + R"(},{"name":"podinfo-canary","port":9898,"weight":)" +
           std::to_string(canary) + "}]}]}}";
}

std::string canary_weight(const Snapshot& s) {
    for (const auto& o : s.objects) {
        if (o->ref.name == "podinfo") {
            return o->body["spec"]["rules"][0]["backendRefs"][1]["weight"].as<std::string>();
        }
    }
    return "<none>";
}

}  // namespace

BOOST_AUTO_TEST_CASE(weight_steps_arrive_as_objects) {
    FakeApiServer server;
    server.apply(route_json(100, 0));
    CaptureLogger logger;
    auto source = make_source(server, "names: [podinfo]\n", logger);
    TestContext ctx;
    SourceRunner runner(*source, ctx);
    BOOST_REQUIRE(ctx.wait_for([](const Snapshot& s) { return canary_weight(s) == "0"; }));
    const auto first = ctx.latest();
    BOOST_REQUIRE(first);
    const auto* o = first->objects.at(0).get();
    BOOST_TEST(o->ref.describe() == "HTTPRoute test/podinfo");
    BOOST_TEST(o->api_version == "gateway.networking.k8s.io/v1");
    BOOST_TEST(
        count(server, "GET", "/apis/gateway.networking.k8s.io/v1/namespaces/test/httproutes") >= 1);
    server.apply(route_json(90, 10));
    BOOST_REQUIRE(ctx.wait_for([](const Snapshot& s) { return canary_weight(s) == "10"; }));

    // A negative weight: refused naming rule and backend; the 10 % version stays.
    const std::size_t published = ctx.published();
    server.apply(route_json(110, -10));
    BOOST_REQUIRE(eventually([&] {
        return logger.contains(
            "HTTPRoute test/podinfo: spec.rules[0].backendRefs[1] (podinfo-canary): weight: "
            "negative weight -10; keeping the last valid version");
    }));
    BOOST_TEST(ctx.published() == published);
    BOOST_TEST(canary_weight(*ctx.latest()) == "10");
    server.apply(route_json(80, 20));
    BOOST_REQUIRE(ctx.wait_for([](const Snapshot& s) { return canary_weight(s) == "20"; }));
}

BOOST_AUTO_TEST_CASE(v1beta1_onetime_and_missing_routes) {
    FakeApiServer server;
    server.apply(route_json(50, 50));
    CaptureLogger logger;
    auto source = make_source(server, "names: [podinfo]\napi_version: v1beta1\n", logger, true);
    TestContext ctx;
    const crossover::Status st = source->run(ctx);
    BOOST_REQUIRE_MESSAGE(st.is_ok(), st.message());
    const auto snap = ctx.latest();
    BOOST_REQUIRE(snap);
    BOOST_TEST(snap->objects.at(0)->api_version == "gateway.networking.k8s.io/v1beta1");
    BOOST_TEST(canary_weight(*snap) == "50");

    auto missing = make_source(server, "names: [podinfo, other]\nwait_timeout: 1s\n", logger, true);
    TestContext ctx2;
    const crossover::Status st2 = missing->run(ctx2);
    BOOST_REQUIRE(!st2.is_ok());
    BOOST_TEST(st2.message().find("HTTPRoute test/other not found") != std::string::npos,
               st2.message());

    CaptureLogger l2;
    auto config = make_config(kHTTPRouteSourceOptions.specs(), kHTTPRouteSourceOptions.size(),
                              "apiserver: http://127.0.0.1:1\napi_version: v1alpha2\n", l2);
    BOOST_CHECK_THROW(HTTPRouteSource(config, kHTTPRouteSourceOptions.decode(config)),
                      crossover::Error);
}

// `auto` (the default) reads v1 whenever the server serves it, even when the
// server prefers v1beta1 (the two are the same objects and schema).
BOOST_AUTO_TEST_CASE(auto_prefers_v1) {
    FakeApiServer server;
    control(server, "/config",
            R"({"group_versions": {"gateway.networking.k8s.io": ["v1beta1", "v1"]}})");
    server.apply(route_json(70, 30));
    CaptureLogger logger;
    auto source = make_source(server, "names: [podinfo]\n", logger, true);
    TestContext ctx;
    const crossover::Status st = source->run(ctx);
    BOOST_REQUIRE_MESSAGE(st.is_ok(), st.message());
    const auto snap = ctx.latest();
    BOOST_REQUIRE(snap);
    BOOST_TEST(snap->objects.at(0)->api_version == "gateway.networking.k8s.io/v1");
    BOOST_TEST(canary_weight(*snap) == "30");
    BOOST_TEST(
        logger.contains("HTTPRoute API version v1 (the first of v1, v1beta1 the server "
                        "serves; it offers v1beta1, v1)"));
}

// A server that serves only v1beta1 (Gateway API CRDs before v1.0): `auto` reads v1beta1 and
// never asks for v1.
BOOST_AUTO_TEST_CASE(auto_falls_back_to_v1beta1) {
    FakeApiServer server;
    control(server, "/config", R"({"group_versions": {"gateway.networking.k8s.io": ["v1beta1"]}})");
    server.apply(route_json(60, 40));
    CaptureLogger logger;
    auto source = make_source(server, "names: [podinfo]\napi_version: auto\n", logger);
    TestContext ctx;
    SourceRunner runner(*source, ctx);
    BOOST_REQUIRE(ctx.wait_for([](const Snapshot& s) { return canary_weight(s) == "40"; }));
    const auto first = ctx.latest();
    BOOST_REQUIRE(first);
    BOOST_TEST(first->objects.at(0)->api_version == "gateway.networking.k8s.io/v1beta1");
    server.apply(route_json(50, 50));
    BOOST_REQUIRE(ctx.wait_for([](const Snapshot& s) { return canary_weight(s) == "50"; }));
    BOOST_TEST(all_requests(server, "/apis/gateway.networking.k8s.io/v1/") == 0);
}

// Neither version served: discovery is counted, retried, and one-time mode fails naming the
// group and the server; a version the source does not know is refused at configuration.
BOOST_AUTO_TEST_CASE(auto_fails_clearly_without_a_served_version) {
    FakeApiServer server;
    control(server, "/config", R"({"group_versions": {"gateway.networking.k8s.io": []}})");
    server.apply(route_json(100, 0));
    CaptureLogger logger;
    auto source = make_source(server, "names: [podinfo]\nwait_timeout: 1s\nbackoff_initial: 20ms\n",
                              logger, true);
    TestContext ctx;
    const crossover::Status st = source->run(ctx);
    BOOST_REQUIRE(!st.is_ok());
    BOOST_TEST(st.message().find("the API group gateway.networking.k8s.io is not served by " +
                                 server.url()) != std::string::npos,
               st.message());
    BOOST_TEST(st.message().find("(are the Gateway API CRDs installed?)") != std::string::npos,
               st.message());
    BOOST_TEST(ctx.counter("discovery_errors") >= 1.0);
    BOOST_TEST(ctx.published() == 0U);

    CaptureLogger l2;
    auto config = make_config(kHTTPRouteSourceOptions.specs(), kHTTPRouteSourceOptions.size(),
                              "apiserver: http://127.0.0.1:1\napi_version: v1alpha2\n", l2);
    try {
        HTTPRouteSource refused(config, kHTTPRouteSourceOptions.decode(config));
        BOOST_FAIL("api_version v1alpha2 was accepted");
    } catch (const crossover::Error& e) {
        BOOST_TEST(std::string(e.what()).find("option 'api_version': expected 'v1', 'v1beta1' or "
                                              "'auto', got 'v1alpha2'") != std::string::npos,
                   e.what());
    }
}
