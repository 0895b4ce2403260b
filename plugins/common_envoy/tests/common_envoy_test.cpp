// Tests of common_envoy against the build tree's Envoy API (the descriptor
// set compiled from the fetched protos) and the shared xDS fixtures.
#define BOOST_TEST_MODULE common_envoy
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/duration.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include "../../../tests/support/process.h"
#include "crossover_envoy/api.h"
#include "crossover_envoy/resources.h"
#include "crossover_envoy/types.h"
#include "crossover_envoy/yaml_message.h"
#include "crossover_envoy/yaml_scalar.h"

namespace fs = std::filesystem;
namespace ce = crossover::envoy;
namespace pb = google::protobuf;

namespace {

fs::path api_dir() {
    return fs::path(crossover::test::build_dir()) / "share/crossover/envoy-protos";
}

boost::test_tools::assertion_result api_available(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result r(ce::api_present(api_dir().string()));
    r.message() << "Envoy's API absent from " << api_dir()
                << " (npm unavailable at configure time?): run `make envoy_protos`";
    return r;
}

struct SkipNotice {
    SkipNotice() {
        if (!ce::api_present(api_dir().string())) {
            std::cout << "SKIPPED: Envoy's API absent from " << api_dir() << std::endl;
        }
    }
};
BOOST_TEST_GLOBAL_FIXTURE(SkipNotice);

// One Api for the whole module: it is what a plugin keeps.
ce::Api& api() {
    static ce::Api instance(api_dir().string());
    return instance;
}

crossover::Document doc(const std::string& name, const std::string& content) {
    crossover::Document d;
    d.name = name;
    d.content = content;
    d.origin.kind = "ConfigMap";
    d.origin.ns = "test";
    d.origin.name = "envoy-xds";
    return d;
}

std::string fixture(const std::string& rel) {
    const fs::path p = fs::path(crossover::test::fixtures_dir()) / rel;
    BOOST_REQUIRE_MESSAGE(fs::exists(p), "no fixture " << p);
    return crossover::test::read_text(p.string());
}

std::string json_of(const pb::Message& m) {
    std::string out;
    BOOST_REQUIRE(pb::util::MessageToJsonString(m, &out).ok());
    return out;
}

std::string all_errors(const ce::DecodedDocument& d) {
    std::string out;
    for (const auto& e : d.errors) {
        out += e + "\n";
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(missing_descriptor_set_is_named) {
    BOOST_CHECK(!ce::api_present("/nonexistent/envoy-protos"));
    try {
        ce::Api missing("/nonexistent/envoy-protos");
        BOOST_FAIL("opened a missing descriptor set");
    } catch (const std::runtime_error& e) {
        BOOST_CHECK_MESSAGE(std::string(e.what()).find("/nonexistent/envoy-protos/envoy-api.pb") !=
                                std::string::npos,
                            e.what());
    }
}

BOOST_AUTO_TEST_CASE(plain_scalars_are_typed_as_yaml_cpp_types_them) {
    // classify() tells most plain scalars apart by their first bytes; what it
    // decides must be what yaml-cpp's converters decide, tried in Envoy's order.
    // Separated by spaces, and "1 2" (a plain scalar holding a space).
    std::vector<std::string> texts = {"1 2"};
    std::istringstream words(
        "0 -0 7 -12 007 0x1F -0x1 0o17 0b1 123456789012345678 -123456789012345678 "
        "1234567890123456789 9223372036854775807 9223372036854775808 "
        "-9223372036854775808 99999999999999999999 +5 + --1 1. .5 1e3 1E3 e3 E3 .inf "
        "-.inf +.Inf .NaN .nan NaN Infinity yes Yes YES yEs y Y n N no on On ON oN off "
        "Off true True tRUE false FALSE t f o name podinfo-primary / a* a1 1a 12abc "
        "1_000 1,000 0.0.0.0 127.0.0.1 15s x:y 1.5s 0x1G 0xfeedface 1e3s 12:30 -1.5e-3 "
        "1ee3 .infx +.nanx 1.0.0 10.0.0.1:80 0s 00s 99999999999s");
    for (std::string word; words >> word;) {
        texts.push_back(word);
    }
    for (const std::string& text : texts) {
        BOOST_TEST_CONTEXT(text) {
            const std::string doc = "v: " + text + "\n";
            const auto tree = ce::read_doc_tree(doc);
            BOOST_REQUIRE(tree.is_scalar(2));
            BOOST_REQUIRE(!tree[2].quoted);
            const ce::Scalar got = ce::classify(tree, 2);
            const YAML::Node node(text);
            ce::Scalar want;
            want.text = text;
            if (YAML::convert<bool>::decode(node, want.boolean)) {
                want.kind = ce::ScalarKind::Bool;
            } else if (YAML::convert<std::int64_t>::decode(node, want.integer)) {
                want.kind = ce::ScalarKind::Int;
            } else if (YAML::convert<double>::decode(node, want.real)) {
                want.kind = ce::ScalarKind::Double;
            }
            BOOST_CHECK_EQUAL(static_cast<int>(got.kind), static_cast<int>(want.kind));
            BOOST_CHECK_EQUAL(got.text, text);
            // The value of the kind found (a converter that fails may leave a
            // partial value behind, which nothing reads).
            if (want.kind == ce::ScalarKind::Bool) {
                BOOST_CHECK_EQUAL(got.boolean, want.boolean);
            } else if (want.kind == ce::ScalarKind::Int) {
                BOOST_CHECK_EQUAL(got.integer, want.integer);
            } else if (want.kind == ce::ScalarKind::Double && !std::isnan(want.real)) {
                BOOST_CHECK_EQUAL(got.real, want.real);
            }
        }
    }
    // A quoted scalar is a string whatever it holds.
    const std::string quoted = "v: \"12\"\n";
    const auto tree = ce::read_doc_tree(quoted);
    BOOST_CHECK(ce::classify(tree, 2).kind == ce::ScalarKind::String);
    BOOST_CHECK_EQUAL(ce::node_kind(tree, 2), "string \"12\"");
    BOOST_CHECK_EQUAL(ce::node_kind(tree, 0), "a map");
    BOOST_CHECK_EQUAL(ce::node_kind(tree, crossover::xds::DocTree::npos), "nothing");
}

BOOST_AUTO_TEST_SUITE(with_api, *boost::unit_test::precondition(api_available))

BOOST_AUTO_TEST_CASE(descriptors_are_built_on_first_use) {
    BOOST_CHECK_GT(api().file_count(), 400u);
    BOOST_CHECK(!api().version().empty());
    const char* cors = "envoy/extensions/filters/http/cors/v3/cors.proto";
    BOOST_CHECK(!api().pool().InternalIsFileLoaded(cors));
    const pb::Descriptor* rc = api().find_message("envoy.config.route.v3.RouteConfiguration");
    BOOST_REQUIRE(rc != nullptr);
    BOOST_CHECK(api().pool().InternalIsFileLoaded("envoy/config/route/v3/route.proto"));
    BOOST_CHECK(!api().pool().InternalIsFileLoaded(cors));
    BOOST_CHECK(api().find_type_url(
                    "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors") != nullptr);
    BOOST_CHECK(api().pool().InternalIsFileLoaded(cors));
    BOOST_CHECK(api().find_message("envoy.config.route.v3.NoSuchThing") == nullptr);
    // The validate.rules extension comes along with the files that use it.
    BOOST_CHECK(api().pool().FindExtensionByName("validate.rules") != nullptr);
}

BOOST_AUTO_TEST_CASE(type_table) {
    BOOST_CHECK_EQUAL(ce::type_url(ce::ResourceKind::Cluster),
                      "type.googleapis.com/envoy.config.cluster.v3.Cluster");
    BOOST_CHECK_EQUAL(std::string(ce::name_field(ce::ResourceKind::ClusterLoadAssignment)),
                      "cluster_name");
    BOOST_CHECK(ce::type_info("type.googleapis.com/envoy.config.listener.v3.Listener").kind ==
                ce::ResourceKind::Listener);
    // Every kind's v3 type exists in the API.
    for (auto kind : {ce::ResourceKind::Listener, ce::ResourceKind::RouteConfiguration,
                      ce::ResourceKind::Cluster, ce::ResourceKind::ClusterLoadAssignment,
                      ce::ResourceKind::Secret, ce::ResourceKind::VirtualHost,
                      ce::ResourceKind::ScopedRouteConfiguration, ce::ResourceKind::Runtime}) {
        BOOST_CHECK_MESSAGE(api().find_type_url(ce::type_url(kind)) != nullptr, ce::type_url(kind));
    }
}

BOOST_AUTO_TEST_CASE(rds_fixture_reads_into_route_configuration) {
    const auto decoded = ce::decode_resources(api(), doc("rds.yaml", fixture("xds/rds.yaml")));
    BOOST_REQUIRE_MESSAGE(decoded.ok(), all_errors(decoded));
    BOOST_CHECK_EQUAL(decoded.version_info, "1");
    BOOST_REQUIRE_EQUAL(decoded.resources.size(), 1u);
    const auto& r = decoded.resources[0];
    BOOST_CHECK_EQUAL(r.type_url, "type.googleapis.com/envoy.config.route.v3.RouteConfiguration");
    BOOST_CHECK_EQUAL(r.name, "local_route");
    BOOST_CHECK_EQUAL(r.message->GetDescriptor()->full_name(),
                      "envoy.config.route.v3.RouteConfiguration");
    const std::string json = json_of(*r.message);
    // Durations, wrapped weights, quoted strings and inline lists all arrive.
    BOOST_CHECK_MESSAGE(json.find("\"timeout\":\"15s\"") != std::string::npos, json);
    BOOST_CHECK_MESSAGE(
        json.find("\"name\":\"podinfo-canary\",\"weight\":0") != std::string::npos ||
            json.find("\"name\":\"podinfo-canary\"") != std::string::npos,
        json);
    BOOST_CHECK_MESSAGE(json.find("\"weight\":100") != std::string::npos, json);
    BOOST_CHECK_MESSAGE(json.find("\"value\":\"123\"") != std::string::npos, json);
    BOOST_CHECK_MESSAGE(json.find("\"numRetries\":2") != std::string::npos, json);
    // The bytes parse back into the same message.
    std::unique_ptr<pb::Message> again = api().new_message(r.message->GetDescriptor());
    BOOST_REQUIRE(again->ParseFromString(r.serialized()));
    BOOST_CHECK_EQUAL(json_of(*again), json);
}

BOOST_AUTO_TEST_CASE(typed_configs_are_packed_as_any) {
    const auto decoded = ce::decode_resources(api(), doc("lds.yaml", fixture("xds/lds.yaml")));
    BOOST_REQUIRE_MESSAGE(decoded.ok(), all_errors(decoded));
    BOOST_REQUIRE_EQUAL(decoded.resources.size(), 1u);
    const std::string json = json_of(*decoded.resources[0].message);
    BOOST_CHECK_MESSAGE(json.find("\"@type\":\"type.googleapis.com/"
                                  "envoy.extensions.filters.network.http_connection_manager.v3."
                                  "HttpConnectionManager\"") != std::string::npos,
                        json);
    BOOST_CHECK_MESSAGE(
        json.find("envoy.extensions.filters.http.router.v3.Router") != std::string::npos, json);
}

BOOST_AUTO_TEST_CASE(cds_and_json_documents) {
    const auto cds = ce::decode_resources(api(), doc("cds.yaml", fixture("xds/cds.yaml")));
    BOOST_REQUIRE_MESSAGE(cds.ok(), all_errors(cds));
    BOOST_REQUIRE_EQUAL(cds.resources.size(), 2u);
    BOOST_CHECK(!cds.resources[0].name.empty());
    BOOST_CHECK_MESSAGE(json_of(*cds.resources[0].message).find("\"connectTimeout\":\"0.250s\"") !=
                            std::string::npos,
                        json_of(*cds.resources[0].message));

    const std::string json =
        R"({"version_info": "7", "resources": [{"@type": "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
            "cluster_name": "podinfo", "endpoints": [{"lb_endpoints": [{"endpoint": {"address":
            {"socket_address": {"address": "10.0.0.1", "port_value": 9898}}}}],
            "load_balancing_weight": 3}]}]})";
    const auto eds = ce::decode_resources(api(), doc("eds.json", json));
    BOOST_REQUIRE_MESSAGE(eds.ok(), all_errors(eds));
    BOOST_CHECK_EQUAL(eds.version_info, "7");
    BOOST_REQUIRE_EQUAL(eds.resources.size(), 1u);
    BOOST_CHECK_EQUAL(eds.resources[0].name, "podinfo");
    BOOST_CHECK_MESSAGE(
        json_of(*eds.resources[0].message).find("\"portValue\":9898") != std::string::npos,
        json_of(*eds.resources[0].message));
}

BOOST_AUTO_TEST_CASE(errors_name_document_resource_and_field) {
    std::string rds = fixture("xds/rds.yaml");
    rds.replace(rds.find("weight: 100"), 11, "wieght: 100");
    rds.replace(rds.find("timeout: 15s"), 12, "timeout: 15x");
    const auto decoded = ce::decode_resources(api(), doc("rds.yaml", rds));
    BOOST_CHECK(decoded.resources.empty());
    BOOST_REQUIRE_EQUAL(decoded.errors.size(), 2u);
    BOOST_CHECK_EQUAL(decoded.errors[0],
                      "document rds.yaml (ConfigMap test/envoy-xds): resource \"local_route\": "
                      "resources[0].virtual_hosts[0].routes[0].route.timeout: invalid Duration "
                      "\"15x\" (expected seconds such as \"15s\")");
    BOOST_CHECK_EQUAL(decoded.errors[1],
                      "document rds.yaml (ConfigMap test/envoy-xds): resource \"local_route\": "
                      "resources[0].virtual_hosts[0].routes[0].route.weighted_clusters.clusters[0]"
                      ": unknown field \"wieght\" in "
                      "envoy.config.route.v3.WeightedCluster.ClusterWeight");
}

BOOST_AUTO_TEST_CASE(wrong_values_are_rejected) {
    auto one = [](const std::string& resource) {
        const auto d = ce::decode_resources(
            api(), doc("x.yaml",
                       "resources:\n- \"@type\": "
                       "type.googleapis.com/envoy.config.cluster.v3.Cluster\n" +
                           resource));
        return d.errors.empty() ? std::string() : d.errors[0];
    };
    BOOST_CHECK_EQUAL(one("  name: a\n"), "");
    BOOST_CHECK_MESSAGE(
        one("  name: 123\n").find("name: expected a string, got unquoted 123") != std::string::npos,
        one("  name: 123\n"));
    BOOST_CHECK_MESSAGE(
        one("  name: a\n  type: NOPE\n").find("unknown enum value \"NOPE\"") != std::string::npos,
        one("  name: a\n  type: NOPE\n"));
    const std::string range = one("  name: a\n  per_connection_buffer_limit_bytes: 5000000000\n");
    BOOST_CHECK_MESSAGE(range.find("is out of range for uint32") != std::string::npos, range);
    const std::string oneof = one("  name: a\n  type: STATIC\n  cluster_type: {name: x}\n");
    BOOST_CHECK_MESSAGE(oneof.find("are both set, but only one of oneof") != std::string::npos,
                        oneof);
    const std::string any =
        one("  name: a\n  typed_extension_protocol_options:\n    x:\n"
            "      \"@type\": type.googleapis.com/no.Such\n");
    BOOST_CHECK_MESSAGE(any.find("typed_extension_protocol_options[\"x\"].@type: unknown type") !=
                            std::string::npos,
                        any);
    const auto no_type = ce::decode_resources(api(), doc("x.yaml", "resources:\n- name: a\n"));
    BOOST_REQUIRE_EQUAL(no_type.errors.size(), 1u);
    BOOST_CHECK_EQUAL(no_type.errors[0],
                      "document x.yaml (ConfigMap test/envoy-xds): resource \"a\": resources[0]: "
                      "missing \"@type\"");
    const auto bad_yaml = ce::decode_resources(api(), doc("x.yaml", "resources: [\n"));
    BOOST_REQUIRE_EQUAL(bad_yaml.errors.size(), 1u);
    BOOST_CHECK_MESSAGE(bad_yaml.errors[0].find("invalid YAML") != std::string::npos,
                        bad_yaml.errors[0]);
}

BOOST_AUTO_TEST_CASE(struct_values_and_reader_reuse) {
    ce::YamlReader reader(api());
    const pb::Descriptor* type = api().find_message("envoy.config.core.v3.Metadata");
    BOOST_REQUIRE(type != nullptr);
    for (int i = 0; i < 2; ++i) {
        auto m = api().new_message(type);
        ce::Problems problems;
        const std::string text = "filter_metadata: {x: {a: 1, b: [true, \"s\", ~], c: 5000000000}}";
        const auto tree = ce::read_doc_tree(text);
        BOOST_REQUIRE(reader.read(tree, 0, *m, "", problems));
        const std::string json = json_of(*m);
        BOOST_CHECK_MESSAGE(json.find("\"a\":1") != std::string::npos, json);
        BOOST_CHECK_MESSAGE(json.find("[true,\"s\",null]") != std::string::npos, json);
        // Envoy's YAML loader keeps integers beyond int32 as strings.
        BOOST_CHECK_MESSAGE(json.find("\"c\":\"5000000000\"") != std::string::npos, json);
    }
}

BOOST_AUTO_TEST_CASE(durations_read_as_time_util_reads_them) {
    ce::YamlReader reader(api());
    const pb::Descriptor* type = api().find_message("envoy.config.route.v3.RouteAction");
    BOOST_REQUIRE(type != nullptr);
    const pb::FieldDescriptor* timeout = type->FindFieldByName("timeout");
    for (const std::string text :
         {"0s", "15s", "007s", "99999999999s", "999999999999s", "1.5s", "-3s", "0.000000001s"}) {
        BOOST_TEST_CONTEXT(text) {
            auto m = api().new_message(type);
            ce::Problems problems;
            const std::string doc = "timeout: \"" + text + "\"\n";
            const auto tree = ce::read_doc_tree(doc);
            BOOST_REQUIRE(reader.read(tree, 0, *m, "", problems));
            pb::Duration want;
            BOOST_REQUIRE(pb::util::TimeUtil::FromString(text, &want));
            BOOST_CHECK_EQUAL(m->GetReflection()->GetMessage(*m, timeout).SerializeAsString(),
                              want.SerializeAsString());
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
