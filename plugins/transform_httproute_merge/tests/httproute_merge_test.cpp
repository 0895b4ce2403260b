// httproute_merge: golden files over the fixtures (as smi_merge's), the
// Gateway API defaults, path matches choosing routes, and errors naming the
// HTTPRoute, the rule and the backend.
#define BOOST_TEST_MODULE httproute_merge
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>

#include <yaml-cpp/yaml.h>

#include "capture_logger.h"
#include "httproute_merge.h"

using namespace crossover;
using crossover::httproute_merge::Merger;
using crossover::httproute_merge::Options;

namespace {

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    BOOST_REQUIRE_MESSAGE(in.good(), "cannot read " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string fixture(const std::string& relative) {
    const char* dir = std::getenv("CROSSOVER_FIXTURES");
    BOOST_REQUIRE(dir != nullptr);
    return read_text(std::string(dir) + "/" + relative);
}

DocumentPtr doc(const std::string& name, std::string content) {
    return std::make_shared<const Document>(
        Document{name, std::move(content), ObjectRef{"ConfigMap", "test", "envoy-xds", "1"}});
}

ObjectPtr route_from_text(const std::string& text) {
    auto o = std::make_shared<Object>();
    o->body = YAML::Load(text);
    o->ref.kind = "HTTPRoute";
    o->ref.ns = o->body["metadata"]["namespace"].as<std::string>();
    o->ref.name = o->body["metadata"]["name"].as<std::string>();
    o->api_version = o->body["apiVersion"].as<std::string>();
    return o;
}

// An HTTPRoute named `name` with `spec` (flow YAML).
ObjectPtr route(const std::string& spec, const std::string& name = "podinfo") {
    return route_from_text(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: "
        "{name: " +
        name + ", namespace: test}\nspec: " + spec + "\n");
}

std::vector<Input> inputs(const std::string& rds, std::vector<ObjectPtr> routes) {
    auto docs = std::make_shared<Snapshot>();
    docs->documents = {doc("rds.yaml", rds)};
    auto objects = std::make_shared<Snapshot>();
    objects->objects = std::move(routes);
    return {Input{"xds", docs}, Input{"routes", objects}};
}

std::string merged(const std::string& rds, std::vector<ObjectPtr> routes, Options o = {}) {
    Merger m(std::move(o));
    const auto out = m.run(inputs(rds, std::move(routes)));
    return out->find_document("rds.yaml")->content;
}

std::string error_of(const std::function<void()>& body) {
    try {
        body();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "<no error>";
}

// cluster -> weight of route `route` in virtual host `vh`, from a fresh parse.
std::map<std::string, std::string> weights(const std::string& content, const std::string& vh,
                                           std::size_t route_index = 0) {
    std::map<std::string, std::string> out;
    for (const auto& res : YAML::Load(content)["resources"]) {
        for (const auto& v : res["virtual_hosts"]) {
            if (v["name"].as<std::string>() == vh) {
                for (const auto& c :
                     v["routes"][route_index]["route"]["weighted_clusters"]["clusters"]) {
                    out[c["name"].as<std::string>()] = c["weight"].as<std::string>("-");
                }
            }
        }
    }
    return out;
}

using WeightMap = std::map<std::string, std::string>;

const char* kTwoRoutes = R"(resources:
- "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration
  name: r
  virtual_hosts:
  - name: web
    domains: ["web.example.com"]
    routes:
    - match: {path: "/healthz"}
      route: {weighted_clusters: {clusters: [{name: web-a, weight: 1}, {name: web-b, weight: 1}]}}
    - match: {prefix: "/api"}   # the API
      route:
        weighted_clusters:
          clusters:
          - name: web-a
            weight: 100
          - name: web-b
            weight: 0
)";

}  // namespace

BOOST_AUTO_TEST_CASE(golden_outputs) {
    const std::string golden_dir = HTTPROUTE_MERGE_GOLDEN_DIR;
    const bool update = std::getenv("HTTPROUTE_MERGE_UPDATE_GOLDEN") != nullptr;
    int successes = 0;
    for (const std::string x : {"rds", "rds-v2-chart"}) {
        for (const std::string r : {"httproute/flagger-v1", "httproute/v1beta1-split",
                                    "invalid/httproute-negative-weight"}) {
            const std::string base = x + "__" + r.substr(r.find('/') + 1);
            std::string result;
            std::string ext = ".yaml";
            try {
                result =
                    merged(fixture("xds/" + x + ".yaml"), {route_from_text(fixture(r + ".yaml"))});
                ++successes;
            } catch (const Error& e) {
                result = std::string(e.what()) + "\n";
                ext = ".err";
            }
            const std::string path = golden_dir + "/" + base + ext;
            if (update) {
                std::ofstream(path, std::ios::binary) << result;
                continue;
            }
            BOOST_TEST_CONTEXT(base) {
                std::ifstream probe(path);
                BOOST_TEST(probe.good(), "missing golden file " + path);
                if (probe.good()) {
                    BOOST_TEST(read_text(path) == result);
                }
            }
        }
    }
    // Flagger's route on rds.yaml; the chart's v2 RDS has no domain podinfo, the docs' example
    // route no virtual host foo.example.com anywhere.
    BOOST_TEST(successes == 1);
}

BOOST_AUTO_TEST_CASE(flagger_weights_land_and_nothing_else_changes) {
    const std::string rds = fixture("xds/rds.yaml");
    const std::string out = merged(rds, {route_from_text(fixture("httproute/flagger-v1.yaml"))});
    BOOST_TEST((weights(out, "podinfo") ==
                WeightMap{{"podinfo-primary", "90"}, {"podinfo-canary", "10"}}));
    std::string expected = rds;
    expected.replace(expected.find("weight: 100"), 11, "weight: 90");
    expected.replace(expected.find("weight: 0"), 9, "weight: 10");
    BOOST_TEST(out == expected);
}

BOOST_AUTO_TEST_CASE(path_matches_choose_routes_and_defaults_apply) {
    // PathPrefix /api: only the /api route; a missing weight is 1, 0 stays 0.
    const std::string out = merged(
        kTwoRoutes,
        {route("{hostnames: [web.example.com], rules: [{matches: [{path: {type: PathPrefix, "
               "value: /api}}], backendRefs: [{name: web-a, port: 80}, {name: web-b, port: 80, "
               "weight: 0}]}]}",
               "web")});
    BOOST_TEST((weights(out, "web", 1) == WeightMap{{"web-a", "1"}, {"web-b", "0"}}));
    BOOST_TEST((weights(out, "web", 0) == WeightMap{{"web-a", "1"}, {"web-b", "1"}}));
    BOOST_TEST(out.find("# the API") != std::string::npos);
    // Exact /healthz and the /api prefix, from two rules of one route.
    const std::string both = merged(
        kTwoRoutes,
        {route("{hostnames: [web.example.com], rules: [{matches: [{path: {type: Exact, value: "
               "/healthz}}], backendRefs: [{name: web-a, weight: 3}, {name: web-b, weight: 7}]}, "
               "{matches: [{path: {value: /api}}], backendRefs: [{name: web-b, weight: 5}]}]}",
               "web")});
    BOOST_TEST((weights(both, "web", 0) == WeightMap{{"web-a", "3"}, {"web-b", "7"}}));
    // web-a is not named by the second rule: its weight stays.
    BOOST_TEST((weights(both, "web", 1) == WeightMap{{"web-a", "100"}, {"web-b", "5"}}));
    // Without hostnames: the virtual host named after the HTTPRoute.
    const std::string by_name =
        merged(kTwoRoutes,
               {route("{rules: [{matches: [{path: {type: Exact, value: /healthz}}], backendRefs: "
                      "[{name: web-b, weight: 2}]}]}",
                      "web")});
    BOOST_TEST((weights(by_name, "web", 0) == WeightMap{{"web-a", "1"}, {"web-b", "2"}}));
}

BOOST_AUTO_TEST_CASE(cluster_name_pattern) {
    Options o;
    o.cluster_name = NamePattern("{{namespace}}/{{service}}:{{port}}",
                                 {"service", "namespace", "port", "route"});
    std::string rds = kTwoRoutes;
    rds.replace(rds.find("name: web-a,"), 12, "name: \"test/web-a:80\",");
    const std::string out = merged(
        rds,
        {route("{hostnames: [web.example.com], rules: [{matches: [{path: {type: Exact, value: "
               "/healthz}}], backendRefs: [{name: web-a, port: 80, weight: 9}]}]}",
               "web")},
        o);
    BOOST_TEST((weights(out, "web", 0) == WeightMap{{"test/web-a:80", "9"}, {"web-b", "1"}}));
    BOOST_TEST(error_of([&] {
                   merged(rds,
                          {route("{hostnames: [web.example.com], rules: [{backendRefs: [{name: "
                                 "web-a}]}]}",
                                 "web")},
                          o);
               }) ==
               "HTTPRoute test/web: spec.rules[0].backendRefs[0] (web-a): port: missing, and "
               "cluster_name uses {{port}}");
}

BOOST_AUTO_TEST_CASE(errors_name_route_rule_and_backend) {
    const std::string rds = fixture("xds/rds.yaml");
    BOOST_TEST(
        error_of([&] {
            merged(rds, {route("{hostnames: [podinfo], rules: [{backendRefs: [{name: "
                               "podinfo-primary, weight: 50}, {name: podinfo-x, weight: 50}]}]}")});
        }) ==
        "HTTPRoute test/podinfo: spec.rules[0]: document rds.yaml (ConfigMap "
        "test/envoy-xds): RouteConfiguration local_route: virtual host podinfo: routes[0] "
        "(line 11): backend 'podinfo-x' matches no cluster (looked for 'podinfo-x', "
        "weighted_clusters has podinfo-primary, podinfo-canary)");
    BOOST_TEST(error_of([&] {
                   merged(rds, {route("{hostnames: [podinfo], rules: [{backendRefs: [{name: "
                                      "podinfo-primary, weight: 0}, {name: podinfo-canary, weight: "
                                      "0}]}]}")});
               }) ==
               "HTTPRoute test/podinfo: spec.rules[0]: document rds.yaml (ConfigMap "
               "test/envoy-xds): RouteConfiguration local_route: virtual host podinfo: routes[0] "
               "(line 11): all backend weights are zero");
    BOOST_TEST(error_of([&] {
                   merged(rds, {route("{hostnames: [podinfo], rules: [{matches: [{path: {value: "
                                      "/v2}}], backendRefs: [{name: podinfo-canary}]}]}")});
               }) ==
               "HTTPRoute test/podinfo: spec.rules[0]: document rds.yaml (ConfigMap "
               "test/envoy-xds): RouteConfiguration local_route: virtual host podinfo: no "
               "route matching prefix /v2, path_separated_prefix /v2 has weighted_clusters "
               "naming the backends' clusters (podinfo-canary)");
    BOOST_TEST(error_of([&] {
                   merged(rds, {route("{hostnames: [shop.example.com, shop], rules: "
                                      "[{backendRefs: [{name: a}]}]}")});
               }) ==
               "HTTPRoute test/podinfo: spec.rules[0]: matches no virtual host: no virtual "
               "host with domain 'shop.example.com', 'shop' in any RouteConfiguration "
               "(searched rds.yaml)");
}

BOOST_AUTO_TEST_CASE(canary_steps_parse_one_route) {
    Merger m(Options{});
    const std::string rds = fixture("xds/rds.yaml");
    auto docs = std::make_shared<Snapshot>();
    docs->documents = {doc("rds.yaml", rds)};
    for (int canary = 0; canary <= 50; canary += 10) {
        auto objects = std::make_shared<Snapshot>();
        objects->objects = {
            route("{hostnames: [podinfo], rules: [{backendRefs: [{name: podinfo-primary, weight: " +
                  std::to_string(100 - canary) +
                  "}, {name: podinfo-canary, weight: " + std::to_string(canary) + "}]}]}")};
        const auto out = m.run({Input{"xds", docs}, Input{"routes", objects}});
        BOOST_TEST((weights(out->find_document("rds.yaml")->content, "podinfo") ==
                    WeightMap{{"podinfo-primary", std::to_string(100 - canary)},
                              {"podinfo-canary", std::to_string(canary)}}));
        // Reused as is: no second parse of the same object.
        (void)m.run({Input{"xds", docs}, Input{"routes", objects}});
    }
    BOOST_TEST(m.parse_count() == 1U);        // the RDS text, once
    BOOST_TEST(m.route_parse_count() == 6U);  // one per step
}

// Logged as smi_merge logs (one function of the merge engine): a lone change is one info line, a
// burst one summary line with each change at debug level.
BOOST_AUTO_TEST_CASE(a_burst_of_changes_is_one_line) {
    std::string rds =
        "resources:\n- \"@type\": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n"
        "  name: r\n  virtual_hosts:\n";
    std::vector<ObjectPtr> routes;
    const auto backends = [](const std::string& n, int a) {
        return "{rules: [{backendRefs: [{name: " + n + "-a, weight: " + std::to_string(a) +
               "}, {name: " + n + "-b, weight: " + std::to_string(100 - a) + "}]}]}";
    };
    for (int i = 0; i < 12; ++i) {
        const std::string n = "vh" + std::to_string(10 + i);
        rds += "  - name: " + n + "\n    domains: [" + n +
               "]\n    routes:\n    - match: {prefix: /}\n" +
               "      route: {weighted_clusters: {clusters: [{name: " + n +
               "-a, weight: 100}, {name: " + n + "-b, weight: 0}]}}\n";
        routes.push_back(route(backends(n, 90), n));
    }
    crossover::test::CaptureLogger logger;
    ComponentConfig config;
    config.name = "routed";
    config.logger = &logger;
    config.options = YAML::Load("{}");
    httproute_merge::HTTPRouteMergeTransform t(
        config, httproute_merge::kHTTPRouteMergeOptions.decode(config));
    SnapshotPtr out;
    BOOST_REQUIRE(t.transform(inputs(rds, routes), out).is_ok());
    const auto info = logger.messages(LogLevel::Info);
    BOOST_REQUIRE(info.size() == 1U);
    BOOST_TEST(info[0].find("weights set for 12 HTTPRoute rules and documents, the first: "
                            "HTTPRoute test/vh10: spec.rules[0]: rds.yaml: vh10-a=90 vh10-b=10 "
                            "on 1 route") == 0U,
               info[0]);
    BOOST_TEST(logger.messages(LogLevel::Debug).size() == 12U);
    // One canary step: its own line.
    routes[3] = route(backends("vh13", 80), "vh13");
    BOOST_REQUIRE(t.transform(inputs(rds, routes), out).is_ok());
    const auto after = logger.messages(LogLevel::Info);
    BOOST_REQUIRE(after.size() == 2U);
    BOOST_TEST(after[1].find("weights set: HTTPRoute test/vh13: spec.rules[0]: rds.yaml: "
                             "vh13-a=80 vh13-b=20 on 1 route") == 0U,
               after[1]);
}
