// The SDK's helper headers: crossover/errors.h, crossover_envoy/xds.h, crossover/inputs.h,
// crossover/yaml_load.h, crossover/files.h.
#define BOOST_TEST_MODULE sdk_helpers
#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>
#include <vector>

#include <sys/stat.h>
#include "../support/process.h"

#include <chrono>

#include "crossover/errors.h"
#include "crossover/files.h"
#include "crossover/inputs.h"
#include "crossover/yaml_load.h"
#include "crossover_envoy/xds.h"

using namespace crossover;

namespace {

Document doc(const std::string& name, const std::string& content) {
    return Document{name, content, ObjectRef{"ConfigMap", "test", "envoy-xds", "7"}};
}

std::string fixture(const std::string& rel) {
    return test::read_text(test::fixtures_dir() + "/" + rel);
}

// The message of the crossover::Error `body` throws, or "" when it throws nothing.
template <typename F>
std::string error_of(F&& body) {
    try {
        body();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

ComponentConfig config_with(const std::string& options_yaml) {
    ComponentConfig c;
    c.name = "headers";
    c.type = "header_injection";
    c.path = "transforms.headers";
    c.file = "p.yaml";
    c.line = 3;
    c.options = YAML::Load(options_yaml);
    return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(errors)

BOOST_AUTO_TEST_CASE(messages_name_object_document_and_path) {
    const Document d = doc("rds.yaml", "");
    BOOST_TEST(describe(d) == "document rds.yaml (ConfigMap test/envoy-xds)");
    BOOST_TEST(describe(Document{"x.yaml", "", {}}) == "document x.yaml");
    Object o;
    o.ref = ObjectRef{"TrafficSplit", "demo", "podinfo", "1"};
    BOOST_TEST(describe(o) == "TrafficSplit demo/podinfo");
    BOOST_TEST(std::string(error_at(o, "spec.backends[1].weight", "negative weight -10").what()) ==
               "TrafficSplit demo/podinfo: spec.backends[1].weight: negative weight -10");
    BOOST_TEST(std::string(error_at(d, "", "not YAML").what()) ==
               "document rds.yaml (ConfigMap test/envoy-xds): not YAML");
    BOOST_TEST(error_message("", "a.b", "bad") == "a.b: bad");
}

BOOST_AUTO_TEST_CASE(yaml_paths) {
    const YamlPath p = YamlPath("resources").index(0).key("virtual_hosts").index(12);
    BOOST_TEST(p.str() == "resources[0].virtual_hosts[12]");
    BOOST_TEST(YamlPath().key("spec").key("backends").str() == "spec.backends");
    BOOST_TEST(YamlPath("resources").index(1).key("@type").str() == "resources[1][\"@type\"]");
    BOOST_TEST(YamlPath("m").key("a\"b").str() == "m[\"a\\\"b\"]");
    BOOST_TEST(std::string(error_at(doc("r.yaml", ""), p, "x").what()) ==
               "document r.yaml (ConfigMap test/envoy-xds): resources[0].virtual_hosts[12]: x");
}

BOOST_AUTO_TEST_CASE(lines_and_types) {
    const YAML::Node n = YAML::Load("a: 1\nb:\n  - x\n");
    BOOST_TEST(line_of(n["b"]) == "line 3");
    BOOST_TEST(line_of(YAML::Node("x")) == "");
    BOOST_TEST(yaml_type_name(n["b"]) == "a list");
    BOOST_TEST(yaml_type_name(n) == "a map");
    BOOST_TEST(yaml_type_name(n["missing"]) == "nothing");
}

BOOST_AUTO_TEST_CASE(option_helpers) {
    const ComponentConfig c = config_with("match: domian\nsteps: 7\n");
    BOOST_TEST(error_of([&] {
                   (void)get_choice(c, "match", {"name", "domain"});
               }) ==
               "p.yaml:1: transforms.headers: option 'match': expected one of 'name', 'domain', "
               "got 'domian'");
    BOOST_TEST(get_choice(c, "absent", {"a", "b"}, "b") == "b");
    BOOST_TEST(get_int_in_range(c, "steps", 1, 10) == 7);
    BOOST_TEST(error_of([&] { (void)get_int_in_range(c, "steps", 1, 5); }) ==
               "p.yaml:2: transforms.headers: option 'steps': expected an integer from 1 to 5, "
               "got 7");
    BOOST_TEST(std::string(option_error(c, "steps", "too many").what()) ==
               "p.yaml:2: transforms.headers: option 'steps': too many");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(types)

BOOST_AUTO_TEST_CASE(v3_and_v2_names) {
    using xds::ResourceKind;
    BOOST_TEST(xds::type_name("type.googleapis.com/envoy.api.v2.Cluster") ==
               "envoy.api.v2.Cluster");
    const auto v3 = xds::type_info("type.googleapis.com/envoy.config.route.v3.RouteConfiguration");
    BOOST_TEST((v3.kind == ResourceKind::RouteConfiguration));
    BOOST_TEST(!v3.v2);
    const auto v2 = xds::type_info("type.googleapis.com/envoy.api.v2.RouteConfiguration");
    BOOST_TEST((v2.kind == ResourceKind::RouteConfiguration));
    BOOST_TEST(v2.v2);
    BOOST_TEST((xds::type_info("envoy.api.v2.ClusterLoadAssignment").kind ==
                ResourceKind::ClusterLoadAssignment));
    BOOST_TEST((xds::type_info("type.googleapis.com/envoy.config.route.v3.Route").kind ==
                ResourceKind::Unknown));
    BOOST_TEST(xds::type_url(ResourceKind::Cluster) ==
               "type.googleapis.com/envoy.config.cluster.v3.Cluster");
    BOOST_TEST(xds::type_url(ResourceKind::Listener, true) ==
               "type.googleapis.com/envoy.api.v2.Listener");
    BOOST_TEST(xds::type_url(ResourceKind::Runtime, true) == "");
    BOOST_TEST(std::string(xds::kind_name(ResourceKind::Secret)) == "Secret");
}

BOOST_AUTO_TEST_CASE(may_contain) {
    using xds::ResourceKind;
    const std::string rds = fixture("xds/rds.yaml");
    const std::string cds = fixture("xds/cds.yaml");
    BOOST_TEST(xds::may_contain(rds, ResourceKind::RouteConfiguration));
    BOOST_TEST(!xds::may_contain(cds, ResourceKind::RouteConfiguration));
    BOOST_TEST(xds::may_contain(cds, ResourceKind::Cluster));
    BOOST_TEST(
        xds::may_contain(fixture("xds/rds-v2-chart.yaml"), ResourceKind::RouteConfiguration));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(documents)

BOOST_AUTO_TEST_CASE(parse_errors_name_the_document) {
    BOOST_TEST(error_of([] {
                   (void)xds::XdsDocument::parse(doc("rds.yaml", "a: [1, 2\nb: 3\n"));
               }).rfind("document rds.yaml (ConfigMap test/envoy-xds): line ", 0) == 0);
    BOOST_TEST(error_of([] { (void)xds::XdsDocument::parse(doc("rds.yaml", "- a\n- b\n")); }) ==
               "document rds.yaml (ConfigMap test/envoy-xds): expected a DiscoveryResponse (a map "
               "with 'resources'), got a list");
    BOOST_TEST(
        error_of([] { (void)xds::XdsDocument::parse(doc("rds.yaml", "resources: {a: 1}\n")); }) ==
        "document rds.yaml (ConfigMap test/envoy-xds): resources: expected a list, got a map");
    const auto empty = xds::XdsDocument::parse(doc("rds.yaml", "version_info: '1'\n"));
    std::size_t n = 0;
    xds::for_each_resource(empty, [&](xds::Resource&) { ++n; });
    BOOST_TEST(n == 0u);
}

BOOST_AUTO_TEST_CASE(resources_by_type) {
    const std::string text =
        "resources:\n"
        "- {\"@type\": type.googleapis.com/envoy.config.cluster.v3.Cluster, name: a}\n"
        "- {\"@type\": type.googleapis.com/envoy.api.v2.ClusterLoadAssignment, cluster_name: b}\n"
        "- {\"@type\": type.googleapis.com/envoy.api.v2.Cluster, name: c}\n"
        "- {name: d}\n";
    const auto d = xds::XdsDocument::parse(doc("cds.yaml", text));
    std::vector<std::string> seen;
    xds::for_each_resource(d, [&](xds::Resource& r) {
        seen.push_back(r.path.str() + " " + xds::kind_name(r.type.kind) +
                       (r.type.v2 ? " v2 " : " v3 ") + r.name);
    });
    const std::vector<std::string> want{"resources[0] Cluster v3 a",
                                        "resources[1] ClusterLoadAssignment v2 b",
                                        "resources[2] Cluster v2 c", "resources[3] unknown v3 d"};
    BOOST_TEST(seen == want, boost::test_tools::per_element());
    std::vector<std::string> clusters;
    xds::for_each_resource(d, xds::ResourceKind::Cluster,
                           [&](xds::Resource& r) { clusters.push_back(r.name); });
    BOOST_TEST(clusters == (std::vector<std::string>{"a", "c"}), boost::test_tools::per_element());
    BOOST_TEST(error_of([] {
                   const auto bad = xds::XdsDocument::parse(doc("x.yaml", "resources: [1]\n"));
                   xds::for_each_resource(bad, [](xds::Resource&) {});
               }) ==
               "document x.yaml (ConfigMap test/envoy-xds): resources[0]: expected a map, got "
               "a scalar");
}

BOOST_AUTO_TEST_CASE(walks_routes_with_paths) {
    const auto d = xds::XdsDocument::parse(doc("rds.yaml", fixture("xds/rds.yaml")));
    std::vector<std::string> hosts;
    xds::for_each_virtual_host(d, [&](xds::VirtualHostRef& vh) {
        hosts.push_back(vh.path.str() + " " + vh.name + " in " + vh.route_config->name);
    });
    BOOST_TEST(
        hosts == (std::vector<std::string>{"resources[0].virtual_hosts[0] podinfo in local_route",
                                           "resources[0].virtual_hosts[1] static in local_route"}),
        boost::test_tools::per_element());
    std::vector<std::string> routes;
    xds::for_each_route(d, [&](xds::RouteRef& r) {
        routes.push_back(r.path.str() + " of " + r.virtual_host->name);
    });
    BOOST_TEST(
        routes == (std::vector<std::string>{"resources[0].virtual_hosts[0].routes[0] of podinfo",
                                            "resources[0].virtual_hosts[1].routes[0] of static"}),
        boost::test_tools::per_element());
    std::vector<std::string> clusters;
    xds::for_each_weighted_cluster(d, [&](xds::WeightedClusterRef& c) {
        clusters.push_back(c.path.str() + " " + c.name + "=" + std::to_string(*xds::weight(d, c)));
    });
    BOOST_TEST(
        clusters ==
            (std::vector<std::string>{
                "resources[0].virtual_hosts[0].routes[0].route.weighted_clusters.clusters[0] "
                "podinfo-primary=100",
                "resources[0].virtual_hosts[0].routes[0].route.weighted_clusters.clusters[1] "
                "podinfo-canary=0"}),
        boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(walks_v2_routes) {
    const auto d = xds::XdsDocument::parse(doc("rds.yaml", fixture("xds/rds-v2-chart.yaml")));
    std::vector<std::string> names;
    xds::for_each_weighted_cluster(d, [&](xds::WeightedClusterRef& c) {
        BOOST_TEST(c.route->virtual_host->route_config->type.v2);
        names.push_back(c.name);
    });
    BOOST_TEST(names == (std::vector<std::string>{"bold-olm-podinfo", "eerie-octopus-podinfo"}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(structure_errors_name_the_path) {
    const std::string text =
        "resources:\n"
        "- \"@type\": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n"
        "  virtual_hosts:\n"
        "  - name: a\n"
        "    routes: {oops: 1}\n";
    const auto d = xds::XdsDocument::parse(doc("rds.yaml", text));
    BOOST_TEST(
        error_of([&] { xds::for_each_route(d, [](xds::RouteRef&) {}); }) ==
        "document rds.yaml (ConfigMap test/envoy-xds): resources[0].virtual_hosts[0].routes: "
        "expected a list, got a map");
}

BOOST_AUTO_TEST_CASE(weights) {
    const std::string text =
        "resources:\n"
        "- \"@type\": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n"
        "  virtual_hosts:\n"
        "  - routes:\n"
        "    - route:\n"
        "        weighted_clusters:\n"
        "          clusters:\n"
        "          - {name: a, weight: 4294967295}\n"
        "          - {name: b, weight: \"7\"}\n"
        "          - {name: c}\n"
        "          - {name: d, weight: -1}\n"
        "          - {name: e, weight: 4294967296}\n";
    const auto d = xds::XdsDocument::parse(doc("rds.yaml", text));
    std::vector<std::string> got;
    xds::for_each_weighted_cluster(d, [&](xds::WeightedClusterRef& c) {
        const std::string message = error_of([&] {
            const auto w = xds::weight(d, c);
            got.push_back(c.name + "=" + (w ? std::to_string(*w) : "none"));
        });
        if (!message.empty()) {
            got.push_back(message);
        }
    });
    const std::string at =
        "document rds.yaml (ConfigMap test/envoy-xds): "
        "resources[0].virtual_hosts[0].routes[0].route.weighted_clusters.clusters";
    const std::vector<std::string> want{
        "a=4294967295", "b=7", "c=none",
        at + "[3].weight: expected an integer from 0 to 4294967295, got '-1'",
        at + "[4].weight: expected an integer from 0 to 4294967295, got '4294967296'"};
    BOOST_TEST(got == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(set_header_adds_replaces_and_is_idempotent) {
    auto d = xds::XdsDocument::parse(doc("rds.yaml", fixture("xds/rds.yaml")));
    const auto apply = [&] {
        xds::for_each_weighted_cluster(d, [&](xds::WeightedClusterRef& c) {
            xds::set_header(d, c, "request_headers_to_add", "X-Cluster-Id", "9");
            xds::set_header(d, c, "response_headers_to_add", "x-canary", "true");
        });
    };
    apply();
    const std::string once = d.emit();
    apply();
    BOOST_TEST(d.emit() == once);
    const YAML::Node out = YAML::Load(once);
    const YAML::Node clusters = out["resources"][0]["virtual_hosts"][0]["routes"][0]["route"]
                                   ["weighted_clusters"]["clusters"];
    // The existing entry keeps its key and gets the value; nothing is appended.
    BOOST_TEST(clusters[0]["request_headers_to_add"].size() == 1u);
    BOOST_TEST(clusters[0]["request_headers_to_add"][0]["header"]["key"].as<std::string>() ==
               "x-cluster-id");
    BOOST_TEST(clusters[0]["request_headers_to_add"][0]["header"]["value"].as<std::string>() ==
               "9");
    BOOST_TEST(clusters[1]["request_headers_to_add"][0]["header"]["key"].as<std::string>() ==
               "X-Cluster-Id");
    BOOST_TEST(clusters[1]["response_headers_to_add"].size() == 1u);
    // Values are strings to Envoy: quoted in the text.
    BOOST_TEST(once.find("value: \"true\"") != std::string::npos);
    BOOST_TEST(once.find("value: \"9\"") != std::string::npos);
    BOOST_TEST(once.find("value: true") == std::string::npos);
    // The published document is untouched.
    BOOST_TEST(fixture("xds/rds.yaml").find("X-Cluster-Id") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(set_header_refuses_a_malformed_list) {
    const std::string text =
        "resources:\n"
        "- \"@type\": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n"
        "  virtual_hosts:\n"
        "  - name: a\n"
        "    request_headers_to_add: [{key: x, value: y}]\n";
    auto d = xds::XdsDocument::parse(doc("rds.yaml", text));
    BOOST_TEST(error_of([&] {
                   xds::for_each_virtual_host(d, [&](xds::VirtualHostRef& vh) {
                       xds::set_header(d, vh, "request_headers_to_add", "x", "1");
                   });
               }) ==
               "document rds.yaml (ConfigMap test/envoy-xds): "
               "resources[0].virtual_hosts[0].request_headers_to_add[0].header: expected a "
               "map with key and value");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(emitting)

BOOST_AUTO_TEST_CASE(yaml_keeps_quoting_style_and_order) {
    const auto d = xds::XdsDocument::parse(doc("rds.yaml", fixture("xds/rds.yaml")));
    const std::string out = d.emit();
    // Quoted scalars stay quoted, plain ones plain; flow maps stay flow.
    BOOST_TEST(out.find("version_info: \"1\"\n") == 0u);
    BOOST_TEST(
        out.find("\"@type\": type.googleapis.com/envoy.config.route.v3.RouteConfiguration") !=
        std::string::npos);
    BOOST_TEST(out.find("{key: x-cluster-id, value: \"123\"}") != std::string::npos);
    BOOST_TEST(out.find("weight: 100\n") != std::string::npos);
    BOOST_TEST(out.find("domains: [\"*\"]") != std::string::npos);
    BOOST_TEST(out.find("timeout: 15s") < out.find("retry_policy"));
    // Deterministic and stable: emitting the re-parsed text gives the same bytes.
    BOOST_TEST(xds::XdsDocument::parse(doc("rds.yaml", out)).emit() == out);
    BOOST_TEST(d.emit() == out);
    // Same data as the source.
    const YAML::Node a = YAML::Load(out);
    const YAML::Node b = YAML::Load(fixture("xds/rds.yaml"));
    BOOST_TEST(a["resources"][0]["virtual_hosts"][1]["routes"][0]["direct_response"]["body"]
                ["inline_string"]
                    .as<std::string>() == "no route");
    BOOST_TEST(xds::emit(a) == xds::emit(b));
}

BOOST_AUTO_TEST_CASE(scalars_made_in_memory) {
    YAML::Node n(YAML::NodeType::Map);
    n["plain"] = "true";
    n["kept"] = xds::quoted("true");
    n["num"] = 10;
    n["text"] = "two\nlines";
    BOOST_TEST(xds::emit(n) == "plain: true\nkept: \"true\"\nnum: 10\ntext: \"two\\nlines\"\n");
}

BOOST_AUTO_TEST_CASE(json_documents_stay_json) {
    const std::string text =
        "{\"version_info\": \"2\", \"resources\": [{\"@type\": "
        "\"type.googleapis.com/envoy.config.cluster.v3.Cluster\", \"name\": \"a\\\"b\", "
        "\"connect_timeout\": \"1s\", \"per_connection_buffer_limit_bytes\": 32768, "
        "\"ignore_health_on_host_removal\": true, \"metadata\": {}, \"x\": [], \"n\": null}]}";
    const auto d = xds::XdsDocument::parse(doc("cds.json", text));
    const std::string out = d.emit();
    BOOST_TEST(out ==
               "{\n"
               "  \"version_info\": \"2\",\n"
               "  \"resources\": [\n"
               "    {\n"
               "      \"@type\": \"type.googleapis.com/envoy.config.cluster.v3.Cluster\",\n"
               "      \"name\": \"a\\\"b\",\n"
               "      \"connect_timeout\": \"1s\",\n"
               "      \"per_connection_buffer_limit_bytes\": 32768,\n"
               "      \"ignore_health_on_host_removal\": true,\n"
               "      \"metadata\": {},\n"
               "      \"x\": [],\n"
               "      \"n\": null\n"
               "    }\n"
               "  ]\n"
               "}\n");
    BOOST_TEST((xds::format_for("cds.json") == xds::Format::Json));
    BOOST_TEST((xds::format_for("cds.yaml") == xds::Format::Yaml));
    // YAML plain scalars that are not JSON literals become strings; control bytes are escaped.
    YAML::Node n(YAML::NodeType::Map);
    n["a"] = "yes";
    n["b"] = "1.5e3";
    n["c"] = std::string("\x01");
    n["d"] = "~";
    BOOST_TEST(xds::emit(n, xds::Format::Json) ==
               "{\n  \"a\": \"yes\",\n  \"b\": 1.5e3,\n  \"c\": \"\\u0001\",\n  \"d\": null\n}\n");
}

BOOST_AUTO_TEST_CASE(to_document_keeps_name_and_origin) {
    auto d = xds::XdsDocument::parse(doc("rds.yaml", fixture("xds/rds.yaml")));
    const DocumentPtr out = d.to_document();
    BOOST_TEST(out->name == "rds.yaml");
    BOOST_TEST(out->origin.describe() == "ConfigMap test/envoy-xds");
    BOOST_TEST(out->origin.resource_version == "7");
    BOOST_TEST(out->content == d.emit());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(inputs)

namespace {
SnapshotPtr snap(std::vector<std::string> docs,
                 std::vector<std::pair<std::string, std::string>> objs, bool complete = true) {
    auto s = std::make_shared<Snapshot>();
    for (auto& n : docs) {
        s->documents.push_back(std::make_shared<Document>(doc(n, "x")));
    }
    for (auto& [name, rv] : objs) {
        auto o = std::make_shared<Object>();
        o->ref = ObjectRef{"TrafficSplit", "test", name, rv};
        s->objects.push_back(o);
    }
    s->complete = complete;
    if (!complete) {
        s->missing.push_back("TrafficSplit test/missing");
    }
    return s;
}
}  // namespace

BOOST_AUTO_TEST_CASE(union_sorts_and_keeps_pointers) {
    const auto a = snap({"lds.yaml", "rds.yaml"}, {{"b", "1"}});
    const auto b = snap({"cds.yaml"}, {{"a", "1"}, {"b", "1"}}, false);
    const Snapshot u = union_of({Input{"a", a}, Input{"b", b}, Input{"none", nullptr}});
    std::vector<std::string> names;
    for (const auto& d : u.documents) {
        names.push_back(d->name);
    }
    BOOST_TEST(names == (std::vector<std::string>{"cds.yaml", "lds.yaml", "rds.yaml"}),
               boost::test_tools::per_element());
    BOOST_TEST(u.documents[0] == b->documents[0]);
    BOOST_TEST(u.objects.size() == 2u);
    BOOST_TEST(u.objects[0]->ref.name == "a");
    BOOST_TEST(u.objects[1] == a->objects[0]);
    BOOST_TEST(!u.complete);
    BOOST_TEST(u.missing.size() == 1u);
    BOOST_TEST(objects_of_kind(u, "TrafficSplit").size() == 2u);
    BOOST_TEST(objects_of_kind(u, "ConfigMap").empty());
}

BOOST_AUTO_TEST_CASE(shared_union_passes_one_input_through) {
    const auto a = snap({"rds.yaml"}, {{"p", "1"}}, false);
    BOOST_TEST(shared_union_of({Input{"a", a}}) == a);
    const auto b = snap({"cds.yaml"}, {{"p", "1"}});
    const auto u = shared_union_of({Input{"a", a}, Input{"b", b}});
    BOOST_TEST(u != a);
    BOOST_TEST(u->documents.size() == 2u);
    BOOST_TEST(u->objects.size() == 1u);  // the same object, same version: kept once
    BOOST_TEST(!u->complete);
    BOOST_TEST(u->missing == (std::vector<std::string>{"TrafficSplit test/missing"}),
               boost::test_tools::per_element());
    BOOST_TEST(shared_union_of({Input{"none", nullptr}})->documents.empty());
}

BOOST_AUTO_TEST_CASE(union_refuses_conflicts) {
    BOOST_TEST(error_of([] {
                   (void)union_of(
                       {Input{"x", snap({"rds.yaml"}, {})}, Input{"y", snap({"rds.yaml"}, {})}});
               }) ==
               "document 'rds.yaml' comes from both input 'x' and input 'y'; rename one of "
               "them");
    BOOST_TEST(error_of([] {
                   (void)union_of(
                       {Input{"x", snap({}, {{"p", "1"}})}, Input{"y", snap({}, {{"p", "2"}})}});
               }) == "TrafficSplit test/p: inputs disagree on its version ('1' and '2')");
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

// The exception load_yaml throws for `text`, as "line N: message", or "".
std::string yaml_problem(const std::string& text, const YamlLimits& limits = {}) {
    try {
        load_yaml_all(text, limits);
    } catch (const YAML::Exception& e) {
        return "line " + std::to_string(e.mark.line + 1) + ": " + e.msg;
    }
    return {};
}

// Nine levels of ten aliases each: 10^9 values once expanded.
std::string nested_aliases() {
    std::string text = "root:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
    char prev = 'a';
    for (char c = 'b'; c <= 'i'; ++c) {
        text += std::string("  ") + c + ": &" + c + " [";
        for (int i = 0; i < 10; ++i) {
            text += std::string(i ? ", *" : "*") + prev;
        }
        text += "]\n";
        prev = c;
    }
    return text;
}

}  // namespace

BOOST_AUTO_TEST_CASE(load_yaml_refuses_exploding_and_cyclic_aliases) {
    const auto start = std::chrono::steady_clock::now();
    const std::string problem = yaml_problem(nested_aliases());
    BOOST_CHECK_MESSAGE(
        problem.find("aliases add more than 100000 values once expanded") != std::string::npos,
        problem);
    BOOST_CHECK_MESSAGE(problem.rfind("line 6:", 0) == 0, problem);  // the level that crosses
    BOOST_CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
    BOOST_CHECK_NE(
        yaml_problem("a: &a [x, *a]\n").find("an alias refers to a node that contains it"),
        std::string::npos);
    // Aliases within the limits, and text without any, load as before.
    BOOST_CHECK_EQUAL(yaml_problem("common: &c {a: 1}\nx: *c\ny: *c\n"), "");
    BOOST_CHECK_EQUAL(load_yaml("common: &c {a: 1}\nx: *c\n")["x"]["a"].as<int>(), 1);
    // Every document is counted on its own.
    BOOST_CHECK_EQUAL(yaml_problem("a: &a [1, 2]\nb: *a\n---\na: &a [3]\nb: *a\n"), "");
    YamlLimits tight;
    tight.max_alias_values = 3;
    BOOST_CHECK_NE(yaml_problem("a: &a [1, 2]\nb: [*a, *a]\n", tight), "");
    tight.max_depth = 2;
    BOOST_CHECK_NE(yaml_problem("a: {b: {c: 1}}\n", tight).find("nested deeper than 2"),
                   std::string::npos);
}

BOOST_AUTO_TEST_CASE(load_yaml_refuses_duplicate_keys_when_asked) {
    YamlLimits strict;
    strict.refuse_duplicate_keys = true;
    const std::string text = "a: 1\nb:\n  c: 1\n  d: 2\n  c: 3\n";
    BOOST_CHECK_EQUAL(yaml_problem(text), "");
    BOOST_CHECK_EQUAL(yaml_problem(text, strict),
                      "line 5: duplicate key 'c' (each key may appear once in a map)");
    // The same key in different maps, and values equal to keys, are fine.
    BOOST_CHECK_EQUAL(yaml_problem("a: {x: 1}\nb: {x: 1}\nc: a\nl: [{x: 1}, {x: 2}]\n", strict),
                      "");
    BOOST_CHECK_NE(yaml_problem("{a: 1, a: 2}\n", strict), "");
}

BOOST_AUTO_TEST_CASE(xds_documents_get_the_limits) {
    const std::string msg = error_of([&] {
        xds::XdsDocument::parse(doc(
            "rds.yaml", "resources: []\nmeta:\n" + [] {
                std::string t = nested_aliases();
                std::string indented;
                for (std::size_t i = 0; i < t.size(); ++i) {
                    indented += t[i];
                    if (t[i] == '\n' && i + 1 < t.size()) {
                        indented += "  ";
                    }
                }
                return "  " + indented;
            }()));
    });
    BOOST_CHECK_MESSAGE(msg.find("document rds.yaml (ConfigMap test/envoy-xds): line 8") == 0 &&
                            msg.find("aliases add more than") != std::string::npos,
                        msg);
}

BOOST_AUTO_TEST_CASE(read_regular_file_refuses_fifos_and_directories) {
    test::TempDir t;
    test::write_text(t / "f.yaml", "a: 1\n");
    std::string problem;
    BOOST_CHECK_EQUAL(read_regular_file(t / "f.yaml", problem).value_or("?"), "a: 1\n");
    BOOST_REQUIRE_EQUAL(::mkfifo((t / "fifo").c_str(), 0600), 0);
    BOOST_CHECK(!read_regular_file(t / "fifo", problem));
    BOOST_CHECK_EQUAL(problem, "not a regular file (a FIFO)");
    BOOST_CHECK(!read_regular_file(t.path(), problem));
    BOOST_CHECK_EQUAL(problem, "not a regular file (a directory)");
    BOOST_CHECK(!read_regular_file(t / "none", problem));
    BOOST_CHECK_EQUAL(problem, "no such file");
}
