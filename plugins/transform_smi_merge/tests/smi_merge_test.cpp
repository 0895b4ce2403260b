#define BOOST_TEST_MODULE smi_merge
#include <boost/test/unit_test.hpp>

#include <dlfcn.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "capture_logger.h"
#include "crossover/sdk.h"
#include "rds_index.h"
#include "smi_merge.h"

using namespace crossover;
using crossover::smi_merge::build_index;
using crossover::smi_merge::Match;
using crossover::smi_merge::Merger;
using crossover::smi_merge::Options;
using crossover::smi_merge::RdsIndex;
using crossover::smi_merge::RdsIndexPtr;
using crossover::smi_merge::Span;
using crossover::smi_merge::Unmatched;

namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    BOOST_REQUIRE_MESSAGE(v != nullptr, std::string(name) + " is not set");
    return v;
}

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    BOOST_REQUIRE_MESSAGE(in.good(), "cannot read " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string fixture(const std::string& relative) {
    return read_text(env("CROSSOVER_FIXTURES") + "/" + relative);
}

DocumentPtr doc(const std::string& name, std::string content) {
    return std::make_shared<const Document>(
        Document{name, std::move(content), ObjectRef{"ConfigMap", "test", "envoy-xds", "1"}});
}

ObjectPtr split_from_text(const std::string& text) {
    auto o = std::make_shared<Object>();
    o->body = YAML::Load(text);
    o->ref.kind = "TrafficSplit";
    o->ref.ns = o->body["metadata"]["namespace"].as<std::string>();
    o->ref.name = o->body["metadata"]["name"].as<std::string>();
    o->api_version = o->body["apiVersion"].as<std::string>();
    return o;
}

ObjectPtr split_fixture(const std::string& relative) {
    return split_from_text(fixture(relative));
}

// A TrafficSplit with the given backends ("service=weight,...").
ObjectPtr split(const std::string& service,
                const std::vector<std::pair<std::string, std::string>>& backends,
                const std::string& version = "v1alpha2", const std::string& name = "",
                const std::string& ns = "test") {
    std::string text = "apiVersion: split.smi-spec.io/" + version +
                       "\nkind: TrafficSplit\nmetadata: {name: " + (name.empty() ? service : name) +
                       ", namespace: " + ns + "}\nspec:\n  service: " + service + "\n  backends:\n";
    for (const auto& [s, w] : backends) {
        text += "  - {service: " + s + ", weight: " + (version == "v1alpha1" ? "'" + w + "'" : w) +
                "}\n";
    }
    return split_from_text(text);
}

SnapshotPtr snapshot(std::vector<DocumentPtr> docs, std::vector<ObjectPtr> objects = {}) {
    auto s = std::make_shared<Snapshot>();
    std::sort(docs.begin(), docs.end(), [](auto& a, auto& b) { return a->name < b->name; });
    s->documents = std::move(docs);
    s->objects = std::move(objects);
    return s;
}

std::vector<Input> inputs(std::vector<DocumentPtr> docs, std::vector<ObjectPtr> objects) {
    return {Input{"xds", snapshot(std::move(docs))},
            Input{"splits", snapshot({}, std::move(objects))}};
}

Options options(Match match = Match::Name, const std::string& pattern = "{{service}}",
                bool dots = false, bool promote = false) {
    Options o;
    o.match = match;
    o.cluster_name = smi_merge::ClusterPattern(pattern);
    o.dot_to_underscore = dots;
    o.promote = promote;
    return o;
}

std::string error_of(const std::function<void()>& body) {
    try {
        body();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "<no error>";
}

// Runs one merge and returns the named document's content.
std::string merged(const std::string& content, std::vector<ObjectPtr> splits, Options o = options(),
                   const std::string& name = "rds.yaml") {
    Merger m(std::move(o));
    auto out = m.run(inputs({doc(name, content)}, std::move(splits)));
    const Document* d = out->find_document(name);
    BOOST_REQUIRE(d != nullptr);
    return d->content;
}

// The weights of the first route's clusters in virtual host `vh`, read from a
// fresh parse of the output (independent of the splicer).
std::map<std::string, std::string> weights(const std::string& content, const std::string& vh,
                                           std::size_t route = 0) {
    std::map<std::string, std::string> out;
    const YAML::Node root = YAML::Load(content);
    for (const auto& res : root["resources"]) {
        for (const auto& v : res["virtual_hosts"]) {
            if (v["name"].as<std::string>() != vh) {
                continue;
            }
            const YAML::Node wc = v["routes"][route]["route"]["weighted_clusters"];
            for (const auto& c : wc["clusters"]) {
                out[c["name"].as<std::string>()] =
                    c["weight"] ? c["weight"].as<std::string>() : "-";
            }
            if (wc["total_weight"]) {
                out["<total>"] = wc["total_weight"].as<std::string>();
            }
        }
    }
    return out;
}

using WeightMap = std::map<std::string, std::string>;

const char* kSimple = R"(# head comment
version_info: "3"
resources:
- "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration
  name: r
  virtual_hosts:
  - name: web  # the web tier
    domains: ["web.shop.svc.cluster.local"]
    routes:
    - match: {prefix: "/"}
      route:
        weighted_clusters:
          clusters:
          - name: web-a    # stable
            weight: 100    # keep this comment
          - {name: web-b, weight: 0}
)";

}  // namespace

// ---- golden files over every fixture -------------------------------------

BOOST_AUTO_TEST_CASE(golden_outputs) {
    const std::string golden_dir = SMI_MERGE_GOLDEN_DIR;
    const bool update = std::getenv("SMI_MERGE_UPDATE_GOLDEN") != nullptr;
    const std::vector<std::pair<std::string, Options>> xds = {{"rds.yaml", options()},
                                                              {"rds-v2-chart.yaml", options()}};
    const std::vector<std::string> splits = {
        "trafficsplit/flagger-v1alpha1.yaml", "trafficsplit/quantity-milli-v1alpha1.yaml",
        "trafficsplit/v1alpha2.yaml",         "trafficsplit/v1alpha3-matches.yaml",
        "trafficsplit/v1alpha4.yaml",         "invalid/trafficsplit-negative.yaml"};
    int successes = 0;
    for (const auto& [x, o] : xds) {
        for (const auto& s : splits) {
            const std::string base = x.substr(0, x.size() - 5) + "__" +
                                     s.substr(s.find('/') + 1, s.size() - s.find('/') - 6);
            std::string result;
            std::string ext;
            try {
                result = merged(fixture("xds/" + x), {split_fixture(s)}, o, x);
                ext = ".yaml";
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
            std::ifstream probe(path);
            BOOST_TEST_CONTEXT(base) {
                BOOST_TEST(probe.good(), "missing golden file " + path);
                if (probe.good()) {
                    BOOST_TEST(read_text(path) == result);
                }
            }
        }
    }
    // rds.yaml takes the four podinfo-primary/-canary splits, the chart's v2 RDS the v1alpha2 one.
    // The v1alpha3 split with spec.matches is left out (both documents pass through unchanged).
    BOOST_TEST(successes == 6);
}

BOOST_AUTO_TEST_CASE(fixture_weights_land_exactly) {
    const std::string rds = fixture("xds/rds.yaml");
    BOOST_TEST(
        (weights(merged(rds, {split_fixture("trafficsplit/flagger-v1alpha1.yaml")}), "podinfo") ==
         WeightMap{{"podinfo-canary", "5"}, {"podinfo-primary", "95"}}));
    BOOST_TEST(
        (weights(merged(rds, {split_fixture("trafficsplit/quantity-milli-v1alpha1.yaml")}),
                 "podinfo") == WeightMap{{"podinfo-canary", "1"}, {"podinfo-primary", "3"}}));
    // spec.matches: left out, the document's own weights stay.
    BOOST_TEST(
        (weights(merged(rds, {split_fixture("trafficsplit/v1alpha3-matches.yaml")}), "podinfo") ==
         WeightMap{{"podinfo-canary", "0"}, {"podinfo-primary", "100"}}));
    BOOST_TEST((weights(merged(rds, {split_fixture("trafficsplit/v1alpha4.yaml")}), "podinfo") ==
                WeightMap{{"podinfo-canary", "100"}, {"podinfo-primary", "0"}}));
    const std::string v2 = fixture("xds/rds-v2-chart.yaml");
    BOOST_TEST((weights(merged(v2, {split_fixture("trafficsplit/v1alpha2.yaml")}), "podinfo") ==
                WeightMap{{"bold-olm-podinfo", "75"}, {"eerie-octopus-podinfo", "25"}}));
}

// ---- splicing keeps the text ---------------------------------------------

BOOST_AUTO_TEST_CASE(splice_changes_only_the_weights) {
    const std::string rds = fixture("xds/rds.yaml");
    const std::string out = merged(rds, {split_fixture("trafficsplit/flagger-v1alpha1.yaml")});
    std::string expected = rds;
    const auto p100 = expected.find("weight: 100");
    expected.replace(p100, 11, "weight: 95");
    const auto p0 = expected.find("weight: 0");
    expected.replace(p0, 9, "weight: 5");
    BOOST_TEST(out == expected);
    BOOST_TEST(out.find("# Envoy v3 RDS as a file-based DiscoveryResponse.") == 0u);
}

BOOST_AUTO_TEST_CASE(splice_keeps_comments_and_flow_style) {
    const std::string out = merged(kSimple, {split("web", {{"web-a", "30"}, {"web-b", "70"}})});
    std::string expected = kSimple;
    expected.replace(expected.find("100    # keep"), 3, "30");
    expected.replace(expected.find("weight: 0}") + 8, 1, "70");
    BOOST_TEST(out == expected);
    BOOST_TEST(out.find("# keep this comment") != std::string::npos);
    BOOST_TEST(out.find("# head comment") == 0u);
    BOOST_TEST(out.find("{name: web-b, weight: 70}") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(missing_weights_are_inserted) {
    const std::string text = R"(resources:
- "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration
  name: r
  virtual_hosts:
  - name: web
    domains: ["*"]
    routes:
    - match: {prefix: "/"}
      route:
        weighted_clusters:
          clusters:
          - name: web-a  # no weight yet
            request_headers_to_add: []
          - {name: web-b}
          - {name: web-c, weight: 3}
)";
    const std::string out = merged(text, {split("web", {{"web-a", "1"}, {"web-b", "2"}})});
    const std::string expected = R"(resources:
- "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration
  name: r
  virtual_hosts:
  - name: web
    domains: ["*"]
    routes:
    - match: {prefix: "/"}
      route:
        weighted_clusters:
          clusters:
          - name: web-a  # no weight yet
            weight: 1
            request_headers_to_add: []
          - {name: web-b, weight: 2}
          - {name: web-c, weight: 3}
)";
    BOOST_TEST(out == expected);
}

BOOST_AUTO_TEST_CASE(byte_order_mark_and_utf8) {
    // Non-ASCII text before the weights and a byte order mark keep offsets right.
    std::string text = std::string("\xEF\xBB\xBF") + kSimple;
    text.replace(text.find("# the web tier"), 14, "# caf\xC3\xA9 \xE2\x82\xAC tier");
    const std::string out = merged(text, {split("web", {{"web-a", "30"}, {"web-b", "70"}})});
    std::string expected = text;
    expected.replace(expected.find("100    # keep"), 3, "30");
    expected.replace(expected.find("weight: 0}") + 8, 1, "70");
    BOOST_TEST(out == expected);
    BOOST_TEST(error_of([&] {
                   merged(text, {split("web", {{"web-a", "0"}, {"web-b", "0"}})});
               }).find("routes[0] (line 10): all backend weights are zero") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(json_documents) {
    const std::string json =
        R"({"version_info": "1", "resources": [{"@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration", "name": "r", "virtual_hosts": [{"name": "web", "domains": ["*"], "routes": [{"match": {"prefix": "/"}, "route": {"weighted_clusters": {"clusters": [{"name": "web-a", "weight": 100}, {"name": "web-b"}], "total_weight": 100}}}]}]}]})";
    const std::string out =
        merged(json, {split("web", {{"web-a", "20"}, {"web-b", "60"}})}, options(), "rds.json");
    // Only the weights change; the missing one is added in JSON syntax.
    std::string expected = json;
    expected.replace(expected.find("100}"), 3, "20");
    expected.insert(expected.find(R"("web-b"})") + 7, R"(, "weight": 60)");
    expected.replace(expected.find("100}}}"), 3, "80");
    BOOST_TEST(out == expected);
    BOOST_TEST(
        (weights(out, "web") == WeightMap{{"web-a", "20"}, {"web-b", "60"}, {"<total>", "80"}}));
}

namespace {

std::string describe_span(const Span& s) {
    return s.ok ? std::to_string(s.pos) + "+" + std::to_string(s.len) : "-";
}

// Everything the index records, one line per route.
std::string describe_index(const RdsIndex& index) {
    std::ostringstream out;
    for (const auto& rc : index.route_configs) {
        out << "rc " << rc.index << " " << rc.name << " " << rc.legacy_v2 << "\n";
        for (const auto& vh : rc.virtual_hosts) {
            out << " vh " << vh.index << " " << vh.name << " " << vh.domains.size() << "\n";
            for (const auto& r : vh.routes) {
                out << "  route " << r.index << " " << r.name << " [" << r.match << "] line "
                    << r.line << " weighted " << r.weighted << " total " << r.has_total << " "
                    << describe_span(r.total) << " map " << r.weighted_map.pos << " "
                    << r.weighted_map.ok << r.weighted_map.flow << r.weighted_map.flow_empty << " '"
                    << r.weighted_map.block_indent << "' plain " << r.plain << " "
                    << r.plain_cluster << " " << describe_span(r.plain_entry) << "\n";
                for (const auto& c : r.clusters) {
                    out << "   cluster " << c.name << " " << c.has_weight << " " << c.weight_text
                        << " " << describe_span(c.weight) << " after " << c.after_name << " "
                        << c.after_name_ok << c.flow << " '" << c.block_indent << "'\n";
                }
            }
        }
    }
    return out.str();
}

}  // namespace

BOOST_AUTO_TEST_CASE(scanner_and_yaml_cpp_index_alike) {
    // The scanner reads the usual documents; a tab in a comment sends the same
    // document to yaml-cpp, whose tree must give the same index.
    const std::string text = std::string(kSimple) +
                             "    - match: {path: \"/x\"}\n"
                             "      route: {cluster: web-a}\n"
                             "    - name: flow\n"
                             "      route: {weighted_clusters: {clusters: [{name: web-c}], "
                             "total_weight: 5}}\n";
    const RdsIndexPtr scanned = build_index(text);
    const RdsIndexPtr loaded = build_index(text + "#\ta tab\n");
    BOOST_TEST(scanned->scanned);
    BOOST_TEST(!loaded->scanned);
    BOOST_TEST(loaded->parse_error.empty());
    BOOST_TEST(describe_index(*scanned).find("cluster web-c 0  - after") != std::string::npos);
    BOOST_TEST(describe_index(*scanned) == describe_index(*loaded));
    BOOST_TEST(build_index(std::string(kSimple) + "x: &a 1\n")->scanned == false);
    BOOST_TEST(build_index("{\"resources\": []}")->scanned);
}

BOOST_AUTO_TEST_CASE(index_shares_its_text_and_holds_no_spare_capacity) {
    // The index lives as long as its document: it refers to the document's
    // text rather than copying it, and its vectors are no larger than needed.
    std::string text = "resources:\n";
    for (int rc = 0; rc < 3; ++rc) {
        text +=
            "- \"@type\": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n"
            "  name: r" +
            std::to_string(rc) + "\n  virtual_hosts:\n";
        for (int vh = 0; vh < 5; ++vh) {
            const std::string n = std::to_string(rc) + "-" + std::to_string(vh);
            text += "  - name: vh" + n + "\n    domains: [a" + n + ", b" + n + ", c" + n +
                    "]\n    routes:\n";
            for (int r = 0; r < 3; ++r) {
                text +=
                    "    - route: {weighted_clusters: {clusters: [{name: x, weight: 1}, "
                    "{name: y, weight: 2}, {name: z, weight: 3}]}}\n";
            }
        }
    }
    const auto shared = std::make_shared<const std::string>(text);
    const RdsIndexPtr index = build_index(shared);
    BOOST_TEST(index->parse_error.empty());
    BOOST_TEST(index->text.get() == shared.get());
    BOOST_TEST(&index->content() == shared.get());
    BOOST_REQUIRE_EQUAL(index->route_configs.size(), 3u);
    BOOST_TEST(index->route_configs.capacity() == index->route_configs.size());
    for (const auto& rc : index->route_configs) {
        BOOST_REQUIRE_EQUAL(rc.virtual_hosts.size(), 5u);
        BOOST_TEST(rc.virtual_hosts.capacity() == rc.virtual_hosts.size());
        for (const auto& vh : rc.virtual_hosts) {
            BOOST_TEST(vh.domains.capacity() == vh.domains.size());
            BOOST_REQUIRE_EQUAL(vh.routes.size(), 3u);
            BOOST_TEST(vh.routes.capacity() == vh.routes.size());
            for (const auto& route : vh.routes) {
                BOOST_REQUIRE_EQUAL(route.clusters.size(), 3u);
                BOOST_TEST(route.clusters.capacity() == route.clusters.size());
            }
        }
    }
    // A copy of the text indexes alike.
    BOOST_TEST(describe_index(*build_index(text)) == describe_index(*index));
}

BOOST_AUTO_TEST_CASE(total_weight_is_kept_consistent) {
    std::string v3 = kSimple;
    v3.replace(v3.find("          clusters:"), 0, "          total_weight: 100\n");
    BOOST_TEST((weights(merged(v3, {split("web", {{"web-a", "1"}, {"web-b", "2"}})}), "web") ==
                WeightMap{{"web-a", "1"}, {"web-b", "2"}, {"<total>", "3"}}));
    // v3 without total_weight: none is added (Envoy uses the sum).
    BOOST_TEST((weights(merged(kSimple, {split("web", {{"web-a", "1"}, {"web-b", "2"}})}), "web") ==
                WeightMap{{"web-a", "1"}, {"web-b", "2"}}));
    // Legacy v2 reads a missing total_weight as 100: one is added when the sum differs.
    const std::string v2 = fixture("xds/rds-v2-chart.yaml");
    const std::string out = merged(
        v2, {split("podinfo", {{"bold-olm-podinfo", "1500m"}, {"eerie-octopus-podinfo", "500m"}},
                   "v1alpha1")});
    BOOST_TEST(
        (weights(out, "podinfo") ==
         WeightMap{{"bold-olm-podinfo", "3"}, {"eerie-octopus-podinfo", "1"}, {"<total>", "4"}}));
    BOOST_TEST(
        out.find("        weighted_clusters:\n          total_weight: 4\n          clusters:") !=
        std::string::npos);
    // ... and not when the weights sum to 100.
    const std::string hundred = merged(
        v2, {split("podinfo", {{"bold-olm-podinfo", "60"}, {"eerie-octopus-podinfo", "40"}})});
    BOOST_TEST(hundred.find("total_weight") == std::string::npos);
}

// ---- matching -------------------------------------------------------------

BOOST_AUTO_TEST_CASE(match_by_domain) {
    // kSimple's virtual host is named "web" but its domain is the service's FQDN.
    std::string text = kSimple;
    text.replace(text.find("- name: web "), 12, "- name: vh1 ");
    const auto s = split("web", {{"web-a", "10"}, {"web-b", "90"}}, "v1alpha2", "web", "shop");
    BOOST_TEST((weights(merged(text, {s}, options(Match::Domain)), "vh1") ==
                WeightMap{{"web-a", "10"}, {"web-b", "90"}}));
    BOOST_TEST(error_of([&] { merged(text, {s}, options(Match::Name)); }) ==
               "TrafficSplit shop/web: matches no virtual host: no virtual host named 'web' in any "
               "RouteConfiguration (searched rds.yaml)");
    const auto other_ns =
        split("web", {{"web-a", "10"}, {"web-b", "90"}}, "v1alpha2", "web", "prod");
    BOOST_TEST(error_of([&] { merged(text, {other_ns}, options(Match::Domain)); }) ==
               "TrafficSplit prod/web: matches no virtual host: no virtual host with domain 'web', "
               "'web.prod' or 'web.prod.svc.cluster.local' in any RouteConfiguration (searched "
               "rds.yaml)");
    // The short forms match too.
    for (const std::string d : {"web", "web.shop"}) {
        std::string t = text;
        t.replace(t.find("web.shop.svc.cluster.local"), 26, d);
        BOOST_TEST((weights(merged(t, {s}, options(Match::Domain)), "vh1") ==
                    WeightMap{{"web-a", "10"}, {"web-b", "90"}}));
    }
}

BOOST_AUTO_TEST_CASE(cluster_name_patterns) {
    std::string text = kSimple;
    text.replace(text.find("name: web-a"), 11, "name: web-a_shop");
    text.replace(text.find("name: web-b"), 11, "name: web-b_shop");
    const auto s = split("web", {{"web-a", "4"}, {"web-b", "6"}}, "v1alpha2", "web", "shop");
    BOOST_TEST(
        (weights(merged(text, {s}, options(Match::Name, "{{service}}.{{ namespace }}", true)),
                 "web") == WeightMap{{"web-a_shop", "4"}, {"web-b_shop", "6"}}));
    BOOST_TEST(error_of([&] { merged(text, {s}); }) ==
               "TrafficSplit shop/web: document rds.yaml (ConfigMap test/envoy-xds): "
               "RouteConfiguration r: virtual host web: no route has weighted_clusters naming the "
               "backends' clusters (web-a, web-b)");
    // The original chart: backends "x.ns" become clusters "x_ns".
    const auto dotted = split("web", {{"web-a.shop", "4"}, {"web-b.shop", "6"}});
    BOOST_TEST((weights(merged(text, {dotted}, options(Match::Name, "{{service}}", true)), "web") ==
                WeightMap{{"web-a_shop", "4"}, {"web-b_shop", "6"}}));
    BOOST_TEST(error_of([] { smi_merge::ClusterPattern("{{svc}}"); }) ==
               "unknown placeholder '{{svc}}' (known: service, backend, namespace, root, name)");
    BOOST_TEST(error_of([] { smi_merge::ClusterPattern("{{service"); }) ==
               "unclosed '{{' in '{{service'");
    const smi::TrafficSplit ts = smi::parse_trafficsplit(*s);
    BOOST_TEST(smi_merge::ClusterPattern("{{root}}-{{name}}-{{backend}}").render("x", ts, false) ==
               "web-web-x");
}

// ---- errors ---------------------------------------------------------------

BOOST_AUTO_TEST_CASE(error_messages) {
    const std::string rds = fixture("xds/rds.yaml");
    const std::string where =
        "TrafficSplit test/podinfo: document rds.yaml (ConfigMap test/envoy-xds): "
        "RouteConfiguration local_route: virtual host podinfo: routes[0] (line 11): ";
    BOOST_TEST(
        error_of([&] {
            merged(rds, {split("podinfo", {{"podinfo-primary", "0"}, {"podinfo-canary", "0"}})});
        }) == where + "all backend weights are zero");
    BOOST_TEST(
        error_of([&] {
            merged(rds, {split("podinfo", {{"podinfo-primary", "50"}, {"podinfo-x", "50"}})});
        }) == where +
                  "backend 'podinfo-x' matches no cluster (looked for 'podinfo-x', "
                  "weighted_clusters has podinfo-primary, podinfo-canary)");
    BOOST_TEST(error_of([&] {
                   merged(rds, {split_fixture("invalid/trafficsplit-negative.yaml")});
               }) == "TrafficSplit test/podinfo: spec.backends[1].weight: negative weight -10");
    BOOST_TEST(error_of([&] {
                   merged(rds, {split("nothere", {{"a", "1"}})});
               }) ==
               "TrafficSplit test/nothere: matches no virtual host: no virtual host named "
               "'nothere' in any RouteConfiguration (searched rds.yaml)");
    BOOST_TEST(error_of([&] {
                   merged(rds, {split("podinfo", {{"podinfo-primary", "1"}}, "v1alpha1")},
                          options(), "x.yaml");
                   merged(rds, {split("podinfo", {{"podinfo-primary", "1x"}}, "v1alpha1")});
               }) ==
               "TrafficSplit test/podinfo: spec.backends[0].weight: invalid quantity '1x': "
               "unknown suffix 'x' (expected one of n u m k M G T P E Ki Mi Gi Ti Pi Ei or "
               "an exponent)");
    BOOST_TEST(error_of([&] {
                   merged(rds,
                          {split("podinfo", {{"podinfo-primary", "1"}, {"podinfo-canary", "1"}}),
                           split("podinfo", {{"podinfo-primary", "2"}, {"podinfo-canary", "1"}},
                                 "v1alpha2", "podinfo-2")});
               }) ==
               "TrafficSplit test/podinfo-2: document rds.yaml (ConfigMap test/envoy-xds): "
               "RouteConfiguration local_route: virtual host podinfo: routes[0] (line 11): "
               "also matched by TrafficSplit test/podinfo");
    // No RouteConfiguration anywhere.
    Merger m(options());
    BOOST_TEST(error_of([&] {
                   m.run(inputs({doc("cds.yaml", fixture("xds/cds.yaml"))},
                                {split("podinfo", {{"a", "1"}})}));
               }) ==
               "TrafficSplit test/podinfo: matches no virtual host: no virtual host named "
               "'podinfo' in any RouteConfiguration (no document holds one)");
    // A broken RDS is named.
    BOOST_TEST(error_of([&] {
                   m.run(inputs({doc("rds.yaml", "resources: [RouteConfiguration: {")},
                                {split("podinfo", {{"a", "1"}})}));
               }).find("(no document holds one); not valid YAML: rds.yaml") != std::string::npos);
    // Same document name from two inputs.
    BOOST_TEST(error_of([&] {
                   m.run({Input{"a", snapshot({doc("rds.yaml", rds)})},
                          Input{"b", snapshot({doc("rds.yaml", rds)})}});
               }) ==
               "document 'rds.yaml' comes from both input 'a' and input 'b'; rename one of "
               "them");
    // Another cluster's weight that is not a number.
    std::string bad = kSimple;
    bad.replace(bad.find("weight: 0}"), 9, "weight: x");
    BOOST_TEST(error_of([&] {
                   merged(bad, {split("web", {{"web-a", "1"}})});
               }) ==
               "TrafficSplit test/web: document rds.yaml (ConfigMap test/envoy-xds): "
               "RouteConfiguration r: virtual host web: routes[0] (line 10): cluster 'web-b' has "
               "weight 'x', not an integer");
    // Weights beyond Envoy's uint32 sum.
    BOOST_TEST(error_of([&] {
                   merged(kSimple, {split("web", {{"web-a", "4294967295"}})}, options());
                   std::string big = kSimple;
                   big.replace(big.find("weight: 0}"), 9, "weight: 9");
                   merged(big, {split("web", {{"web-a", "4294967295"}})});
               }) ==
               "TrafficSplit test/web: document rds.yaml (ConfigMap test/envoy-xds): "
               "RouteConfiguration r: virtual host web: routes[0] (line 10): the weights "
               "sum to 4294967304, more than Envoy's limit 4294967295");
}

BOOST_AUTO_TEST_CASE(transform_reports_errors_as_status) {
    ComponentConfig config;
    config.name = "weighted";
    config.options = YAML::Load("{match: name, cluster_name: '{{service}}'}");
    smi_merge::SmiMergeTransform t(config, smi_merge::kSmiMergeOptions.decode(config));
    SnapshotPtr out;
    const auto in = inputs({doc("rds.yaml", fixture("xds/rds.yaml"))},
                           {split_fixture("invalid/trafficsplit-negative.yaml")});
    const Status st = t.transform(in, out);
    BOOST_TEST(!st.is_ok());
    BOOST_TEST(st.message() ==
               "TrafficSplit test/podinfo: spec.backends[1].weight: negative weight -10");
    BOOST_TEST(!out);
}

// ---- promote --------------------------------------------------------------

BOOST_AUTO_TEST_CASE(promote_plain_cluster) {
    const std::string text = R"(resources:
- "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration
  name: r
  virtual_hosts:
  - name: web
    domains: ["*"]
    routes:
    - match: {prefix: "/"}
      route:
        timeout: 5s
        cluster: web   # plain
)";
    const auto s = split("web", {{"web-primary", "90"}, {"web-canary", "10"}});
    BOOST_TEST(error_of([&] { merged(text, {s}); }) ==
               "TrafficSplit test/web: document rds.yaml (ConfigMap test/envoy-xds): "
               "RouteConfiguration r: virtual host web: no route has weighted_clusters naming the "
               "backends' clusters (web-primary, web-canary); routes[0] (line 8) routes to plain "
               "cluster 'web': set promote: true to convert it");
    const std::string out = merged(text, {s}, options(Match::Name, "{{service}}", false, true));
    std::string expected = text;
    expected.replace(expected.find("cluster: web"), 12,
                     "weighted_clusters: {clusters: [{name: \"web-primary\", weight: 90}, {name: "
                     "\"web-canary\", weight: 10}]}");
    BOOST_TEST(out == expected);
    BOOST_TEST((weights(out, "web") == WeightMap{{"web-primary", "90"}, {"web-canary", "10"}}));
    // A plain route to one of the backends is promoted too; JSON stays JSON.
    const std::string json =
        R"({"resources": [{"@type": "type.googleapis.com/envoy.api.v2.RouteConfiguration", "name": "r", "virtual_hosts": [{"name": "web", "domains": ["*"], "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "web-primary"}}]}]}]})";
    const std::string jout = merged(json, {s}, options(Match::Name, "{{service}}", false, true));
    BOOST_TEST(
        jout.find(
            R"("route": {"weighted_clusters": {"clusters": [{"name": "web-primary", "weight": 90}, {"name": "web-canary", "weight": 10}]}})") !=
        std::string::npos);
    // v2 with a sum other than 100 carries total_weight.
    const auto s2 = split("web", {{"web-primary", "3"}, {"web-canary", "1"}});
    const std::string j2 = merged(json, {s2}, options(Match::Name, "{{service}}", false, true));
    BOOST_TEST((weights(j2, "web") ==
                WeightMap{{"web-primary", "3"}, {"web-canary", "1"}, {"<total>", "4"}}));
}

// ---- several splits, documents and configurations --------------------------

BOOST_AUTO_TEST_CASE(several_splits_documents_and_route_configurations) {
    const std::string two = R"(resources:
- "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration
  name: internal
  virtual_hosts:
  - name: web
    domains: ["web"]
    routes:
    - match: {prefix: "/api"}
      route: {weighted_clusters: {clusters: [{name: web-a, weight: 1}, {name: web-b, weight: 1}]}}
    - match: {prefix: "/"}
      direct_response: {status: 404}
  - name: api
    domains: ["api"]
    routes:
    - match: {prefix: "/"}
      route: {weighted_clusters: {clusters: [{name: api-a, weight: 1}, {name: api-b, weight: 1}]}}
- "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration
  name: edge
  virtual_hosts:
  - name: web
    domains: ["*"]
    routes:
    - match: {prefix: "/"}
      route: {weighted_clusters: {clusters: [{name: web-b, weight: 7}, {name: web-a, weight: 7}]}}
)";
    const std::string json =
        R"({"resources": [{"@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration", "name": "j", "virtual_hosts": [{"name": "api", "routes": [{"route": {"weighted_clusters": {"clusters": [{"name": "api-a", "weight": 5}, {"name": "api-b", "weight": 5}]}}}]}]}]})";
    const auto cds = doc("cds.yaml", fixture("xds/cds.yaml"));
    Merger m(options());
    auto out = m.run(inputs({doc("a.yaml", two), doc("b.json", json), cds},
                            {split("web", {{"web-a", "30"}, {"web-b", "70"}}),
                             split("api", {{"api-a", "2"}, {"api-b", "8"}})}));
    BOOST_REQUIRE(out->documents.size() == 3u);
    BOOST_TEST(out->documents[0]->name == "a.yaml");
    BOOST_TEST(out->documents[1]->name == "b.json");
    BOOST_TEST(out->documents[2].get() == cds.get());
    const std::string& a = out->documents[0]->content;
    BOOST_TEST(a.find("{name: web-a, weight: 30}, {name: web-b, weight: 70}") != std::string::npos);
    BOOST_TEST(a.find("{name: web-b, weight: 70}, {name: web-a, weight: 30}") != std::string::npos);
    BOOST_TEST(a.find("{name: api-a, weight: 2}, {name: api-b, weight: 8}") != std::string::npos);
    BOOST_TEST(out->documents[1]->content.find(
                   R"({"name": "api-a", "weight": 2}, {"name": "api-b", "weight": 8})") !=
               std::string::npos);
    BOOST_TEST(out->objects.size() == 2u);
    BOOST_TEST(out->objects[0]->ref.name == "api");  // sorted, passed through
}

// ---- identity, determinism, caching ----------------------------------------

BOOST_AUTO_TEST_CASE(untouched_documents_keep_their_pointers) {
    const auto rds = doc("rds.yaml", fixture("xds/rds.yaml"));
    const auto cds = doc("cds.yaml", fixture("xds/cds.yaml"));
    const auto lds = doc("lds.yaml", fixture("xds/lds.yaml"));
    const auto v2 = doc("v2.yaml", fixture("xds/rds-v2-chart.yaml"));
    Merger m(options());
    // No TrafficSplit: everything passes through.
    auto out = m.run(inputs({rds, cds, lds, v2}, {}));
    BOOST_REQUIRE(out->documents.size() == 4u);
    BOOST_TEST(out->documents[0].get() == cds.get());
    BOOST_TEST(out->documents[1].get() == lds.get());
    BOOST_TEST(out->documents[2].get() == rds.get());
    BOOST_TEST(out->documents[3].get() == v2.get());
    BOOST_TEST(m.parse_count() == 0u);
    // A split that asks for the weights already there changes nothing either.
    out = m.run(inputs({rds, cds, lds},
                       {split("podinfo", {{"podinfo-primary", "100"}, {"podinfo-canary", "0"}})}));
    BOOST_TEST(out->documents[0].get() == cds.get());
    BOOST_TEST(out->documents[1].get() == lds.get());
    BOOST_TEST(out->documents[2].get() == rds.get());
    // A real step replaces only the RDS.
    const auto ts = split_fixture("trafficsplit/flagger-v1alpha1.yaml");
    out = m.run(inputs({rds, cds, lds}, {ts}));
    BOOST_TEST(out->documents[0].get() == cds.get());
    BOOST_TEST(out->documents[1].get() == lds.get());
    BOOST_TEST(out->documents[2].get() != rds.get());
    BOOST_REQUIRE(out->objects.size() == 1u);
    BOOST_TEST(out->objects[0].get() == ts.get());
}

BOOST_AUTO_TEST_CASE(output_is_deterministic) {
    const std::string rds = fixture("xds/rds.yaml");
    const auto ts = split_fixture("trafficsplit/quantity-milli-v1alpha1.yaml");
    Merger a(options());
    Merger b(options());
    const auto in = inputs({doc("rds.yaml", rds), doc("cds.yaml", fixture("xds/cds.yaml"))}, {ts});
    const auto x = a.run(in);
    const auto y = a.run(in);
    const auto z = b.run(in);
    BOOST_REQUIRE(x->documents.size() == 2u);
    for (std::size_t i = 0; i < 2; ++i) {
        BOOST_TEST(x->documents[i]->content == y->documents[i]->content);
        BOOST_TEST(x->documents[i]->content == z->documents[i]->content);
    }
    // The same split given in another input order gives the same bytes.
    const auto swapped = b.run(
        {Input{"splits", snapshot({}, {ts})},
         Input{"xds", snapshot({doc("cds.yaml", fixture("xds/cds.yaml")), doc("rds.yaml", rds)})}});
    BOOST_TEST(swapped->documents[1]->content == x->documents[1]->content);
}

BOOST_AUTO_TEST_CASE(canary_steps_parse_once) {
    const auto rds = doc("rds.yaml", fixture("xds/rds.yaml"));
    Merger m(options());
    for (int step = 0; step <= 50; step += 5) {
        auto out =
            m.run(inputs({rds}, {split("podinfo", {{"podinfo-primary", std::to_string(100 - step)},
                                                   {"podinfo-canary", std::to_string(step)}})}));
        BOOST_TEST((weights(out->documents[0]->content, "podinfo") ==
                    WeightMap{{"podinfo-primary", std::to_string(100 - step)},
                              {"podinfo-canary", std::to_string(step)}}));
    }
    BOOST_TEST(m.parse_count() == 1u);
    // A source that re-creates the same content is found by content.
    m.run(inputs({doc("rds.yaml", fixture("xds/rds.yaml"))},
                 {split("podinfo", {{"podinfo-primary", "1"}, {"podinfo-canary", "1"}})}));
    BOOST_TEST(m.parse_count() == 1u);
    BOOST_TEST(m.cache_size() == 1u);
    // New content is parsed and the old entry dropped.
    std::string changed = fixture("xds/rds.yaml") + "# changed\n";
    m.run(inputs({doc("rds.yaml", changed)},
                 {split("podinfo", {{"podinfo-primary", "1"}, {"podinfo-canary", "1"}})}));
    BOOST_TEST(m.parse_count() == 2u);
    BOOST_TEST(m.cache_size() == 1u);
    // The split disappears for a while and comes back: no re-parse.
    const auto again = doc("rds.yaml", changed);
    m.run(inputs({again}, {}));
    m.run(inputs({again}, {split("podinfo", {{"podinfo-primary", "1"}, {"podinfo-canary", "2"}})}));
    BOOST_TEST(m.parse_count() == 2u);
}

BOOST_AUTO_TEST_CASE(unchanged_splits_are_parsed_once) {
    // Three virtual hosts, each with its own TrafficSplit.
    std::string text = kSimple;
    const std::string vhost = text.substr(text.find("  - name: web"));
    text = text.substr(0, text.find("  - name: web"));
    for (const std::string n : {"web", "api", "img"}) {
        std::string v = vhost;
        for (auto at = v.find("web"); at != std::string::npos; at = v.find("web", at + 3)) {
            v.replace(at, 3, n);
        }
        text += v;
    }
    const auto rds = doc("rds.yaml", text);
    std::vector<ObjectPtr> splits;
    for (const std::string n : {"api", "img", "web"}) {
        splits.push_back(split(n, {{n + "-a", "100"}, {n + "-b", "0"}}));
    }
    Merger m(options());
    m.run(inputs({rds}, splits));
    BOOST_TEST(m.split_parse_count() == 3u);
    // One canary step: only the changed object is parsed; the others keep their weights.
    splits[1] = split("img", {{"img-a", "70"}, {"img-b", "30"}});
    auto out = m.run(inputs({rds}, splits));
    BOOST_TEST(m.split_parse_count() == 4u);
    BOOST_TEST((weights(out->documents[0]->content, "img") ==
                WeightMap{{"img-a", "70"}, {"img-b", "30"}}));
    BOOST_TEST((weights(out->documents[0]->content, "api") ==
                WeightMap{{"api-a", "100"}, {"api-b", "0"}}));
    // A removed split is forgotten: passing an equal new object parses it again.
    m.run(inputs({rds}, {splits[0], splits[1]}));
    m.run(inputs({rds}, {splits[0], splits[1], split("web", {{"web-a", "1"}, {"web-b", "1"}})}));
    BOOST_TEST(m.split_parse_count() == 5u);
}

BOOST_AUTO_TEST_CASE(a_virtual_host_matching_twice_by_domain_is_updated_once) {
    // Both "web" and "web.shop" name the same virtual host: one match, not a conflict.
    std::string text = kSimple;
    text.replace(text.find("\"web.shop.svc.cluster.local\""), 28,
                 "\"web\", \"web.shop\", \"web.shop.svc.cluster.local\"");
    const auto s = split("web", {{"web-a", "25"}, {"web-b", "75"}}, "v1alpha2", "web", "shop");
    BOOST_TEST((weights(merged(text, {s}, options(Match::Domain)), "web") ==
                WeightMap{{"web-a", "25"}, {"web-b", "75"}}));
}

// ---- the plugin as the engine loads it -----------------------------------

BOOST_AUTO_TEST_CASE(plugin_descriptor_and_factory) {
    const std::string path = env("CROSSOVER_PLUGIN_DIR") + "/transform_smi_merge.so";
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    BOOST_REQUIRE_MESSAGE(handle != nullptr, dlerror());
    auto entry =
        reinterpret_cast<crossover_plugin_entry_fn>(dlsym(handle, CROSSOVER_PLUGIN_ENTRY_SYMBOL));
    BOOST_REQUIRE(entry != nullptr);
    const PluginDescriptor* d = entry();
    BOOST_TEST(d->abi_version == CROSSOVER_ABI_VERSION);
    BOOST_TEST(std::string(d->name) == "smi_merge");
    BOOST_TEST(std::string(kind_name(d->kind)) == "transform");
    BOOST_REQUIRE(d->option_count == 5u);
    std::set<std::string> names;
    for (std::size_t i = 0; i < d->option_count; ++i) {
        names.insert(d->options[i].name);
        if (d->options[i].default_value != nullptr) {
            BOOST_CHECK_NO_THROW(YAML::Load(d->options[i].default_value));
        }
    }
    BOOST_TEST((names == std::set<std::string>{"match", "cluster_name", "dot_to_underscore",
                                               "promote", "unmatched"}));
    BOOST_TEST(YAML::Load(d->options[1].default_value).as<std::string>() == "{{service}}");
    // The README documents every option, with its default.
    const std::string readme =
        read_text(env("CROSSOVER_SOURCE_DIR") + "/plugins/transform_smi_merge/README.md");
    for (std::size_t i = 0; i < d->option_count; ++i) {
        const std::string def = d->options[i].default_value;
        BOOST_TEST(readme.find("| `" + std::string(d->options[i].name) + "` | " +
                               option_type_name(d->options[i].type) + " | `" + def + "` |") !=
                       std::string::npos,
                   d->options[i].name);
    }

    crossover::test::QuietLogger logger;
    ComponentConfig config;
    config.name = "weighted";
    config.path = "transforms.weighted";
    config.logger = &logger;
    std::string error;
    config.options = YAML::Load("{match: sideways}");
    BOOST_TEST(d->create(config, error) == nullptr);
    BOOST_TEST(error ==
               "transforms.weighted: option 'match': expected 'name' or 'domain', got 'sideways'");
    config.options = YAML::Load("{cluster_name: '{{svc}}'}");
    BOOST_TEST(d->create(config, error) == nullptr);
    BOOST_TEST(error ==
               "transforms.weighted: option 'cluster_name': unknown placeholder '{{svc}}' "
               "(known: service, backend, namespace, root, name)");
    config.options = YAML::Load("{unmatched: ignore}");
    BOOST_TEST(d->create(config, error) == nullptr);
    BOOST_TEST(error ==
               "transforms.weighted: option 'unmatched': expected 'auto', 'error' or 'skip', got "
               "'ignore'");

    config.options = YAML::Load(
        "{match: name, cluster_name: '{{service}}', dot_to_underscore: false, promote: false}");
    Component* c = d->create(config, error);
    BOOST_REQUIRE(c != nullptr);
    auto* t = dynamic_cast<Transform*>(c);
    BOOST_REQUIRE(t != nullptr);
    SnapshotPtr out;
    const Status st = t->transform(inputs({doc("rds.yaml", fixture("xds/rds.yaml"))},
                                          {split_fixture("trafficsplit/v1alpha4.yaml")}),
                                   out);
    BOOST_TEST(st.is_ok(), st.message());
    BOOST_REQUIRE(out);
    BOOST_TEST((weights(out->documents[0]->content, "podinfo") ==
                WeightMap{{"podinfo-primary", "0"}, {"podinfo-canary", "100"}}));
    d->destroy(c);
    dlclose(handle);
}

BOOST_AUTO_TEST_CASE(large_route_configuration_is_parsed_once) {
    // 1,000 virtual hosts; the TrafficSplit targets one in the middle.
    std::string text =
        "version_info: \"1\"\nresources:\n- \"@type\": "
        "type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n  name: big\n  "
        "virtual_hosts:\n";
    for (int i = 0; i < 1000; ++i) {
        const std::string n = "svc" + std::to_string(i);
        text +=
            "  - name: " + n + "\n    domains: [\"" + n +
            "\"]\n    routes:\n    - match: {prefix: "
            "\"/\"}\n      route:\n        weighted_clusters:\n          clusters:\n          - "
            "name: " +
            n + "-primary\n            weight: 100\n          - name: " + n +
            "-canary\n            weight: 0\n";
    }
    const auto rds = doc("rds.yaml", text);
    Merger m(options());
    const auto start = std::chrono::steady_clock::now();
    for (int step = 0; step <= 100; step += 5) {
        const std::string p = std::to_string(100 - step);
        const std::string c = std::to_string(step);
        auto out =
            m.run(inputs({rds}, {split("svc500", {{"svc500-primary", p}, {"svc500-canary", c}})}));
        const std::string& content = out->documents[0]->content;
        // Only the two weights change ("100" and "0" become p and c).
        BOOST_TEST(content.size() == text.size() - 4 + p.size() + c.size());
        BOOST_TEST(
            (weights(content, "svc500") == WeightMap{{"svc500-primary", p}, {"svc500-canary", c}}));
        BOOST_TEST((weights(content, "svc499") ==
                    WeightMap{{"svc499-primary", "100"}, {"svc499-canary", "0"}}));
    }
    const auto elapsed = std::chrono::steady_clock::now() - start;
    BOOST_TEST(m.parse_count() == 1u);
    BOOST_TEST_MESSAGE("21 steps over a 1,000-host RDS (with 42 verification parses): "
                       << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()
                       << " ms");
}

BOOST_AUTO_TEST_CASE(anchors_shared_by_routes) {
    const std::string text = R"(resources:
- "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration
  name: r
  virtual_hosts:
  - name: web
    routes:
    - match: {prefix: "/a"}
      route:
        weighted_clusters:
          clusters: &shared
          - {name: web-a, weight: 1}
          - {name: web-b, weight: 1}
    - match: {prefix: "/b"}
      route:
        weighted_clusters:
          clusters: *shared
  - name: api
    routes:
    - match: {prefix: "/"}
      route:
        weighted_clusters:
          clusters: *shared
)";
    // One TrafficSplit over both routes of "web": the shared text is edited once.
    const std::string out = merged(text, {split("web", {{"web-a", "3"}, {"web-b", "7"}})});
    std::string expected = text;
    expected.replace(expected.find("web-a, weight: 1") + 15, 1, "3");
    expected.replace(expected.find("web-b, weight: 1") + 15, 1, "7");
    BOOST_TEST(out == expected);
    BOOST_TEST((weights(out, "api") == WeightMap{{"web-a", "3"}, {"web-b", "7"}}));
    // Two TrafficSplits wanting different weights in the same text are refused.
    BOOST_TEST(error_of([&] {
                   merged(text, {split("web", {{"web-a", "3"}, {"web-b", "7"}}),
                                 split("api", {{"web-a", "5"}, {"web-b", "5"}})});
               }) ==
               "document rds.yaml (ConfigMap test/envoy-xds): line 11: routes share this "
               "text through a YAML anchor or alias but need different weights");
}

BOOST_AUTO_TEST_CASE(changes_are_reported) {
    const auto rds = doc("rds.yaml", fixture("xds/rds.yaml"));
    Merger m(options());
    m.run(inputs({rds}, {split_fixture("trafficsplit/flagger-v1alpha1.yaml")}));
    BOOST_REQUIRE(m.changes().size() == 1u);
    BOOST_TEST(m.changes()[0] ==
               "TrafficSplit test/podinfo: rds.yaml: podinfo-canary=5 podinfo-primary=95 on 1 "
               "route (local_route/podinfo routes[0] (line 11))");
    // Weights already in place: nothing to report.
    m.run(inputs({rds}, {split("podinfo", {{"podinfo-primary", "100"}, {"podinfo-canary", "0"}})}));
    BOOST_TEST(m.changes().empty());
}

BOOST_AUTO_TEST_CASE(tags_anchors_and_unsupported_layouts) {
    std::string text = kSimple;
    text.replace(text.find("weight: 100"), 11, "weight: !!int 100");
    text.replace(text.find("weight: 0}"), 9, "weight: &w '0'");
    const std::string out = merged(text, {split("web", {{"web-a", "30"}, {"web-b", "70"}})});
    std::string expected = text;
    expected.replace(expected.find("!!int 100") + 6, 3, "30");
    expected.replace(expected.find("&w '0'") + 3, 3, "70");
    BOOST_TEST(out == expected);
    BOOST_TEST((weights(out, "web") == WeightMap{{"web-a", "30"}, {"web-b", "70"}}));
    // A block scalar is not rewritten: refused with the route named.
    std::string block = kSimple;
    block.replace(block.find("weight: 100    # keep this comment"), 34,
                  "weight: |-\n              100");
    BOOST_TEST(error_of([&] {
                   merged(block, {split("web", {{"web-a", "30"}, {"web-b", "70"}})});
               }) ==
               "TrafficSplit test/web: document rds.yaml (ConfigMap test/envoy-xds): "
               "RouteConfiguration r: virtual host web: routes[0] (line 10): cluster 'web-a': "
               "cannot rewrite its weight in place (unsupported YAML layout)");
}

// ---- what is left out, and what is logged ----------------------------------

namespace {

// A TrafficSplit object as a source publishes it: a resourceVersion per version.
ObjectPtr versioned(ObjectPtr split, const std::string& resource_version) {
    auto copy = std::make_shared<Object>(*split);
    copy->ref.resource_version = resource_version;
    return copy;
}

std::string notes_text(const Merger& m) {
    std::string out;
    for (const auto& n : m.notes()) {
        out += n.text + "\n";
    }
    return out;
}

}  // namespace

// With unmatched: skip (splits selected by namespace: another team's app has no virtual host
// here), such a split is left out and reported once per resourceVersion; the others apply.
BOOST_AUTO_TEST_CASE(unmatched_split_is_skipped_once_per_version_when_asked) {
    const auto rds = doc("rds.yaml", fixture("xds/rds.yaml"));
    Options o = options();
    o.unmatched = Unmatched::Skip;
    Merger m(o);
    const auto podinfo = split("podinfo", {{"podinfo-primary", "90"}, {"podinfo-canary", "10"}});
    const auto other = versioned(split("other-app", {{"a", "1"}}), "7");
    auto out = m.run(inputs({rds}, {podinfo, other}));
    BOOST_TEST((weights(out->find_document("rds.yaml")->content, "podinfo") ==
                WeightMap{{"podinfo-canary", "10"}, {"podinfo-primary", "90"}}));
    BOOST_TEST(m.skipped() == 1u);
    BOOST_REQUIRE(m.notes().size() == 1u);
    BOOST_TEST((m.notes()[0].level == LogLevel::Warn));
    BOOST_TEST(m.notes()[0].text ==
               "TrafficSplit test/other-app: matches no virtual host: no virtual host named "
               "'other-app' in any RouteConfiguration (searched rds.yaml); left out (unmatched: "
               "skip)");
    // The same version again: left out, not reported again.
    m.run(inputs({rds}, {podinfo, other}));
    BOOST_TEST(m.skipped() == 1u);
    BOOST_TEST(m.notes().empty(), notes_text(m));
    // A new version is reported again.
    m.run(inputs({rds}, {podinfo, versioned(split("other-app", {{"a", "2"}}), "8")}));
    BOOST_TEST(m.notes().size() == 1u);
    // Without the option, the split the user named is refused as before.
    BOOST_TEST(error_of([&] {
                   Merger(options()).run(inputs({rds}, {podinfo, other}));
               }).find("TrafficSplit test/other-app: matches no virtual host") == 0u);
}

// unmatched: auto (the default) skips a split its source selected only by namespace or label
// and refuses one the user named: the source says which through Object::named.
BOOST_AUTO_TEST_CASE(unmatched_auto_skips_splits_selected_by_namespace_and_refuses_named_ones) {
    const auto rds = doc("rds.yaml", fixture("xds/rds.yaml"));
    const auto podinfo = split("podinfo", {{"podinfo-primary", "80"}, {"podinfo-canary", "20"}});
    auto by_namespace = std::make_shared<Object>(*split("other-app", {{"a", "1"}}));
    by_namespace->named = false;
    BOOST_TEST((options().unmatched == Unmatched::Auto));
    Merger m(options());
    auto out = m.run(inputs({rds}, {podinfo, by_namespace}));
    BOOST_TEST((weights(out->find_document("rds.yaml")->content, "podinfo") ==
                WeightMap{{"podinfo-canary", "20"}, {"podinfo-primary", "80"}}));
    BOOST_TEST(m.skipped() == 1u);
    BOOST_TEST(notes_text(m).find("TrafficSplit test/other-app: matches no virtual host") !=
               std::string::npos);
    BOOST_TEST(notes_text(m).find("left out (selected by namespace or label, not by name; "
                                  "unmatched: auto)") != std::string::npos);
    const auto named = split("other-app", {{"a", "1"}});
    BOOST_TEST(error_of([&] {
                   Merger(options()).run(inputs({rds}, {podinfo, named}));
               }).find("TrafficSplit test/other-app: matches no virtual host") == 0u);
    // unmatched: error refuses even a split selected by namespace.
    Options strict = options();
    strict.unmatched = Unmatched::Error;
    BOOST_TEST(error_of([&] {
                   Merger(strict).run(inputs({rds}, {podinfo, by_namespace}));
               }).find("TrafficSplit test/other-app: matches no virtual host") == 0u);
}

// spec.matches (v1alpha3/v1alpha4) limits a split to the requests an HTTPRouteGroup matches:
// applying it to the whole virtual host would widen it, so that split alone is refused.
BOOST_AUTO_TEST_CASE(split_with_matches_is_refused_on_its_own) {
    const std::string two_hosts = std::string(kSimple) + R"(  - name: api
    domains: ["api"]
    routes:
    - match: {prefix: "/"}
      route:
        weighted_clusters:
          clusters:
          - {name: api-a, weight: 100}
          - {name: api-b, weight: 0}
)";
    auto ab = split_from_text(
        "apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\n"
        "metadata: {name: web-ab, namespace: shop, resourceVersion: '3'}\n"
        "spec:\n  service: web\n  matches: [{kind: HTTPRouteGroup, name: ab-test}]\n"
        "  backends: [{service: web-a, weight: 50}, {service: web-b, weight: 50}]\n");
    Merger m(options());
    auto out = m.run(inputs({doc("rds.yaml", two_hosts)},
                            {ab, split("api", {{"api-a", "70"}, {"api-b", "30"}})}));
    const std::string& text = out->find_document("rds.yaml")->content;
    BOOST_TEST((weights(text, "web") == WeightMap{{"web-a", "100"}, {"web-b", "0"}}));
    BOOST_TEST((weights(text, "api") == WeightMap{{"api-a", "70"}, {"api-b", "30"}}));
    BOOST_TEST(m.skipped() == 1u);
    BOOST_REQUIRE(m.notes().size() == 1u);
    BOOST_TEST((m.notes()[0].level == LogLevel::Error));
    BOOST_TEST(m.notes()[0].text.find("TrafficSplit shop/web-ab: spec.matches is not supported") ==
               0u);
    m.run(inputs({doc("rds.yaml", two_hosts)}, {ab}));
    BOOST_TEST(m.notes().empty());
    // An empty list of matches is no restriction.
    auto all = split_from_text(
        "apiVersion: split.smi-spec.io/v1alpha3\nkind: TrafficSplit\n"
        "metadata: {name: web, namespace: shop}\nspec:\n  service: web\n  matches: []\n"
        "  backends: [{service: web-a, weight: 60}, {service: web-b, weight: 40}]\n");
    BOOST_TEST(
        (weights(merged(two_hosts, {all}), "web") == WeightMap{{"web-a", "60"}, {"web-b", "40"}}));
}

// A canary step over 1,000 routes is one line; a recompute that changes nothing is none.
BOOST_AUTO_TEST_CASE(one_line_per_split_and_document_and_none_when_nothing_changes) {
    std::string rds =
        "resources:\n- \"@type\": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n"
        "  name: r\n  virtual_hosts:\n  - name: web\n    domains: [web]\n    routes:\n";
    for (int i = 0; i < 1000; ++i) {
        rds += "    - match: {prefix: \"/p" + std::to_string(i) +
               "\"}\n      route: {weighted_clusters: {clusters: [{name: web-a, weight: 100}, "
               "{name: web-b, weight: 0}]}}\n";
    }
    const auto d = doc("rds.yaml", rds);
    Merger m(options());
    m.run(inputs({d}, {split("web", {{"web-a", "95"}, {"web-b", "5"}})}));
    BOOST_REQUIRE(m.changes().size() == 1u);
    BOOST_TEST(m.changes()[0] ==
               "TrafficSplit test/web: rds.yaml: web-a=95 web-b=5 on 1000 routes (r/web routes[0] "
               "(line 8), r/web routes[1] (line 10), r/web routes[2] (line 12) and 997 more)");
    // The same weights again (another object changed; the split was re-created): nothing.
    m.run(inputs({d}, {split("web", {{"web-a", "95"}, {"web-b", "5"}})}));
    BOOST_TEST(m.changes().empty());
    m.run(inputs({d}, {split("web", {{"web-a", "90"}, {"web-b", "10"}})}));
    BOOST_TEST(m.changes().size() == 1u);
    // Back to the document's own weights, then the same step again: logged again.
    m.run(inputs({d}, {}));
    m.run(inputs({d}, {split("web", {{"web-a", "90"}, {"web-b", "10"}})}));
    BOOST_TEST(m.changes().size() == 1u);
}

// The path match each route is indexed with: both spellings, the first entry of
// a kind, safe_regex over path_separated_prefix over path over prefix.
BOOST_AUTO_TEST_CASE(route_matches_are_indexed) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"{prefix: /a}", "prefix /a"},
        {"{path: /x}", "path /x"},
        {"{path_separated_prefix: /b}", "path_separated_prefix /b"},
        {"{pathSeparatedPrefix: /c}", "path_separated_prefix /c"},
        {"{safe_regex: {regex: ^/r.*}}", "safe_regex ^/r.*"},
        {"{safeRegex: {regex: ^/s}}", "safe_regex ^/s"},
        {"{prefix: /a, path: /x}", "path /x"},
        {"{path: /x, prefix: /a}", "path /x"},
        {"{path_separated_prefix: /b, pathSeparatedPrefix: /c}", "path_separated_prefix /c"},
        {"{safe_regex: {regex: ^/r}, prefix: /a}", "safe_regex ^/r"},
        {"{safe_regex: {regex: [1]}, prefix: /a}", "prefix /a"},
        {"{path: [/x], prefix: /a}", "prefix /a"},
        {"{headers: [{name: x}]}", ""},
        {"[prefix]", ""},
    };
    std::string rds =
        "resources:\n- \"@type\": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n"
        "  name: r\n  virtual_hosts:\n  - name: web\n    domains: [web]\n    routes:\n";
    for (const auto& c : cases) {
        rds += "    - match: " + c.first + "\n      route: {cluster: web}\n";
    }
    const auto index = smi_merge::build_index(rds);
    BOOST_REQUIRE(index->parse_error.empty());
    BOOST_REQUIRE(index->route_configs.size() == 1u);
    BOOST_REQUIRE(index->route_configs[0].virtual_hosts.size() == 1u);
    const auto& routes = index->route_configs[0].virtual_hosts[0].routes;
    BOOST_REQUIRE(routes.size() == cases.size());
    for (std::size_t i = 0; i < cases.size(); ++i) {
        BOOST_TEST(routes[i].match == cases[i].second, cases[i].first);
    }
}

// ---- canary steps re-apply only what changed --------------------------------

namespace {

// Routes for the step-by-step comparisons: a virtual host in two RouteConfigurations, one in
// JSON, one with a plain cluster (promoted when asked), two sharing weights through an alias
// (refused when their splits want different weights) and one no split names.
const char* kSteps = R"(version_info: "1"
resources:
- "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration
  name: internal
  virtual_hosts:
  - name: web
    domains: ["web", "web.test"]
    routes:
    - match: {prefix: "/api"}
      route: {weighted_clusters: {clusters: [{name: web-a, weight: 100}, {name: web-b, weight: 0}]}}
    - match: {prefix: "/"}
      route:
        weighted_clusters:
          clusters:
          - name: web-a
            weight: 100
          - name: web-b
  - name: img
    domains: ["img"]
    routes:
    - match: {prefix: "/"}
      route: {cluster: img}
  - name: s1
    domains: ["s1"]
    routes:
    - match: {prefix: "/"}
      route:
        weighted_clusters:
          clusters: &shared
          - {name: s-a, weight: 1}
          - {name: s-b, weight: 1}
  - name: s2
    domains: ["s2"]
    routes:
    - match: {prefix: "/"}
      route:
        weighted_clusters:
          clusters: *shared
  - name: quiet
    domains: ["quiet"]
    routes:
    - match: {prefix: "/"}
      route: {weighted_clusters: {clusters: [{name: q-a, weight: 5}, {name: q-b, weight: 5}]}}
- "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration
  name: edge
  virtual_hosts:
  - name: web
    domains: ["*"]
    routes:
    - match: {prefix: "/"}
      route: {weighted_clusters: {clusters: [{name: web-b, weight: 0}, {name: web-a, weight: 100}]}}
)";

const char* kStepsJson =
    R"({"resources": [{"@type": "type.googleapis.com/envoy.api.v2.RouteConfiguration", "name": "j", "virtual_hosts": [{"name": "api", "domains": ["api"], "routes": [{"route": {"weighted_clusters": {"clusters": [{"name": "api-a", "weight": 50}, {"name": "api-b", "weight": 50}]}}}]}]}]})";

// What a run gave: the documents' bytes, or the error; the lines it would log.
std::string outcome(Merger& m, const std::vector<Input>& in) {
    std::string out;
    try {
        const auto snap = m.run(in);
        for (const auto& d : snap->documents) {
            out += "== " + d->name + "\n" + d->content + "\n";
        }
        out += "objects " + std::to_string(snap->objects.size()) + "\n";
    } catch (const std::exception& e) {
        return std::string("error: ") + e.what() + "\n";
    }
    for (const auto& c : m.changes()) {
        out += "change: " + c + "\n";
    }
    for (const auto& n : m.notes()) {
        out += "note " + std::to_string(static_cast<int>(n.level)) + ": " + n.text + "\n";
    }
    out += "skipped " + std::to_string(m.skipped()) + "\n";
    return out;
}

// Steps one merger through `steps` (lists of splits) with the same documents, so that it
// re-applies what changed, and a second one with copies of the documents, which makes it
// merge everything each time; both must say the same after every step.
struct StepRun {
    std::size_t reapplied = 0;
};

StepRun compare_steps(const Options& o, const std::vector<std::vector<ObjectPtr>>& steps) {
    const auto rds = doc("rds.yaml", kSteps);
    const auto json = doc("api.json", kStepsJson);
    Merger step(o);
    Merger whole(o);
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const std::string got = outcome(step, inputs({rds, json}, steps[i]));
        const std::size_t full_before = whole.full_merge_count();
        const std::string want = outcome(
            whole, inputs({doc("rds.yaml", kSteps), doc("api.json", kStepsJson)}, steps[i]));
        BOOST_TEST(whole.reapply_count() == 0u);
        BOOST_TEST(whole.full_merge_count() == full_before + 1);
        BOOST_TEST(got == want, "step " << i);
    }
    return StepRun{step.reapply_count()};
}

ObjectPtr unnamed(ObjectPtr split) {
    auto copy = std::make_shared<Object>(*split);
    copy->named = false;
    return copy;
}

}  // namespace

BOOST_AUTO_TEST_CASE(canary_steps_apply_only_the_changed_split) {
    std::vector<ObjectPtr> splits = {split("api", {{"api-a", "50"}, {"api-b", "50"}}),
                                     split("quiet", {{"q-a", "5"}, {"q-b", "5"}}),
                                     split("web", {{"web-a", "100"}, {"web-b", "0"}})};
    const auto rds = doc("rds.yaml", kSteps);
    const auto json = doc("api.json", kStepsJson);
    Merger m(options());
    m.run(inputs({rds, json}, splits));
    BOOST_TEST(m.applied_count() == 3u);
    BOOST_TEST(m.full_merge_count() == 1u);
    // One step: one split parsed, one applied, no full merge.
    splits[2] = split("web", {{"web-a", "90"}, {"web-b", "10"}});
    auto out = m.run(inputs({rds, json}, splits));
    BOOST_TEST(m.applied_count() == 4u);
    BOOST_TEST(m.reapply_count() == 1u);
    BOOST_TEST(m.full_merge_count() == 1u);
    BOOST_TEST(m.split_parse_count() == 4u);
    BOOST_TEST((weights(out->find_document("rds.yaml")->content, "web") ==
                WeightMap{{"web-a", "90"}, {"web-b", "10"}}));
    BOOST_REQUIRE(m.changes().size() == 1u);
    BOOST_TEST(m.changes()[0].find("TrafficSplit test/web: rds.yaml: web-a=90 web-b=10 on 3 "
                                   "routes") == 0u);
    // A step that leaves the JSON document alone passes the previous one on.
    BOOST_REQUIRE(out->documents[0]->name == "api.json");
    const DocumentPtr json_out = out->documents[0];
    splits[2] = split("web", {{"web-a", "80"}, {"web-b", "20"}});
    out = m.run(inputs({rds, json}, splits));
    BOOST_TEST(out->documents[0].get() == json_out.get());
    BOOST_TEST(m.applied_count() == 5u);
    // A removed split changes the set: everything is merged again.
    splits.erase(splits.begin() + 1);
    m.run(inputs({rds, json}, splits));
    BOOST_TEST(m.full_merge_count() == 2u);
    BOOST_TEST(m.applied_count() == 7u);
    // So are new routes.
    m.run(inputs({doc("rds.yaml", kSteps), json}, splits));
    BOOST_TEST(m.full_merge_count() == 3u);
}

// The first step of a rollout: every split still gives the documents' own weights, so the
// output is the input; one split moving makes its document differ from the input (a whole
// merge then reports the lines of every split on it), and moving back makes it the input
// again. Both are steps, and say what a whole merge says.
BOOST_AUTO_TEST_CASE(a_step_that_makes_a_document_differ_or_not_is_still_a_step) {
    const auto rds = doc("rds.yaml", kSteps);
    const auto json = doc("api.json", kStepsJson);
    std::vector<ObjectPtr> splits = {split("api", {{"api-a", "50"}, {"api-b", "50"}}),
                                     split("quiet", {{"q-a", "5"}, {"q-b", "5"}})};
    Merger step(options());
    Merger whole(options());
    const auto copies = [&] {
        return inputs({doc("rds.yaml", kSteps), doc("api.json", kStepsJson)}, splits);
    };
    const auto first = step.run(inputs({rds, json}, splits));
    for (const auto& input : {rds, json}) {
        const Document* out = first->find_document(input->name);
        BOOST_REQUIRE(out != nullptr);
        BOOST_REQUIRE_MESSAGE(out->content == input->content, input->name << ":\n" << out->content);
    }
    (void)whole.run(copies());

    splits[1] = split("quiet", {{"q-a", "9"}, {"q-b", "1"}});
    std::string got = outcome(step, inputs({rds, json}, splits));
    std::string want = outcome(whole, copies());
    BOOST_TEST(got == want);
    BOOST_TEST(got.find("change: TrafficSplit test/quiet: rds.yaml: q-a=9 q-b=1") !=
               std::string::npos);
    BOOST_TEST(step.reapply_count() == 1u);
    BOOST_TEST(step.full_merge_count() == 1u);

    splits[1] = split("quiet", {{"q-a", "5"}, {"q-b", "5"}});
    got = outcome(step, inputs({rds, json}, splits));
    want = outcome(whole, copies());
    BOOST_TEST(got == want);
    BOOST_TEST(got.find("== rds.yaml\n" + rds->content) != std::string::npos);
    BOOST_TEST(step.reapply_count() == 2u);
    BOOST_TEST(step.full_merge_count() == 1u);
}

BOOST_AUTO_TEST_CASE(canary_steps_give_the_bytes_of_a_full_merge) {
    const auto web = [](const std::string& a, const std::string& b) {
        return split("web", {{"web-a", a}, {"web-b", b}});
    };
    const auto api = [](const std::string& a, const std::string& b) {
        return split("api", {{"api-a", a}, {"api-b", b}});
    };
    const auto s1 = [](const std::string& a, const std::string& b) {
        return split("s1", {{"s-a", a}, {"s-b", b}});
    };
    const auto s2 = [](const std::string& a, const std::string& b) {
        return split("s2", {{"s-a", a}, {"s-b", b}});
    };
    const auto img = [](const std::string& a, const std::string& b) {
        return split("img", {{"img-a", a}, {"img-b", b}});
    };
    const auto ghost = [](const std::string& rv) {
        return versioned(unnamed(split("ghost", {{"g-a", "1"}})), rv);
    };
    const auto matches = split_from_text(
        "apiVersion: split.smi-spec.io/v1alpha4\nkind: TrafficSplit\n"
        "metadata: {name: quiet, namespace: test, resourceVersion: '3'}\n"
        "spec:\n  service: quiet\n  matches: [{kind: HTTPRouteGroup, name: ab}]\n"
        "  backends: [{service: q-a, weight: 1}, {service: q-b, weight: 9}]\n");
    std::vector<std::vector<ObjectPtr>> steps = {
        {api("50", "50"), s1("1", "1"), s2("1", "1"), web("100", "0")},  // the documents' own
        {api("50", "50"), s1("1", "1"), s2("1", "1"), web("90", "10")},
        {api("40", "60"), s1("1", "1"), s2("1", "1"), web("90", "10")},
        {api("40", "60"), s1("1", "1"), s2("1", "1"), web("90", "10")},  // re-created, same
        {api("50", "50"), s1("1", "1"), s2("1", "1"), web("90", "10")},  // back to the document
        {api("50", "50"), s1("1", "1"), s2("1", "1"), web("100", "0")},  // all back: unchanged
        {api("50", "50"), s1("2", "3"), s2("1", "1"), web("100", "0")},  // shared text: refused
        {api("50", "50"), s1("2", "3"), s2("2", "3"), web("100", "0")},  // agreed again
        {api("50", "50"), s1("2", "3"), s2("2", "3"), web("0", "0")},    // all zero: refused
        {api("50", "50"), s1("2", "3"), s2("2", "3"), web("70", "30")},
        {api("50", "50"), s1("2", "3"), s2("2", "3")},                   // web removed
        {api("50", "50"), s1("2", "3"), s2("2", "3"), web("60", "40")},  // and back
        {api("50", "50"), ghost("1"), s1("2", "3"), s2("2", "3"), web("60", "40")},
        {api("50", "50"), ghost("2"), s1("2", "3"), s2("2", "3"), web("60", "40")},
        {api("50", "50"), ghost("2"), s1("2", "3"), s2("2", "3"), web("55", "45")},
        {api("50", "50"), ghost("3"), s1("2", "3"), s2("2", "3"), web("55", "45")},
        {api("50", "50"), ghost("3"), matches, s1("2", "3"), s2("2", "3"), web("55", "45")},
        {api("50", "50"), ghost("3"), matches, s1("2", "3"), s2("2", "3"), web("50", "50")},
        {api("50", "50"), img("90", "10"), s1("2", "3"), s2("2", "3"), web("50", "50")},
        {api("50", "50"), img("80", "20"), s1("2", "3"), s2("2", "3"), web("50", "50")},
        {api("50", "50"), img("80", "20"), s1("2", "3"), s2("2", "3"), web("40", "60")},
    };
    // The same splits keep their objects between steps when they did not change, as a source
    // passes them on.
    for (std::size_t i = 1; i < steps.size(); ++i) {
        for (auto& now : steps[i]) {
            for (const auto& before : steps[i - 1]) {
                if (before->ref.name == now->ref.name &&
                    YAML::Dump(before->body) == YAML::Dump(now->body) &&
                    before->ref.resource_version == now->ref.resource_version && i != 3) {
                    now = before;
                }
            }
        }
    }
    // Without promotion the plain route refuses img; with it, img is promoted and stepped.
    BOOST_TEST(compare_steps(options(), steps).reapplied > 5u);
    BOOST_TEST(compare_steps(options(Match::Name, "{{service}}", false, true), steps).reapplied >
               5u);
    BOOST_TEST(compare_steps(options(Match::Domain, "{{service}}", false, true), steps).reapplied >
               5u);
    Options skip = options();
    skip.unmatched = Unmatched::Skip;
    BOOST_TEST(compare_steps(skip, steps).reapplied > 5u);
}

namespace {

// `count` random steps over the first `services_used` of api, web, s1, s2, quiet, img (promoted
// when asked) and ghost (matches nothing).
std::vector<std::vector<ObjectPtr>> random_steps(std::size_t services_used, int count) {
    std::mt19937 random(12);  // fixed: the same steps on every run
    std::vector<std::pair<std::string, std::pair<std::string, std::string>>> services = {
        {"api", {"api-a", "api-b"}}, {"web", {"web-a", "web-b"}}, {"s1", {"s-a", "s-b"}},
        {"s2", {"s-a", "s-b"}},      {"quiet", {"q-a", "q-b"}},   {"img", {"img-a", "img-b"}},
        {"ghost", {"g-a", "g-b"}}};
    services.resize(services_used);
    const std::vector<std::string> weights_seen = {"0", "1", "2", "3", "5", "50", "100"};
    std::map<std::string, ObjectPtr> current;
    for (std::size_t i = 0; i < 5; ++i) {
        const auto& [service, clusters] = services[i];
        current[service] = split(service, {{clusters.first, "1"}, {clusters.second, "1"}});
    }
    std::vector<std::vector<ObjectPtr>> steps;
    for (int step = 0; step < count; ++step) {
        const auto& [service, clusters] = services[random() % services.size()];
        const int what = static_cast<int>(random() % 10);
        if (what == 0) {
            current.erase(service);
        } else {
            auto s =
                split(service, {{clusters.first, weights_seen[random() % weights_seen.size()]},
                                {clusters.second, weights_seen[random() % weights_seen.size()]}});
            current[service] = what == 1 ? unnamed(s) : s;
        }
        std::vector<ObjectPtr> objects;
        for (const auto& [name, object] : current) {
            objects.push_back(object);
        }
        steps.push_back(std::move(objects));
    }
    return steps;
}

}  // namespace

// Random canary steps, removals and additions: after each, the same bytes, lines and notes
// as a whole merge.
BOOST_AUTO_TEST_CASE(random_steps_give_the_bytes_of_a_full_merge) {
    BOOST_TEST(compare_steps(options(), random_steps(5, 150)).reapplied > 20u);
    Options skip = options(Match::Domain, "{{service}}", false, true);
    skip.unmatched = Unmatched::Skip;
    BOOST_TEST(compare_steps(skip, random_steps(7, 150)).reapplied > 20u);
}

// A lone change is one info line; a burst is one summary line, each change at debug level.
BOOST_AUTO_TEST_CASE(a_burst_of_changes_is_one_line) {
    std::string rds =
        "resources:\n- \"@type\": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n"
        "  name: r\n  virtual_hosts:\n";
    std::vector<ObjectPtr> splits;
    for (int i = 0; i < 20; ++i) {
        const std::string n = "vh" + std::to_string(i);
        rds += "  - name: " + n + "\n    domains: [" + n +
               "]\n    routes:\n    - match: {prefix: /}\n" +
               "      route: {weighted_clusters: {clusters: [{name: " + n +
               "-a, weight: 100}, {name: " + n + "-b, weight: 0}]}}\n";
        splits.push_back(split(n, {{n + "-a", "90"}, {n + "-b", "10"}}));
    }
    std::sort(splits.begin(), splits.end(),
              [](const ObjectPtr& a, const ObjectPtr& b) { return a->ref.name < b->ref.name; });
    crossover::test::CaptureLogger logger;
    ComponentConfig config;
    config.name = "weighted";
    config.logger = &logger;
    config.options = YAML::Load("{}");
    smi_merge::SmiMergeTransform t(config, smi_merge::kSmiMergeOptions.decode(config));
    const auto d = doc("rds.yaml", rds);
    SnapshotPtr out;
    BOOST_REQUIRE(t.transform(inputs({d}, splits), out).is_ok());
    const auto info = logger.messages(LogLevel::Info);
    BOOST_REQUIRE(info.size() == 1u);
    BOOST_TEST(info[0].find("weights set for 20 TrafficSplits and documents, the first: "
                            "TrafficSplit test/vh0: rds.yaml: vh0-a=90 vh0-b=10 on 1 route") == 0u,
               info[0]);
    BOOST_TEST(logger.messages(LogLevel::Debug).size() == 20u);
    // One canary step: its own line.
    splits[3] = split("vh11", {{"vh11-a", "80"}, {"vh11-b", "20"}});
    BOOST_REQUIRE(t.transform(inputs({d}, splits), out).is_ok());
    const auto after = logger.messages(LogLevel::Info);
    BOOST_REQUIRE(after.size() == 2u);
    BOOST_TEST(after[1].find("weights set: TrafficSplit test/vh11: rds.yaml: vh11-a=80 "
                             "vh11-b=20 on 1 route") == 0u,
               after[1]);
}
