// HTTPRoute parsing: the fixtures of both versions, the Gateway API defaults,
// and errors naming the route, the rule and the backend.
#define BOOST_TEST_MODULE common_gateway
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <string>

#include <yaml-cpp/yaml.h>

#include "crossover/status.h"
#include "crossover_gateway/httproute.h"

using namespace crossover;
using gateway::parse_httproute;

namespace {

Object object_of(const YAML::Node& body) {
    Object o;
    o.body = body;
    o.ref.kind = "HTTPRoute";
    o.ref.ns = body["metadata"]["namespace"].as<std::string>("test");
    o.ref.name = body["metadata"]["name"].as<std::string>("");
    o.api_version = body["apiVersion"].as<std::string>("");
    return o;
}

gateway::HTTPRoute fixture(const std::string& rel) {
    const char* dir = std::getenv("CROSSOVER_FIXTURES");
    BOOST_REQUIRE(dir != nullptr);
    return parse_httproute(object_of(YAML::LoadFile(std::string(dir) + "/" + rel)));
}

std::string error_of(const std::string& spec,
                     const std::string& api_version = "gateway.networking.k8s.io/v1") {
    try {
        (void)parse_httproute(
            object_of(YAML::Load("apiVersion: " + api_version +
                                 "\nkind: HTTPRoute\nmetadata: {name: web, namespace: "
                                 "test}\nspec: " +
                                 spec + "\n")));
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

BOOST_AUTO_TEST_CASE(flagger_route) {
    const auto r = fixture("httproute/flagger-v1.yaml");
    BOOST_TEST(r.describe() == "HTTPRoute test/podinfo");
    BOOST_TEST(r.hostnames == std::vector<std::string>{"podinfo"},
               boost::test_tools::per_element());
    BOOST_REQUIRE_EQUAL(r.rules.size(), 1U);
    BOOST_REQUIRE_EQUAL(r.rules[0].paths.size(), 1U);
    BOOST_TEST(r.rules[0].paths[0].type == "PathPrefix");
    BOOST_TEST(r.rules[0].paths[0].value == "/");
    BOOST_REQUIRE_EQUAL(r.rules[0].backends.size(), 2U);
    BOOST_TEST(r.rules[0].backends[0].name == "podinfo-primary");
    BOOST_TEST(r.rules[0].backends[0].weight == 90U);
    BOOST_TEST(r.rules[0].backends[1].weight == 10U);
    BOOST_TEST(r.rules[0].backends[1].port == 9898U);
    BOOST_TEST(r.rules[0].backends[1].ns == "test");
}

BOOST_AUTO_TEST_CASE(v1beta1_defaults) {
    const auto r = fixture("httproute/v1beta1-split.yaml");
    BOOST_TEST(r.api_version == "gateway.networking.k8s.io/v1beta1");
    BOOST_REQUIRE_EQUAL(r.rules.size(), 1U);
    BOOST_TEST(r.rules[0].paths[0].type == "PathPrefix");  // no matches: PathPrefix /
    BOOST_TEST(r.rules[0].paths[0].value == "/");
    BOOST_TEST(r.rules[0].backends[0].weight == 1U);  // no weight: 1
    BOOST_TEST(r.rules[0].backends[1].weight == 0U);
}

BOOST_AUTO_TEST_CASE(errors_name_route_rule_and_backend) {
    try {
        (void)fixture("invalid/httproute-negative-weight.yaml");
        BOOST_FAIL("accepted");
    } catch (const Error& e) {
        BOOST_TEST(std::string(e.what()) ==
                   "HTTPRoute test/podinfo: spec.rules[0].backendRefs[1] (podinfo-canary): weight: "
                   "negative weight -10");
    }
    BOOST_TEST(error_of("{rules: [{backendRefs: [{name: a, weight: 1000001}]}]}") ==
               "HTTPRoute test/web: spec.rules[0].backendRefs[0] (a): weight: 1000001 is above the "
               "maximum 1000000");
    BOOST_TEST(error_of("{rules: [{backendRefs: [{name: a, weight: '5'}]}]}") ==
               "HTTPRoute test/web: spec.rules[0].backendRefs[0] (a): weight: expected an integer, "
               "got '5'");
    BOOST_TEST(error_of("{rules: [{}, {name: canary, backendRefs: [{name: a, kind: Pod}]}]}") ==
               "HTTPRoute test/web: spec.rules[1] (canary).backendRefs[0] (a): kind 'Pod' is not a "
               "Service (only Services can be weighted backends)");
    BOOST_TEST(error_of("{rules: [{backendRefs: [{port: 80}]}]}") ==
               "HTTPRoute test/web: spec.rules[0].backendRefs[0].name: missing");
    BOOST_TEST(error_of("{rules: [{backendRefs: [{name: a, port: 0}]}]}") ==
               "HTTPRoute test/web: spec.rules[0].backendRefs[0] (a): port: expected a port number "
               "1-65535, got '0'");
    BOOST_TEST(error_of("{rules: [{backendRefs: [{name: a, port: 80}, {name: a, port: 80}]}]}") ==
               "HTTPRoute test/web: spec.rules[0].backendRefs[1] (a): the same backend as "
               "backendRefs[0]");
    BOOST_TEST(error_of("{rules: [{matches: [{path: {type: Glob, value: /x}}]}]}") ==
               "HTTPRoute test/web: spec.rules[0].matches[0].path.type: unsupported value 'Glob' "
               "(expected Exact, PathPrefix or RegularExpression)");
    BOOST_TEST(error_of("{rules: [{matches: [{path: {value: x}}]}]}") ==
               "HTTPRoute test/web: spec.rules[0].matches[0].path.value: 'x' does not start with "
               "'/'");
    BOOST_TEST(error_of("{rules: []}") ==
               "HTTPRoute test/web: spec.rules: expected a list of at least one rule");
    BOOST_TEST(error_of("{hostnames: [a, [b]], rules: [{}]}") ==
               "HTTPRoute test/web: spec.hostnames[1]: expected a host name, got a list");
    BOOST_TEST(error_of("{rules: [{}]}", "gateway.networking.k8s.io/v1alpha2") ==
               "HTTPRoute test/web: apiVersion: unsupported 'gateway.networking.k8s.io/v1alpha2' "
               "(expected gateway.networking.k8s.io/v1 or gateway.networking.k8s.io/v1beta1)");
    BOOST_TEST(
        error_of("{rules: [{backendRefs: [{name: a, namespace: other, port: 80}]}]}").empty());
}
