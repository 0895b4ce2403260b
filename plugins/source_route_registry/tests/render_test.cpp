// The Envoy documents: their shape, read back as YAML.
#include <yaml-cpp/yaml.h>

#include <boost/test/unit_test.hpp>

#include "render.h"

using namespace crossover::route_registry;

namespace {

View view_of(const std::vector<std::pair<std::string, std::string>>& routes) {
    View v;
    for (const auto& [name, body] : routes) {
        auto stored = std::make_shared<StoredRoute>();
        stored->route = parse_route(body, name);
        stored->version = ++v.version;
        v.routes[name] = stored;
    }
    return v;
}

const crossover::Document& doc(const std::vector<crossover::DocumentPtr>& docs,
                               const std::string& name) {
    for (const auto& d : docs) {
        if (d->name == name) {
            return *d;
        }
    }
    throw std::runtime_error("no document " + name);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(render)

BOOST_AUTO_TEST_CASE(one_cluster_and_one_virtual_host_per_route) {
    Renderer r({});
    const auto docs = r.render(view_of({
        {"user-123", R"({"domains": ["session-123.example.org", "*.s123.example.org"],
                         "endpoints": [{"address": "10.1.2.3", "port": 50051, "weight": 2}],
                         "protocol": "grpc", "timeout": "1500ms", "tls": {"sni": "s.internal"}})"},
        {"web", R"({"domains": ["*"], "endpoints": [{"address": "web.internal", "port": 80}],
                    "prefix": "/app"})"},
    }));
    BOOST_REQUIRE_EQUAL(docs.size(), 2U);
    const YAML::Node cds = YAML::Load(doc(docs, "cds.yaml").content);
    BOOST_CHECK_EQUAL(cds["version_info"].as<std::string>(), "2");
    BOOST_REQUIRE_EQUAL(cds["resources"].size(), 2U);
    const YAML::Node grpc = cds["resources"][0];
    BOOST_CHECK_EQUAL(grpc["name"].as<std::string>(), "user-123");
    BOOST_CHECK_EQUAL(grpc["type"].as<std::string>(), "STATIC");
    BOOST_CHECK(grpc["typed_extension_protocol_options"]
                    ["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
                    ["explicit_http_config"]["http2_protocol_options"]);
    const YAML::Node ep = grpc["load_assignment"]["endpoints"][0]["lb_endpoints"][0];
    BOOST_CHECK_EQUAL(ep["endpoint"]["address"]["socket_address"]["address"].as<std::string>(),
                      "10.1.2.3");
    BOOST_CHECK_EQUAL(ep["endpoint"]["address"]["socket_address"]["port_value"].as<int>(), 50051);
    BOOST_CHECK_EQUAL(ep["load_balancing_weight"].as<int>(), 2);
    BOOST_CHECK_EQUAL(grpc["transport_socket"]["typed_config"]["sni"].as<std::string>(),
                      "s.internal");
    const YAML::Node web = cds["resources"][1];
    BOOST_CHECK_EQUAL(web["type"].as<std::string>(), "STRICT_DNS");
    BOOST_CHECK(!web["typed_extension_protocol_options"]);

    const YAML::Node rds = YAML::Load(doc(docs, "rds.yaml").content);
    BOOST_REQUIRE_EQUAL(rds["resources"].size(), 1U);
    BOOST_CHECK_EQUAL(rds["resources"][0]["name"].as<std::string>(), "routes");
    const YAML::Node vhosts = rds["resources"][0]["virtual_hosts"];
    BOOST_REQUIRE_EQUAL(vhosts.size(), 2U);
    BOOST_CHECK_EQUAL(vhosts[0]["domains"][1].as<std::string>(), "*.s123.example.org");
    BOOST_CHECK_EQUAL(vhosts[0]["routes"][0]["route"]["timeout"].as<std::string>(), "1.500s");
    BOOST_CHECK_EQUAL(vhosts[0]["routes"][0]["match"]["prefix"].as<std::string>(), "/");
    BOOST_CHECK_EQUAL(vhosts[1]["domains"][0].as<std::string>(), "*");
    BOOST_CHECK_EQUAL(vhosts[1]["routes"][0]["match"]["prefix"].as<std::string>(), "/app");
    BOOST_CHECK_EQUAL(vhosts[1]["routes"][0]["route"]["cluster"].as<std::string>(), "web");
}

BOOST_AUTO_TEST_CASE(an_empty_registry_gives_empty_lists) {
    RenderOptions o;
    o.route_config_name = "local";
    o.cds_document = "clusters.yaml";
    Renderer r(o);
    const auto docs = r.render(View{});
    const YAML::Node cds = YAML::Load(doc(docs, "clusters.yaml").content);
    BOOST_CHECK(cds["resources"].IsSequence());
    BOOST_CHECK_EQUAL(cds["resources"].size(), 0U);
    const YAML::Node rds = YAML::Load(doc(docs, "rds.yaml").content);
    BOOST_CHECK_EQUAL(rds["resources"][0]["name"].as<std::string>(), "local");
    BOOST_CHECK_EQUAL(rds["resources"][0]["virtual_hosts"].size(), 0U);
}

BOOST_AUTO_TEST_CASE(eds_mode_moves_endpoints_to_load_assignments) {
    RenderOptions o;
    o.eds = true;
    Renderer r(o);
    const auto docs = r.render(view_of(
        {{"a", R"({"domains": ["a.org"], "endpoints": [{"address": "10.0.0.1", "port": 1}]})"}}));
    BOOST_REQUIRE_EQUAL(docs.size(), 3U);
    const YAML::Node cds = YAML::Load(doc(docs, "cds.yaml").content);
    BOOST_CHECK_EQUAL(cds["resources"][0]["type"].as<std::string>(), "EDS");
    BOOST_CHECK(!cds["resources"][0]["load_assignment"]);
    BOOST_CHECK(cds["resources"][0]["eds_cluster_config"]["eds_config"]["ads"]);
    const YAML::Node eds = YAML::Load(doc(docs, "eds.yaml").content);
    BOOST_CHECK_EQUAL(eds["resources"][0]["cluster_name"].as<std::string>(), "a");
    BOOST_CHECK_EQUAL(eds["resources"][0]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
                         ["socket_address"]["port_value"]
                             .as<int>(),
                      1);
}

BOOST_AUTO_TEST_CASE(cached_pieces_follow_new_versions) {
    Renderer r({});
    View v = view_of(
        {{"a", R"({"domains": ["a.org"], "endpoints": [{"address": "10.0.0.1", "port": 1}]})"}});
    (void)r.render(v);
    auto changed = std::make_shared<StoredRoute>(*v.routes["a"]);
    changed->route.endpoints[0].port = 2;
    changed->version = 2;
    v.routes["a"] = changed;
    v.version = 2;
    const auto docs = r.render(v);
    BOOST_CHECK(doc(docs, "cds.yaml").content.find("port_value: 2\n") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
