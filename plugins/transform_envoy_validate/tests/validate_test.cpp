// Tests of the envoy_validate transform, loaded from the built plugin with
// dlopen like the core loads it.
#define BOOST_TEST_MODULE envoy_validate
#include <dlfcn.h>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "crossover/sdk.h"

namespace fs = std::filesystem;
using namespace crossover;

namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v == nullptr ? std::string() : std::string(v);
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    BOOST_REQUIRE_MESSAGE(in.good(), "cannot read " << p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string fixture(const std::string& rel) {
    return slurp(fs::path(env("CROSSOVER_FIXTURES")) / rel);
}

fs::path protos_dir() {
    return fs::path(env("CROSSOVER_BUILD_DIR")) / "share/crossover/envoy-protos";
}

boost::test_tools::assertion_result protos_available(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result r(fs::exists(protos_dir() / "VERSION"));
    r.message() << "Envoy protos absent from " << protos_dir()
                << " (npm unavailable at configure time?): run `make envoy_protos`";
    return r;
}

// Tells CTest (SKIP_REGULAR_EXPRESSION) that the checks were skipped.
struct SkipNotice {
    SkipNotice() {
        if (!fs::exists(protos_dir() / "VERSION")) {
            std::cout << "SKIPPED: Envoy protos absent from " << protos_dir()
                      << " (npm unavailable at configure time?): run `make envoy_protos`"
                      << std::endl;
        }
    }
};
BOOST_TEST_GLOBAL_FIXTURE(SkipNotice);

struct CapturingLogger final : Logger {
    void log(LogLevel level, std::string_view, std::string_view message) noexcept override {
        std::lock_guard<std::mutex> lock(mutex);
        lines.emplace_back(std::to_string(static_cast<int>(level)) + " " + std::string(message));
    }
    [[nodiscard]] bool enabled(LogLevel) const noexcept override { return true; }
    std::vector<std::string> warnings() {
        std::lock_guard<std::mutex> lock(mutex);
        std::vector<std::string> out;
        for (const auto& l : lines) {
            if (l.rfind("2 ", 0) == 0) {
                out.push_back(l.substr(2));
            }
        }
        return out;
    }
    std::mutex mutex;
    std::vector<std::string> lines;
};

class Plugin {
public:
    Plugin() {
        const fs::path so = fs::path(env("CROSSOVER_PLUGIN_DIR")) / "transform_envoy_validate.so";
        handle_ = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
        BOOST_REQUIRE_MESSAGE(handle_ != nullptr, "dlopen " << so << ": " << dlerror());
        auto entry = reinterpret_cast<crossover_plugin_entry_fn>(
            dlsym(handle_, CROSSOVER_PLUGIN_ENTRY_SYMBOL));
        BOOST_REQUIRE(entry != nullptr);
        descriptor_ = entry();
        BOOST_REQUIRE_EQUAL(descriptor_->abi_version, CROSSOVER_ABI_VERSION);
        BOOST_REQUIRE_EQUAL(std::string(descriptor_->name), "envoy_validate");
        BOOST_REQUIRE(descriptor_->kind == Kind::Transform);
    }
    ~Plugin() {
        if (handle_ != nullptr) {
            dlclose(handle_);
        }
    }
    Plugin(const Plugin&) = delete;
    Plugin& operator=(const Plugin&) = delete;
    Plugin(Plugin&&) = delete;
    Plugin& operator=(Plugin&&) = delete;

    [[nodiscard]] const PluginDescriptor& descriptor() const { return *descriptor_; }

    // Creates the transform with the defaults of its option table, then `yaml` over them.
    std::unique_ptr<Transform, DestroyFn> create(const std::string& yaml, std::string& error) {
        ComponentConfig config;
        config.name = "check";
        config.type = "envoy_validate";
        config.path = "transforms.check";
        config.logger = &logger;
        YAML::Node options(YAML::NodeType::Map);
        for (std::size_t i = 0; i < descriptor_->option_count; ++i) {
            const OptionSpec& spec = descriptor_->options[i];
            if (spec.default_value != nullptr) {
                options[spec.name] = YAML::Load(spec.default_value);
            }
        }
        const YAML::Node user = YAML::Load(yaml.empty() ? "{}" : yaml);
        for (const auto& kv : user) {
            options[kv.first.Scalar()] = kv.second;
        }
        config.options = options;
        Component* c = descriptor_->create(config, error);
        return {dynamic_cast<Transform*>(c), descriptor_->destroy};
    }

    std::unique_ptr<Transform, DestroyFn> make(const std::string& yaml = {}) {
        std::string error;
        auto t = create(yaml, error);
        BOOST_REQUIRE_MESSAGE(t != nullptr, "create failed: " << error);
        return t;
    }

    CapturingLogger logger;

private:
    void* handle_ = nullptr;
    const PluginDescriptor* descriptor_ = nullptr;
};

using Docs = std::vector<std::pair<std::string, std::string>>;

SnapshotPtr snapshot(const Docs& docs) {
    auto s = std::make_shared<Snapshot>();
    for (const auto& [name, content] : docs) {
        auto d = std::make_shared<Document>();
        d->name = name;
        d->content = content;
        d->origin = {"ConfigMap", "test", "envoy-xds", "1"};
        s->documents.push_back(d);
    }
    std::sort(s->documents.begin(), s->documents.end(),
              [](const DocumentPtr& a, const DocumentPtr& b) { return a->name < b->name; });
    return s;
}

// Runs the transform over `docs`; returns the error message ("" on success).
std::string run(Transform& t, const Docs& docs, SnapshotPtr* out = nullptr) {
    SnapshotPtr in = snapshot(docs);
    SnapshotPtr output;
    const Status st = t.transform({Input{"xds", in}}, output);
    if (st) {
        BOOST_CHECK(output == in);  // passed through untouched
        if (out != nullptr) {
            *out = output;
        }
        return {};
    }
    BOOST_CHECK(output == nullptr);
    BOOST_TEST_MESSAGE("error: " << st.message());
    return st.message().empty() ? std::string("(empty error)") : st.message();
}

// Expects exactly one failure whose message contains `expected`.
void expect_error(Transform& t, const Docs& docs, const std::string& expected) {
    const std::string message = run(t, docs);
    BOOST_TEST_CONTEXT("message: " << message) {
        BOOST_CHECK(!message.empty());
        BOOST_CHECK(message.find(expected) != std::string::npos);
    }
}

const std::string kRds = R"(version_info: "1"
resources:
- "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration
  name: local_route
  virtual_hosts:
  - name: podinfo
    domains: ["podinfo"]
    routes:
    - match: {prefix: "/"}
      route:
        ROUTE
)";

std::string rds_with_route(const std::string& route) {
    std::string s = kRds;
    s.replace(s.find("ROUTE"), 5, route);
    return s;
}

const std::string kCds = R"(version_info: "1"
resources:
- "@type": type.googleapis.com/envoy.config.cluster.v3.Cluster
  name: podinfo-primary
  connect_timeout: 0.25s
  type: STRICT_DNS
  lb_policy: LBPOLICY
  load_assignment:
    cluster_name: podinfo-primary
    endpoints:
    - lb_endpoints:
      - endpoint: {address: {socket_address: {address: podinfo-primary, port_value: PORT}}}
)";

std::string cds(const std::string& lb_policy = "ROUND_ROBIN", const std::string& port = "9898") {
    std::string s = kCds;
    s.replace(s.find("LBPOLICY"), 8, lb_policy);
    s.replace(s.find("PORT"), 4, port);
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(envoy_validate, *boost::unit_test::precondition(protos_available))

BOOST_AUTO_TEST_CASE(valid_fixtures_pass_through_unchanged) {
    Plugin p;
    auto t = p.make("bootstrap: [bootstrap.yaml]");
    SnapshotPtr out;
    const Docs docs = {{"rds.yaml", fixture("xds/rds.yaml")},
                       {"cds.yaml", fixture("xds/cds.yaml")},
                       {"lds.yaml", fixture("xds/lds.yaml")},
                       {"bootstrap.yaml", fixture("xds/bootstrap.yaml")}};
    BOOST_CHECK_EQUAL(run(*t, docs, &out), "");
    BOOST_REQUIRE(out);
    BOOST_CHECK_EQUAL(out->documents.size(), 4u);
    const std::string rds = fixture("xds/rds.yaml");
    bool found = false;
    for (const auto& d : out->documents) {
        BOOST_REQUIRE(d);
        if (d->name == "rds.yaml") {
            found = true;
            BOOST_CHECK_EQUAL(d->content, rds);
        }
    }
    BOOST_CHECK(found);
}

BOOST_AUTO_TEST_CASE(json_documents_are_checked_too) {
    Plugin p;
    auto t = p.make();
    const std::string json =
        R"({"version_info": "1", "resources": [{"@type": "type.googleapis.com/envoy.config.)"
        R"(cluster.v3.Cluster", "name": "a", "connectTimeout": "1s", "type": "STATIC", )"
        R"("load_assignment": {"cluster_name": "a", "endpoints": [{"lb_endpoints": [{"endpoint": )"
        R"({"address": {"socket_address": {"address": "127.0.0.1", "port_value": 80}}}}]}]}}]})";
    BOOST_CHECK_EQUAL(run(*t, {{"cds.json", json}}), "");
    std::string bad = json;
    bad.replace(bad.find("\"port_value\": 80"), 16, "\"port_value\": \"80x\"");
    expect_error(*t, {{"cds.json", bad}},
                 "cds.json: resources[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint."
                 "address.socket_address.port_value: expected an integer (uint32), got string "
                 "\"80x\"");
}

BOOST_AUTO_TEST_CASE(bootstrap_is_checked_as_bootstrap) {
    Plugin p;
    auto t = p.make("bootstrap: [bootstrap.yaml]");
    std::string bad = fixture("xds/bootstrap.yaml");
    bad.replace(bad.find("resource_api_version: V3"), 24, "resource_api_version: V4");
    expect_error(*t, {{"bootstrap.yaml", bad}},
                 "bootstrap.yaml: dynamic_resources.lds_config.resource_api_version: unknown enum "
                 "value \"V4\" for envoy.config.core.v3.ApiVersion");
    // Without the option a bootstrap is not a DiscoveryResponse: passed unchecked.
    auto unchecked = p.make();
    BOOST_CHECK_EQUAL(run(*unchecked, {{"bootstrap.yaml", bad}}), "");
}

BOOST_AUTO_TEST_CASE(typo_in_field_name) {
    Plugin p;
    auto t = p.make();
    expect_error(*t, {{"rds.yaml", fixture("invalid/rds-typo.yaml")}},
                 "rds.yaml: resources[0].virtual_hosts[0].routes[0].route: unknown field "
                 "\"weighted_cluster\"");
    expect_error(*t, {{"rds.yaml", fixture("invalid/rds-typo.yaml")}},
                 "[ConfigMap test/envoy-xds]");
}

// Nine nested levels of ten aliases under filter_metadata expanded for 51 s
// to 1.85 GB before this check had the SDK's limits (crossover/yaml_load.h).
BOOST_AUTO_TEST_CASE(exploding_aliases_are_refused_at_once) {
    Plugin p;
    auto t = p.make();
    const std::string rds =
        YAML::Load(fixture("invalid/configmap-nested-aliases.yaml"))["data"]["rds.yaml"]
            .as<std::string>();
    const auto start = std::chrono::steady_clock::now();
    expect_error(*t, {{"rds.yaml", rds}}, "aliases add more than 100000 values once expanded");
    BOOST_CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
}

BOOST_AUTO_TEST_CASE(wrong_types) {
    Plugin p;
    auto t = p.make();
    std::string scalar_for_list = rds_with_route("{cluster: podinfo-primary}");
    scalar_for_list.replace(scalar_for_list.find("[\"podinfo\"]"), 11, "podinfo");
    expect_error(*t, {{"rds.yaml", scalar_for_list}},
                 "rds.yaml: resources[0].virtual_hosts[0].domains: expected a list, got string "
                 "\"podinfo\"");
    expect_error(*t, {{"cds.yaml", cds("ROUND_ROBIN", "http")}},
                 "cds.yaml: resources[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint."
                 "address.socket_address.port_value: expected an integer (uint32), got string "
                 "\"http\"");
    // An unquoted number where Envoy wants a string.
    expect_error(*t,
                 {{"rds.yaml", rds_with_route("cluster: podinfo-primary\n        timeout: 15")}},
                 "resources[0].virtual_hosts[0].routes[0].route.timeout: expected a Duration "
                 "string such as \"15s\", got unquoted 15");
    std::string header = rds_with_route("{cluster: podinfo-primary}");
    header.replace(header.find("    routes:"), 0,
                   "    request_headers_to_add:\n    - header: {key: x-id, value: 123}\n");
    expect_error(*t, {{"rds.yaml", header}},
                 "resources[0].virtual_hosts[0].request_headers_to_add[0].header.value: expected "
                 "a string, got unquoted 123");
    header.replace(header.find("value: 123"), 10, "value: \"123\"");
    BOOST_CHECK_EQUAL(run(*t, {{"rds.yaml", header}}), "");
    // A map where a list belongs.
    expect_error(*t, {{"rds.yaml", rds_with_route("{weighted_clusters: {clusters: {name: a}}}")}},
                 "routes[0].route.weighted_clusters.clusters: expected a list, got a map");
}

BOOST_AUTO_TEST_CASE(bad_enum_name) {
    Plugin p;
    auto t = p.make();
    expect_error(*t, {{"cds.yaml", cds("ROUND_ROBBIN")}},
                 "cds.yaml: resources[0].lb_policy: unknown enum value \"ROUND_ROBBIN\" for "
                 "envoy.config.cluster.v3.Cluster.LbPolicy");
    BOOST_CHECK_EQUAL(run(*t, {{"cds.yaml", cds("LEAST_REQUEST")}}), "");
}

BOOST_AUTO_TEST_CASE(missing_required_field) {
    Plugin p;
    auto t = p.make();
    std::string no_match = rds_with_route("{cluster: podinfo-primary}");
    no_match.replace(no_match.find("- match: {prefix: \"/\"}\n      route:"),
                     std::string("- match: {prefix: \"/\"}\n      route:").size(), "- route:");
    expect_error(*t, {{"rds.yaml", no_match}},
                 "rds.yaml: resources[0].virtual_hosts[0].routes[0].match: is required "
                 "(validate.rules message.required)");
    // A route with no action at all: the oneof `action` is required.
    std::string no_action = rds_with_route("{cluster: x}");
    no_action.replace(no_action.find("      route:"),
                      std::string("      route:\n        {cluster: x}").size(), "");
    expect_error(
        *t, {{"rds.yaml", no_action}},
        "rds.yaml: resources[0].virtual_hosts[0].routes[0]: one of \"route\", \"redirect\"");
}

BOOST_AUTO_TEST_CASE(numbers_out_of_range_and_string_lengths) {
    Plugin p;
    auto t = p.make();
    expect_error(*t, {{"cds.yaml", cds("ROUND_ROBIN", "70000")}},
                 "socket_address.port_value: 70000 must be <= 65535 (validate.rules uint32.lte)");
    expect_error(*t,
                 {{"rds.yaml", rds_with_route("weighted_clusters:\n          clusters:\n"
                                              "          - {name: a, weight: 4294967296}")}},
                 "routes[0].route.weighted_clusters.clusters[0].weight: value 4294967296 is out "
                 "of range for uint32");
    std::string empty_name = rds_with_route("{cluster: podinfo-primary}");
    empty_name.replace(empty_name.find("- name: podinfo"), 15, "- name: \"\"");
    expect_error(*t, {{"rds.yaml", empty_name}},
                 "rds.yaml: resources[0].virtual_hosts[0].name: length 0 is less than 1 "
                 "(validate.rules string.min_len)");
    expect_error(*t, {{"rds.yaml", rds_with_route("weighted_clusters: {clusters: []}")}},
                 "routes[0].route.weighted_clusters.clusters: has 0 items, at least 1 required "
                 "(validate.rules repeated.min_items)");
    // A rule on a oneof member applies only when that member is set:
    // cluster (min_len 1) is unset when weighted_clusters is used...
    BOOST_CHECK_EQUAL(
        run(*t, {{"rds.yaml",
                  rds_with_route("weighted_clusters: {clusters: [{name: a, weight: 1}]}")}}),
        "");
    // ...and checked when set.
    expect_error(*t, {{"rds.yaml", rds_with_route("cluster: \"\"")}},
                 "routes[0].route.cluster: length 0 is less than 1 (validate.rules "
                 "string.min_len)");
}

BOOST_AUTO_TEST_CASE(enum_numbers_and_duration_bounds) {
    Plugin p;
    auto t = p.make();
    // An enum given by number must be one the enum defines (defined_only).
    BOOST_CHECK_EQUAL(run(*t, {{"cds.yaml", cds("1")}}), "");
    expect_error(*t, {{"cds.yaml", cds("99")}},
                 "cds.yaml: resources[0].lb_policy: value 99 is not defined in "
                 "envoy.config.cluster.v3.Cluster.LbPolicy (validate.rules enum.defined_only)");
    std::string zero = cds();
    zero.replace(zero.find("connect_timeout: 0.25s"), 22, "connect_timeout: 0s");
    expect_error(*t, {{"cds.yaml", zero}},
                 "cds.yaml: resources[0].connect_timeout: 0s must be > 0s (validate.rules "
                 "duration.gt)");
}

BOOST_AUTO_TEST_CASE(route_to_missing_cluster) {
    Plugin p;
    auto t = p.make();
    const Docs docs = {
        {"cds.yaml", cds()},
        {"rds.yaml", rds_with_route("weighted_clusters:\n          clusters:\n"
                                    "          - {name: podinfo-primary, weight: 90}\n"
                                    "          - {name: podinfo-canry, weight: 10}")}};
    expect_error(*t, docs,
                 "rds.yaml: resources[0].virtual_hosts[0].routes[0].route.weighted_clusters."
                 "clusters[1].name: cluster \"podinfo-canry\" is not defined");
    expect_error(*t, {{"cds.yaml", cds()}, {"rds.yaml", rds_with_route("cluster: nowhere")}},
                 "routes[0].route.cluster: cluster \"nowhere\" is not defined");
    // Without any Cluster in the output there is nothing to check against.
    BOOST_CHECK_EQUAL(run(*t, {{"rds.yaml", rds_with_route("cluster: nowhere")}}), "");
    auto unchecked = p.make("check_clusters: false");
    BOOST_CHECK_EQUAL(run(*unchecked, docs), "");
}

BOOST_AUTO_TEST_CASE(unknown_type_url) {
    Plugin p;
    auto t = p.make();
    std::string bad = fixture("xds/rds.yaml");
    bad.replace(bad.find("v3.RouteConfiguration"), 21, "v3.RouteConfigurations");
    expect_error(*t, {{"rds.yaml", bad}},
                 "rds.yaml: resources[0].@type: unknown type "
                 "\"type.googleapis.com/envoy.config.route.v3.RouteConfigurations\"");
    std::string filter = fixture("xds/lds.yaml");
    filter.replace(filter.find("http.router.v3.Router"), 21, "http.routr.v3.Router");
    expect_error(*t, {{"lds.yaml", filter}},
                 "lds.yaml: resources[0].filter_chains[0].filters[0].typed_config.http_filters[0]."
                 "typed_config.@type: unknown type");
}

BOOST_AUTO_TEST_CASE(one_resource_type_per_document) {
    Plugin p;
    auto t = p.make();
    std::string mixed = cds();
    mixed +=
        "- \"@type\": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n"
        "  name: r\n";
    expect_error(*t, {{"cds.yaml", mixed}},
                 "cds.yaml: resources[1].@type: "
                 "\"type.googleapis.com/envoy.config.route.v3.RouteConfiguration\" differs from "
                 "\"type.googleapis.com/envoy.config.cluster.v3.Cluster\"");
}

BOOST_AUTO_TEST_CASE(extension_types_load_on_demand) {
    Plugin p;
    auto t = p.make();
    std::string lds = fixture("xds/lds.yaml");
    // A filter whose package is not loaded at start (envoy.extensions.filters.http.cors.v3).
    lds.replace(
        lds.find("        - name: envoy.filters.http.router"), 0,
        "        - name: envoy.filters.http.cors\n          typed_config:\n"
        "            \"@type\": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors\n");
    BOOST_CHECK_EQUAL(run(*t, {{"lds.yaml", lds}}), "");
}

BOOST_AUTO_TEST_CASE(legacy_v2_is_skipped_with_one_warning) {
    Plugin p;
    auto t = p.make();
    const Docs docs = {{"rds.yaml", fixture("xds/rds-v2-chart.yaml")},
                       {"rds2.yaml", fixture("xds/rds-v2-chart.yaml")}};
    BOOST_CHECK_EQUAL(run(*t, docs), "");
    BOOST_CHECK_EQUAL(run(*t, docs), "");
    const auto warnings = p.logger.warnings();
    BOOST_REQUIRE_EQUAL(warnings.size(), 1u);
    BOOST_CHECK(warnings[0].find("v2") != std::string::npos);
    auto strict = p.make("allow_v2: false");
    expect_error(*strict, docs, "rds.yaml: (document): legacy Envoy v2 API");
}

BOOST_AUTO_TEST_CASE(non_xds_documents) {
    Plugin p;
    auto t = p.make();
    const Docs docs = {{"notes.txt", "just text: [unbalanced"}, {"values.yaml", "a: 1\n"}};
    BOOST_CHECK_EQUAL(run(*t, docs), "");
    auto strict = p.make("non_xds: error");
    expect_error(*strict, {{"values.yaml", "a: 1\n"}}, "values.yaml: (document): not an xDS");
    expect_error(*t, {{"rds.yaml", "resources: [\n"}}, "rds.yaml: (document): not valid YAML");
    std::string error;
    BOOST_CHECK(p.create("non_xds: maybe", error) == nullptr);
    BOOST_CHECK(error.find("non_xds") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(all_errors_of_a_run_in_one_message_capped) {
    Plugin p;
    auto t = p.make("max_errors: 3");
    std::string rds = "version_info: \"1\"\nresources:\n";
    for (int i = 0; i < 5; ++i) {
        rds +=
            "- \"@type\": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n"
            "  nme: r" +
            std::to_string(i) + "\n";
    }
    const std::string message = run(*t, {{"rds.yaml", rds}, {"cds.yaml", cds("NOPE")}});
    BOOST_TEST_CONTEXT("message: " << message) {
        // Documents in name order: cds.yaml, then rds.yaml.
        BOOST_CHECK(message.find("invalid xDS: cds.yaml: resources[0].lb_policy") == 0);
        BOOST_CHECK(message.find("; rds.yaml: resources[0]: unknown field \"nme\"") !=
                    std::string::npos);
        BOOST_CHECK(message.find("; rds.yaml: resources[1]: unknown field \"nme\"") !=
                    std::string::npos);
        BOOST_CHECK(message.find("resources[2]") == std::string::npos);
        BOOST_CHECK(message.find("; ... and more (only the first 3 errors are shown)") !=
                    std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(several_inputs_are_joined) {
    Plugin p;
    auto t = p.make();
    SnapshotPtr a = snapshot({{"cds.yaml", cds()}});
    SnapshotPtr b = snapshot({{"rds.yaml", rds_with_route("cluster: podinfo-primary")}});
    SnapshotPtr out;
    BOOST_REQUIRE(t->transform({Input{"a", a}, Input{"b", b}}, out));
    BOOST_REQUIRE(out);
    BOOST_REQUIRE_EQUAL(out->documents.size(), 2u);
    BOOST_CHECK(out->documents[0] == a->documents[0]);  // same pointers
    BOOST_CHECK(out->documents[1] == b->documents[0]);
    SnapshotPtr c = snapshot({{"rds.yaml", rds_with_route("cluster: elsewhere")}});
    out.reset();
    const Status st = t->transform({Input{"a", a}, Input{"c", c}}, out);
    BOOST_CHECK(!st);
    BOOST_CHECK(st.message().find("cluster \"elsewhere\" is not defined") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(timing_1000_route_rds) {
    Plugin p;
    const auto load_start = std::chrono::steady_clock::now();
    auto t = p.make();
    const auto load_end = std::chrono::steady_clock::now();
    std::string rds =
        "version_info: \"1\"\nresources:\n"
        "- \"@type\": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n"
        "  name: local_route\n  virtual_hosts:\n";
    for (int i = 0; i < 1000; ++i) {
        const std::string n = std::to_string(i);
        rds += "  - name: app" + n + "\n    domains: [\"app" + n + "\", \"app" + n +
               ".test.svc.cluster.local\"]\n    routes:\n    - match: {prefix: \"/\"}\n"
               "      route:\n        timeout: 15s\n        weighted_clusters:\n"
               "          clusters:\n          - {name: app" +
               n +
               "-primary, weight: 90}\n"
               "          - {name: app" +
               n + "-canary, weight: 10}\n";
    }
    const auto start = std::chrono::steady_clock::now();
    BOOST_CHECK_EQUAL(run(*t, {{"rds.yaml", rds}}), "");
    const auto first = std::chrono::steady_clock::now();
    BOOST_CHECK_EQUAL(run(*t, {{"rds.yaml", rds}}), "");  // unchanged content: cached
    const auto second = std::chrono::steady_clock::now();
    // A canary step: every weight rewritten, nothing else.
    std::string step = rds;
    for (std::size_t at = step.find("weight: 90"); at != std::string::npos;
         at = step.find("weight: 90", at + 1)) {
        step.replace(at, 10, "weight: 85");
    }
    const auto third = std::chrono::steady_clock::now();
    BOOST_CHECK_EQUAL(run(*t, {{"rds.yaml", step}}), "");
    const auto fourth = std::chrono::steady_clock::now();
    using ms = std::chrono::duration<double, std::milli>;
    std::cout << "envoy_validate: loading the protos: " << ms(load_end - load_start).count()
              << " ms" << std::endl;
    std::cout << "envoy_validate: 1,000-route RDS (" << rds.size() / 1024
              << " KiB): " << ms(first - start).count()
              << " ms; unchanged again: " << ms(second - first).count()
              << " ms; weights only: " << ms(fourth - third).count() << " ms" << std::endl;
    // The same document with one error must still fail (the cache keys on content).
    rds.replace(rds.find("weight: 90"), 10, "wieght: 90");
    expect_error(*t, {{"rds.yaml", rds}}, "unknown field \"wieght\"");
}

// The route registry's CDS: a change of one route bumps version_info and
// rewrites one cluster; only that cluster (and the document's own fields)
// should be read again.
BOOST_AUTO_TEST_CASE(timing_1000_cluster_cds) {
    Plugin p;
    auto t = p.make();
    const auto cds = [](int version, int changed) {
        std::string out = "version_info: \"" + std::to_string(version) + "\"\nresources:\n";
        for (int i = 0; i < 1000; ++i) {
            const std::string n = "\"r" + std::to_string(i) + "\"";
            out +=
                "- \"@type\": type.googleapis.com/envoy.config.cluster.v3.Cluster\n  name: " + n +
                "\n  connect_timeout: 5s\n  type: STRICT_DNS\n  lb_policy: ROUND_ROBIN\n"
                "  load_assignment:\n    cluster_name: " +
                n + "\n    endpoints:\n    - lb_endpoints:\n      - endpoint:\n" +
                "          address:\n            socket_address:\n              address: " +
                (i == changed ? "\"backend-new\"" : "\"backend\"") +
                "\n              port_value: 8080\n";
        }
        return out;
    };
    const auto start = std::chrono::steady_clock::now();
    BOOST_CHECK_EQUAL(run(*t, {{"cds.yaml", cds(1, -1)}}), "");
    const auto first = std::chrono::steady_clock::now();
    constexpr int steps = 10;
    for (int i = 0; i < steps; ++i) {
        BOOST_CHECK_EQUAL(run(*t, {{"cds.yaml", cds(2 + i, i * 97)}}), "");
    }
    const auto last = std::chrono::steady_clock::now();
    using ms = std::chrono::duration<double, std::milli>;
    std::cout << "envoy_validate: 1,000-cluster CDS: " << ms(first - start).count()
              << " ms; one cluster and version_info changed: " << ms(last - first).count() / steps
              << " ms per change" << std::endl;
    // A bad change of one cluster is still refused.
    std::string bad = cds(20, 5);
    bad.replace(bad.find("port_value: 8080", bad.find("\"r5\"")), 16, "port_value: 70000");
    expect_error(*t, {{"cds.yaml", bad}}, "resources[5].load_assignment.endpoints[0]");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(missing_protos_are_reported) {
    Plugin p;
    std::string error;
    auto t = p.create("proto_path: /nonexistent/envoy-protos", error);
    BOOST_CHECK(t == nullptr);
    BOOST_CHECK_MESSAGE(
        error.find("Envoy protos not found in '/nonexistent/envoy-protos'") != std::string::npos,
        error);
    BOOST_CHECK(error.find("proto_path") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(missing_protos_with_warn_pass_documents_through) {
    Plugin p;
    auto t = p.make("{proto_path: /nonexistent/envoy-protos, when_protos_missing: warn}");
    const std::string bad = rds_with_route("weighted_cluster: {clusters: []}");
    BOOST_CHECK_EQUAL(run(*t, {{"rds.yaml", bad}}), "");
    BOOST_CHECK_EQUAL(run(*t, {{"rds.yaml", bad}}), "");
    const auto warnings = p.logger.warnings();
    BOOST_REQUIRE_EQUAL(warnings.size(), 1u);
    BOOST_CHECK_MESSAGE(warnings[0].find("Envoy protos not found in '/nonexistent/envoy-protos'") !=
                            std::string::npos,
                        warnings[0]);
    std::string error;
    BOOST_CHECK(p.create("when_protos_missing: maybe", error) == nullptr);
    BOOST_CHECK_MESSAGE(error.find("expected 'error' or 'warn', got 'maybe'") != std::string::npos,
                        error);
}

BOOST_AUTO_TEST_CASE(warn_mode_still_checks_when_protos_exist,
                     *boost::unit_test::precondition(protos_available)) {
    Plugin p;
    auto t = p.make("when_protos_missing: warn");
    expect_error(*t, {{"rds.yaml", rds_with_route("weighted_cluster: {clusters: []}")}},
                 "unknown field \"weighted_cluster\"");
    BOOST_CHECK(p.logger.warnings().empty());
}
