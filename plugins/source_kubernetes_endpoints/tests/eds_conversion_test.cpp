// EndpointSlice -> ClusterLoadAssignment conversion, on the fixtures and on
// hand-made slices (no API server).
#define BOOST_TEST_MODULE eds_conversion
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "crossover/status.h"
#include "endpointslice.h"

using crossover::eds::build_eds;
using crossover::eds::ClusterNamePattern;
using crossover::eds::EdsOptions;
using crossover::eds::EndpointSlicePtr;
using crossover::eds::Include;
using crossover::eds::parse_endpointslice;

namespace {

std::string fixtures() {
    const char* dir = std::getenv("CROSSOVER_FIXTURES");
    BOOST_REQUIRE_MESSAGE(dir != nullptr, "CROSSOVER_FIXTURES is not set");
    return dir;
}

EndpointSlicePtr slice_file(const std::string& rel) {
    return std::make_shared<const crossover::eds::EndpointSlice>(
        parse_endpointslice(YAML::LoadFile(fixtures() + "/" + rel), "default"));
}

EndpointSlicePtr slice_text(const std::string& yaml) {
    return std::make_shared<const crossover::eds::EndpointSlice>(
        parse_endpointslice(YAML::Load(yaml), "test"));
}

// The error parse_endpointslice gives for `yaml`, or "" when it accepts it.
std::string error_of(const std::string& yaml) {
    try {
        (void)parse_endpointslice(YAML::Load(yaml), "test");
    } catch (const crossover::Error& e) {
        return e.what();
    }
    return "";
}

std::string slice_yaml(const std::string& endpoints, const std::string& ports = "",
                       const std::string& type = "IPv4") {
    return "metadata: {name: s1, namespace: test, resourceVersion: '7', labels: "
           "{kubernetes.io/service-name: podinfo}}\naddressType: " +
           type + "\nports: " + (ports.empty() ? "[{name: http, port: 9898}]" : ports) +
           "\nendpoints: " + endpoints + "\n";
}

// cluster_name -> "address:port[/DRAINING]" of every lb endpoint, and each
// locality's weight against its endpoint count.
std::map<std::string, std::vector<std::string>> flatten(const std::string& eds) {
    std::map<std::string, std::vector<std::string>> out;
    const YAML::Node root = YAML::Load(eds);
    for (const auto& cla : root["resources"]) {
        BOOST_TEST(cla["@type"].as<std::string>() ==
                   "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment");
        auto& list = out[cla["cluster_name"].as<std::string>()];
        for (const auto& locality : cla["endpoints"]) {
            BOOST_TEST(locality["locality"].IsMap());
            BOOST_TEST(locality["load_balancing_weight"].as<std::size_t>() ==
                       locality["lb_endpoints"].size());
            for (const auto& lb : locality["lb_endpoints"]) {
                const auto sa = lb["endpoint"]["address"]["socket_address"];
                std::string e = locality["locality"]["zone"].as<std::string>("") + " " +
                                sa["address"].as<std::string>() + ":" +
                                sa["port_value"].as<std::string>();
                if (lb["health_status"]) {
                    e += "/" + lb["health_status"].as<std::string>();
                }
                list.push_back(e);
            }
        }
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(fixtures_become_one_assignment_per_service_port) {
    const std::vector<EndpointSlicePtr> slices{slice_file("endpointslice/podinfo-ipv4.yaml"),
                                               slice_file("endpointslice/podinfo-ipv6.yaml"),
                                               slice_file("endpointslice/unnamed-port.yaml")};
    const auto doc = build_eds(slices, EdsOptions{});
    const auto got = flatten(doc.content);
    const std::map<std::string, std::vector<std::string>> want{
        {"test/backend:8080", {" 10.1.4.1:8080"}},
        {"test/podinfo:grpc", {"eu-west-1a 10.1.2.3:9999", "eu-west-1a fd00:10:1::2:3:9999"}},
        {"test/podinfo:http", {"eu-west-1a 10.1.2.3:9898", "eu-west-1a fd00:10:1::2:3:9898"}},
    };
    BOOST_TEST((got == want), doc.content);
    BOOST_TEST(doc.clusters == 3U);
    BOOST_TEST(doc.endpoints == 5U);
    // The exact bytes, so that a change of layout is a decision, not an accident.
    BOOST_TEST(
        doc.content.rfind(
            "resources:\n"
            "- \"@type\": type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment\n"
            "  cluster_name: \"test/backend:8080\"\n"
            "  endpoints:\n"
            "  - locality: {}\n"
            "    load_balancing_weight: 1\n"
            "    lb_endpoints:\n"
            "    - endpoint: {address: {socket_address: {address: \"10.1.4.1\", "
            "port_value: 8080}}}\n",
            0) == 0U,
        doc.content);
}

BOOST_AUTO_TEST_CASE(serving_terminating_endpoints_drain_when_asked) {
    EdsOptions options;
    options.include = Include::Serving;
    const auto got =
        flatten(build_eds({slice_file("endpointslice/podinfo-ipv4.yaml")}, options).content);
    // 10.1.3.7 is starting (not serving): never included; 10.1.3.9 terminates but serves.
    const std::vector<std::string> want{"eu-west-1a 10.1.2.3:9898",
                                        "eu-west-1b 10.1.3.9:9898/DRAINING"};
    BOOST_TEST(got.at("test/podinfo:http") == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(conditions_follow_the_api_defaults) {
    // ready missing: ready; ready true but terminating: not ready (kube-proxy's view);
    // serving missing: equals ready.
    const auto s = slice_text(slice_yaml(
        "[{addresses: [10.0.0.1]}, {addresses: [10.0.0.2], conditions: {ready: true, "
        "terminating: true}}, {addresses: [10.0.0.3], conditions: {ready: false, terminating: "
        "true}}]"));
    const auto ready = flatten(build_eds({s}, EdsOptions{}).content);
    BOOST_TEST(ready.at("test/podinfo:http") == std::vector<std::string>{" 10.0.0.1:9898"},
               boost::test_tools::per_element());
    EdsOptions serving;
    serving.include = Include::Serving;
    const auto all = flatten(build_eds({s}, serving).content);
    BOOST_TEST(all.at("test/podinfo:http") ==
                   (std::vector<std::string>{" 10.0.0.1:9898", " 10.0.0.2:9898/DRAINING"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(output_does_not_depend_on_slice_order_and_merges_duplicates) {
    std::vector<EndpointSlicePtr> slices;
    for (int i = 0; i < 20; ++i) {
        std::string eps = "[";
        for (int j = 0; j < 50; ++j) {
            eps += (j == 0 ? "" : ", ") + std::string("{addresses: [10.") + std::to_string(i) +
                   ".0." + std::to_string(j) + "], zone: z" + std::to_string(j % 3) + "}";
        }
        // a handover: the same pod in two slices, ready in this one only
        eps += ", {addresses: [10.99.0.1], conditions: {ready: " +
               std::string(i == 7 ? "true" : "false") +
               ", serving: true, terminating: " + (i == 7 ? "false" : "true") + "}}]";
        auto text = slice_yaml(eps);
        text.replace(text.find("name: s1"), 8, "name: s" + std::to_string(i));
        slices.push_back(slice_text(text));
    }
    EdsOptions options;
    options.include = Include::Serving;
    const auto first = build_eds(slices, options);
    std::mt19937 rng(42);
    for (int round = 0; round < 5; ++round) {
        std::shuffle(slices.begin(), slices.end(), rng);
        BOOST_TEST(build_eds(slices, options).content == first.content);
    }
    BOOST_TEST(first.endpoints == 1001U);
    const auto got = flatten(first.content).at("test/podinfo:http");
    BOOST_TEST(std::count(got.begin(), got.end(), " 10.99.0.1:9898") == 1);
    BOOST_TEST(std::count_if(got.begin(), got.end(), [](const std::string& e) {
                   return e.find("10.99.0.1") != std::string::npos;
               }) == 1);
}

BOOST_AUTO_TEST_CASE(a_service_without_ready_endpoints_keeps_an_empty_assignment) {
    const auto s = slice_text(slice_yaml("[{addresses: [10.0.0.1], conditions: {ready: false}}]"));
    const auto doc = build_eds({s}, EdsOptions{});
    const YAML::Node root = YAML::Load(doc.content);
    BOOST_TEST(root["resources"].size() == 1U);
    BOOST_TEST(root["resources"][0]["endpoints"].IsSequence());
    BOOST_TEST(root["resources"][0]["endpoints"].size() == 0U);
    BOOST_TEST(build_eds({}, EdsOptions{}).content == "resources: []\n");
}

BOOST_AUTO_TEST_CASE(fqdn_slices_and_sctp_ports_are_left_out) {
    const auto fqdn = slice_text(slice_yaml("[{addresses: [podinfo.example.com]}]", "", "FQDN"));
    BOOST_TEST(build_eds({fqdn}, EdsOptions{}).clusters == 0U);
    const auto sctp = slice_text(
        slice_yaml("[{addresses: [10.0.0.1]}]",
                   "[{name: a, port: 1, protocol: SCTP}, {name: b, protocol: TCP}, {name: c, port: "
                   "53, protocol: UDP}]"));
    BOOST_TEST(sctp->skipped_ports.size() == 2U);
    const auto doc = build_eds({sctp}, EdsOptions{});
    BOOST_TEST(doc.clusters == 1U);
    BOOST_TEST(doc.content.find("protocol: UDP, address: \"10.0.0.1\", port_value: 53") !=
                   std::string::npos,
               doc.content);
}

BOOST_AUTO_TEST_CASE(cluster_name_pattern) {
    EdsOptions options;
    options.cluster_name = ClusterNamePattern("{{service}}.{{namespace}}_{{ port }}");
    const auto doc = build_eds({slice_file("endpointslice/unnamed-port.yaml")}, options);
    BOOST_TEST(doc.content.find("cluster_name: \"backend.test_8080\"") != std::string::npos,
               doc.content);
    BOOST_CHECK_THROW(ClusterNamePattern("{{service}}"), crossover::Error);  // ports collide
    BOOST_CHECK_THROW(ClusterNamePattern("{{service}}:{{port"), crossover::Error);
    BOOST_CHECK_THROW(ClusterNamePattern("{{svc}}:{{port}}"), crossover::Error);
    BOOST_CHECK_THROW(ClusterNamePattern(""), crossover::Error);
}

BOOST_AUTO_TEST_CASE(invalid_slices_are_refused_naming_object_and_field) {
    try {
        (void)slice_file("invalid/endpointslice-bad-address.yaml");
        BOOST_FAIL("the invalid fixture was accepted");
    } catch (const crossover::Error& e) {
        BOOST_TEST(std::string(e.what()) ==
                   "EndpointSlice test/podinfo-abc12: endpoints[1].addresses[0]: '10.1.2.300' is "
                   "not an IPv4 address");
    }
    BOOST_TEST(error_of(slice_yaml("[{addresses: ['10.0.0.1']}]", "", "IPv6")) ==
               "EndpointSlice test/s1: endpoints[0].addresses[0]: '10.0.0.1' is not an IPv6 "
               "address");
    BOOST_TEST(error_of(slice_yaml("[]", "", "IPv5")) ==
               "EndpointSlice test/s1: addressType: unsupported value 'IPv5' (expected IPv4, IPv6 "
               "or FQDN)");
    BOOST_TEST(error_of(slice_yaml("[]", "[{name: http, port: 70000}]")) ==
               "EndpointSlice test/s1: ports[0].port: expected a port number 1-65535, got '70000'");
    BOOST_TEST(error_of(slice_yaml("[]", "[{name: http, port: '80'}]")) ==
               "EndpointSlice test/s1: ports[0].port: expected a port number 1-65535, got '80'");
    BOOST_TEST(error_of(slice_yaml("[]", "[{name: a, port: 80}, {name: a, port: 81}]")) ==
               "EndpointSlice test/s1: ports[1].name: duplicate port name 'a'");
    BOOST_TEST(error_of(slice_yaml("[{addresses: [10.0.0.1], conditions: {ready: 'yes'}}]")) ==
               "EndpointSlice test/s1: endpoints[0].conditions.ready: expected true or false, got "
               "'yes'");
    BOOST_TEST(error_of(slice_yaml("[{addresses: []}]")) ==
               "EndpointSlice test/s1: endpoints[0].addresses: expected a list of at least one "
               "address");
    BOOST_TEST(error_of(slice_yaml("{}")) ==
               "EndpointSlice test/s1: endpoints: expected a list, got a map");
    BOOST_TEST(error_of("metadata: {name: s2}\naddressType: IPv4\n") ==
               "EndpointSlice test/s2: metadata.labels[kubernetes.io/service-name]: missing (the "
               "slice belongs to no Service)");
    BOOST_TEST(error_of("[1, 2]") == "EndpointSlice test/: expected an object");
    BOOST_TEST(error_of(slice_yaml("null", "null")).empty());  // a placeholder slice
}

BOOST_AUTO_TEST_CASE(builder_converts_only_the_changed_service) {
    std::vector<EndpointSlicePtr> slices;
    for (const std::string service : {"a", "b", "c"}) {
        for (int i = 0; i < 2; ++i) {
            std::string text = slice_yaml("[{addresses: [10.0.0." + std::to_string(i) + "]}]");
            text.replace(text.find("name: s1"), 8, "name: " + service + std::to_string(i));
            text.replace(text.find("service-name: podinfo"), 21, "service-name: " + service);
            slices.push_back(slice_text(text));
        }
    }
    crossover::eds::EdsBuilder builder;
    const auto first = builder.build(slices, EdsOptions{});
    BOOST_TEST(builder.rebuilt() == 3U);
    BOOST_TEST(first.content == build_eds(slices, EdsOptions{}).content);
    BOOST_TEST(builder.build(slices, EdsOptions{}).content == first.content);
    BOOST_TEST(builder.rebuilt() == 3U);  // nothing changed
    // b's second slice: a pod becomes ready.
    std::string text = slice_yaml("[{addresses: [10.0.0.1]}, {addresses: [10.0.0.9]}]");
    text.replace(text.find("name: s1"), 8, "name: b1");
    text.replace(text.find("service-name: podinfo"), 21, "service-name: b");
    slices[3] = slice_text(text);
    const auto second = builder.build(slices, EdsOptions{});
    BOOST_TEST(builder.rebuilt() == 4U);
    BOOST_TEST(second.content == build_eds(slices, EdsOptions{}).content);
    BOOST_TEST(second.endpoints == first.endpoints + 1);
    // A Service whose slices are all gone leaves the document.
    slices.erase(slices.begin(), slices.begin() + 2);
    const auto third = builder.build(slices, EdsOptions{});
    BOOST_TEST(third.content.find("test/a:http") == std::string::npos);
    BOOST_TEST(third.content == build_eds(slices, EdsOptions{}).content);
}
