// The validator's re-check of documents whose text changed only in numbers:
// the same verdict and the same messages as a full check, without reading
// the document again.
#define BOOST_TEST_MODULE envoy_validator
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "../../../tests/support/process.h"
#include "crossover_envoy/doc_tree.h"
#include "envoy_validator.h"
#include "integer_diff.h"
#include "resource_layout.h"

namespace fs = std::filesystem;
using crossover::envoy_validate::DocumentView;
using crossover::envoy_validate::integer_changes;
using crossover::envoy_validate::scan_resources;
using crossover::envoy_validate::Validator;
using crossover::envoy_validate::ValidatorOptions;

namespace {

std::string protos_dir() {
    return (fs::path(crossover::test::build_dir()) / "share/crossover/envoy-protos").string();
}

boost::test_tools::assertion_result protos_available(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result r(fs::exists(fs::path(protos_dir()) / "envoy-api.pb"));
    r.message() << "Envoy protos absent from " << protos_dir();
    return r;
}

struct SkipNotice {
    SkipNotice() {
        if (!fs::exists(fs::path(protos_dir()) / "envoy-api.pb")) {
            std::cout << "SKIPPED: Envoy protos absent from " << protos_dir() << std::endl;
        }
    }
};
BOOST_TEST_GLOBAL_FIXTURE(SkipNotice);

std::string rds(int routes, int canary_weight) {
    std::string out =
        "version_info: \"1\"\nresources:\n"
        "- \"@type\": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n"
        "  name: local_route\n  virtual_hosts:\n";
    for (int i = 0; i < routes; ++i) {
        const std::string n = std::to_string(i);
        out += "  - name: app" + n + "\n    domains: [\"app" + n +
               "\"]\n    routes:\n    - match: {prefix: \"/\"}\n      route:\n"
               "        weighted_clusters:\n          clusters:\n"
               "          - {name: app-primary, weight: " +
               std::to_string(100 - canary_weight) +
               "}\n          - {name: app-canary, weight: " + std::to_string(canary_weight) +
               "}  # canary 7\n";
    }
    return out;
}

std::string cds(const std::string& port) {
    std::string out = "resources:\n";
    for (const char* name : {"app-primary", "app-canary"}) {
        out += std::string(
                   "- \"@type\": type.googleapis.com/envoy.config.cluster.v3.Cluster\n"
                   "  name: ") +
               name + "\n  connect_timeout: 1s\n  load_assignment:\n    cluster_name: " + name +
               "\n    endpoints:\n    - lb_endpoints:\n      - endpoint:\n          address:\n"
               "            socket_address: {address: 127.0.0.1, port_value: " +
               port + "}\n";
    }
    return out;
}

struct Run {
    std::string rds_text;
    std::string cds_text;
    std::string rds_name = "rds.yaml";
    std::string cds_name = "cds.yaml";
    std::vector<std::string> on(Validator& v) const {
        return v.validate({{&rds_name, &rds_text, ""}, {&cds_name, &cds_text, ""}});
    }
};

ValidatorOptions options() {
    ValidatorOptions o;
    o.proto_path = protos_dir();
    return o;
}

// One Cluster resource, as the route registry writes them ("- " at `indent`).
std::string cluster(const std::string& name, const std::string& indent = "",
                    const std::string& timeout = "1s") {
    const std::string i = indent + "  ";
    return indent + "- \"@type\": type.googleapis.com/envoy.config.cluster.v3.Cluster\n" + i +
           "name: " + name + "\n" + i + "connect_timeout: " + timeout + "\n" + i +
           "load_assignment:\n" + i + "  cluster_name: " + name + "\n" + i + "  endpoints:\n" + i +
           "  - lb_endpoints:\n" + i + "    - endpoint:\n" + i + "        address:\n" + i +
           "          socket_address: {address: 127.0.0.1, port_value: 8080}\n";
}

// A CDS of `n` clusters c0..c(n-1); `changed` replaces cluster `at`.
std::string many_clusters(int n, int at = -1, const std::string& changed = "",
                          const std::string& indent = "") {
    std::string out = "version_info: \"3\"\nresources:\n";
    for (int k = 0; k < n; ++k) {
        out += k == at ? changed : cluster("c" + std::to_string(k), indent);
    }
    return out + "type_url: type.googleapis.com/envoy.config.cluster.v3.Cluster\n";
}

// An RDS of `n` RouteConfigurations, r<k> routing to cluster c<k>.
std::string many_route_configs(int n, int at = -1, const std::string& cluster_at = "") {
    std::string out = "resources:\n";
    for (int k = 0; k < n; ++k) {
        const std::string c = k == at ? cluster_at : "c" + std::to_string(k);
        out +=
            "- \"@type\": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n"
            "  name: r" +
            std::to_string(k) +
            "\n  virtual_hosts:\n  - name: v\n    domains: [\"*\"]\n    routes:\n"
            "    - match: {prefix: \"/\"}\n      route: {cluster: " +
            c + "}\n";
    }
    return out;
}

// One virtual host as the route registry writes it: route `name` to cluster `cluster`.
std::string registry_host(const std::string& name, const std::string& cluster,
                          const std::string& extra = "") {
    return "  - name: \"" + name + "\"\n    domains:\n    - \"" + name +
           ".example\"\n    routes:\n    - match:\n        prefix: \"/\"\n      route:\n"
           "        cluster: \"" +
           cluster + "\"\n" + extra;
}

// The route registry's RDS: one RouteConfiguration, virtual host h<k> routing
// to cluster c<k>; `changed` replaces virtual host `at`.
std::string registry_rds(int n, const std::string& version, int at = -1,
                         const std::string& changed = "") {
    std::string out = "version_info: \"" + version +
                      "\"\nresources:\n"
                      "- \"@type\": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n"
                      "  name: \"local\"\n  virtual_hosts:\n";
    for (int k = 0; k < n; ++k) {
        const std::string i = std::to_string(k);
        out += k == at ? changed : registry_host("h" + i, "c" + i);
    }
    return out;
}

// The 1-based line of `text`'s byte `at`.
std::size_t line_of(const std::string& text, std::size_t at) {
    return static_cast<std::size_t>(
               std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n')) +
           1;
}

// What a validator that never saw the documents says.
std::vector<std::string> fresh(const Run& run) {
    Validator v(options());
    return run.on(v);
}

}  // namespace

BOOST_AUTO_TEST_CASE(digit_runs_that_differ) {
    auto c = integer_changes("weight: 90\nx: 10\n", "weight: 100\nx: 10\n", 10);
    BOOST_REQUIRE(c);
    BOOST_REQUIRE_EQUAL(c->size(), 1u);
    BOOST_CHECK_EQUAL((*c)[0].old_offset, 8u);
    BOOST_CHECK_EQUAL((*c)[0].old_length, 2u);
    BOOST_CHECK_EQUAL((*c)[0].new_offset, 8u);
    BOOST_CHECK_EQUAL((*c)[0].new_length, 3u);
    c = integer_changes("a: 5\nb: 15\n", "a: 50\nb: 5\n", 10);
    BOOST_REQUIRE(c);
    BOOST_REQUIRE_EQUAL(c->size(), 2u);
    BOOST_CHECK_EQUAL((*c)[1].old_offset, 8u);
    BOOST_CHECK_EQUAL((*c)[1].new_offset, 9u);
    BOOST_CHECK_EQUAL((*c)[1].new_length, 1u);
    c = integer_changes("same", "same", 10);
    BOOST_REQUIRE(c);
    BOOST_CHECK(c->empty());
    BOOST_CHECK(!integer_changes("weight: 90", "weight: 9.5", 10));
    BOOST_CHECK(!integer_changes("name: a1", "name: b1", 10));
    BOOST_CHECK(!integer_changes("w: 5x", "w: x", 10));
    BOOST_CHECK(!integer_changes("w: 1", "w: 1 ", 10));
    BOOST_CHECK(!integer_changes("a: 1\nb: 2\n", "a: 3\nb: 4\n", 1));
}

BOOST_AUTO_TEST_CASE(resources_are_split_by_their_lines) {
    const std::string text =
        "version_info: \"1\"\nresources:\n# first\n- a: 1\n  b:\n  - 2\n\n- c: 3\n"
        "  # note\ntype_url: x\n";
    const auto layout = scan_resources(text);
    BOOST_REQUIRE(layout);
    BOOST_CHECK_EQUAL(layout->column, 0u);
    BOOST_REQUIRE_EQUAL(layout->items.size(), 2u);
    BOOST_CHECK_EQUAL(text.substr(0, layout->head_end()),
                      "version_info: \"1\"\nresources:\n# first\n");
    BOOST_CHECK_EQUAL(
        text.substr(layout->items[0].begin, layout->items[0].end - layout->items[0].begin),
        "- a: 1\n  b:\n  - 2\n\n");
    BOOST_CHECK_EQUAL(
        text.substr(layout->items[1].begin, layout->items[1].end - layout->items[1].begin),
        "- c: 3\n  # note\n");
    BOOST_CHECK_EQUAL(text.substr(layout->tail_begin()), "type_url: x\n");

    const std::string indented = "resources:  # all\n  - a: 1\n  - b: 2\n";
    const auto second = scan_resources(indented);
    BOOST_REQUIRE(second);
    BOOST_CHECK_EQUAL(second->column, 2u);
    BOOST_REQUIRE_EQUAL(second->items.size(), 2u);
    BOOST_CHECK_EQUAL(second->items[1].end, indented.size());

    // Nothing this simple scan can split: the validator reads them in full.
    BOOST_CHECK(!scan_resources("resources: [{a: 1}]\n"));
    BOOST_CHECK(!scan_resources("{\"resources\": [{\"a\": 1}]}"));
    BOOST_CHECK(!scan_resources("resources:\n"));
    BOOST_CHECK(!scan_resources("resources:\nnext: 1\n"));
    BOOST_CHECK(!scan_resources("resources:\n-\ta: 1\n\t- b\n"));
    BOOST_CHECK(!scan_resources("%YAML 1.2\n---\nresources:\n- a: 1\n"));
    BOOST_CHECK(!scan_resources("\"resources\":\n- a: 1\n"));
    BOOST_CHECK(!scan_resources("  resources:\n  - a: 1\n"));
    BOOST_CHECK(!scan_resources("resources:x\n- a: 1\n"));
}

BOOST_AUTO_TEST_CASE(virtual_hosts_are_split_by_their_lines) {
    const std::string resource =
        "- \"@type\": x\n  name: r\n  virtual_hosts:  # all\n  - name: a\n    domains: [a]\n\n"
        "  - name: b\n    routes:\n    - match: {}\n  validate_clusters: false\n";
    const auto column = crossover::envoy_validate::item_key_column(resource);
    BOOST_REQUIRE(column);
    BOOST_CHECK_EQUAL(*column, 2u);
    const auto hosts = crossover::envoy_validate::scan_list(resource, "virtual_hosts", *column);
    BOOST_REQUIRE(hosts);
    BOOST_CHECK_EQUAL(hosts->column, 2u);
    BOOST_CHECK_EQUAL(resource.substr(hosts->key_line, 16), "  virtual_hosts:");
    BOOST_REQUIRE_EQUAL(hosts->items.size(), 2u);
    BOOST_CHECK_EQUAL(
        resource.substr(hosts->items[0].begin, hosts->items[0].end - hosts->items[0].begin),
        "  - name: a\n    domains: [a]\n\n");
    BOOST_CHECK_EQUAL(resource.substr(hosts->tail_begin()), "  validate_clusters: false\n");

    // Items deeper than the key, and nothing after them.
    const std::string deeper = "- name: r\n  virtual_hosts:\n    - name: a\n    - name: b\n";
    const auto second = crossover::envoy_validate::scan_list(deeper, "virtual_hosts", 2);
    BOOST_REQUIRE(second);
    BOOST_CHECK_EQUAL(second->column, 4u);
    BOOST_REQUIRE_EQUAL(second->items.size(), 2u);
    BOOST_CHECK_EQUAL(second->tail_begin(), deeper.size());

    // Flow style, a key elsewhere, items shallower than the key: no split.
    BOOST_CHECK(!crossover::envoy_validate::scan_list("- name: r\n  virtual_hosts: [{name: a}]\n",
                                                      "virtual_hosts", 2));
    BOOST_CHECK(!crossover::envoy_validate::scan_list("- name: r\n    virtual_hosts:\n    - a\n",
                                                      "virtual_hosts", 2));
    BOOST_CHECK(!crossover::envoy_validate::scan_list("- name: r\n  virtual_hosts:\n- a\n",
                                                      "virtual_hosts", 2));
    BOOST_CHECK(!crossover::envoy_validate::item_key_column("-\n  name: r\n"));
    BOOST_CHECK(!crossover::envoy_validate::item_key_column("- # note\n  name: r\n"));
}

BOOST_AUTO_TEST_SUITE(with_protos, *boost::unit_test::precondition(protos_available))

BOOST_AUTO_TEST_CASE(only_changed_resources_are_read_again) {
    for (const std::string indent : {"", "  "}) {
        Validator v(options());
        Run run{many_route_configs(3), many_clusters(40, -1, "", indent)};
        BOOST_REQUIRE(run.on(v).empty());
        BOOST_CHECK_EQUAL(v.full_checks(), 2u);
        BOOST_CHECK_EQUAL(v.resources_read(), 43u);

        // One cluster changed (not in a number): only it is read.
        run.cds_text = many_clusters(40, 7, cluster("c7", indent, "2.5s"), indent);
        BOOST_CHECK(run.on(v).empty());
        BOOST_CHECK_EQUAL(v.full_checks(), 2u);
        BOOST_CHECK_EQUAL(v.resources_read(), 44u);

        // A cluster added in the middle: the ones after it move, unread.
        std::string added = run.cds_text;
        added.insert(added.rfind('\n', added.find("- \"@type\"", added.find("name: c20"))) + 1,
                     cluster("extra", indent));
        run.cds_text = added;
        BOOST_CHECK(run.on(v).empty());
        BOOST_CHECK_EQUAL(v.full_checks(), 2u);
        BOOST_CHECK_EQUAL(v.resources_read(), 45u);

        // A bad change is still refused, in the words of a full check.
        run.cds_text = many_clusters(40, 7, cluster("c7", indent, "-1s"), indent);
        auto errors = run.on(v);
        BOOST_CHECK(errors == fresh(run));
        BOOST_REQUIRE_EQUAL(errors.size(), 1u);
        BOOST_CHECK_MESSAGE(errors[0].find("cds.yaml: resources[7].connect_timeout") == 0,
                            errors[0]);
        BOOST_CHECK_EQUAL(v.full_checks(), 3u);

        // Valid again: read in full (the last check failed), then one resource.
        run.cds_text = many_clusters(40, -1, "", indent);
        BOOST_CHECK(run.on(v).empty());
        BOOST_CHECK_EQUAL(v.full_checks(), 4u);
        run.cds_text = many_clusters(40, 39, cluster("c39", indent, "3s"), indent);
        BOOST_CHECK(run.on(v).empty());
        BOOST_CHECK_EQUAL(v.full_checks(), 4u);
        const std::size_t read = v.resources_read();

        // A cluster removed that a route (read from the cache) still names.
        std::string removed = run.cds_text;
        const auto item_of = [&](const std::string& name) {  // the line before its name
            const std::size_t name_line = removed.rfind('\n', removed.find("name: " + name)) + 1;
            return removed.rfind('\n', name_line - 2) + 1;
        };
        const std::size_t c2 = item_of("c2");
        removed.erase(c2, item_of("c3") - c2);
        run.cds_text = removed;
        errors = run.on(v);
        BOOST_CHECK_EQUAL(v.resources_read(), read);  // nothing new to read
        BOOST_CHECK(errors == fresh(run));
        BOOST_REQUIRE_EQUAL(errors.size(), 1u);
        BOOST_CHECK_MESSAGE(
            errors[0] ==
                "rds.yaml: resources[2].virtual_hosts[0].routes[0].route.cluster: cluster \"c2\" "
                "is not defined by any Cluster in this pipeline's output",
            errors[0]);

        // A route configuration changed to a cluster no one defines.
        run.cds_text = many_clusters(40, -1, "", indent);
        BOOST_CHECK(run.on(v).empty());
        run.rds_text = many_route_configs(3, 1, "nowhere");
        errors = run.on(v);
        BOOST_CHECK(errors == fresh(run));
        BOOST_REQUIRE_EQUAL(errors.size(), 1u);
        BOOST_CHECK_MESSAGE(errors[0].find("rds.yaml: resources[1].virtual_hosts[0].routes[0]"
                                           ".route.cluster: cluster \"nowhere\"") == 0,
                            errors[0]);
    }
}

BOOST_AUTO_TEST_CASE(changes_beyond_resources) {
    Validator v(options());
    Run run{many_route_configs(2), many_clusters(10)};
    BOOST_REQUIRE(run.on(v).empty());
    BOOST_CHECK_EQUAL(v.full_checks(), 2u);
    BOOST_CHECK_EQUAL(v.resources_read(), 12u);

    // The document's own fields changed (as the route registry's version
    // does on every change): they are checked, the resources are not read.
    std::string head = run.cds_text;
    head.replace(head.find("version_info: \"3\""), 17, "version_info: \"4\"");
    run.cds_text = head;
    BOOST_CHECK(run.on(v).empty());
    BOOST_CHECK_EQUAL(v.full_checks(), 2u);
    BOOST_CHECK_EQUAL(v.resources_read(), 12u);
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"version_info: \"4\"", "version_info: 4"},      // a number, not a string
             {"version_info: \"4\"", "version_inf0: \"4\""},  // unknown field
             {"type_url: type.googleapis.com/envoy.config.cluster.v3.Cluster",
              "type_url: type.googleapis.com/envoy.config.listener.v3.Listener"}}) {
        std::string bad = head;
        bad.replace(bad.find(from), from.size(), to);
        run.cds_text = bad;
        const auto errors = run.on(v);
        BOOST_CHECK_MESSAGE(!errors.empty(), to);
        BOOST_CHECK(errors == fresh(run));
        run.cds_text = head;
        BOOST_CHECK(run.on(v).empty());
    }
    const std::size_t full = v.full_checks();

    // A resource of another type: the one-type rule, worded by the full check.
    std::string listener = run.cds_text;
    listener.insert(listener.find("type_url:"),
                    "- \"@type\": type.googleapis.com/envoy.config.listener.v3.Listener\n"
                    "  name: l\n");
    run.cds_text = listener;
    auto errors = run.on(v);
    BOOST_CHECK_EQUAL(v.full_checks(), full + 1);
    BOOST_CHECK(errors == fresh(run));
    BOOST_CHECK(!errors.empty());

    // A changed resource that does not stand alone (an alias): read in full.
    run.cds_text = many_clusters(10);
    BOOST_CHECK(run.on(v).empty());
    BOOST_CHECK_EQUAL(v.full_checks(), full + 2);
    std::string alias = many_clusters(10, 4, cluster("c4", "", "&t 2s"));
    alias.replace(alias.find("connect_timeout: 1s", alias.find("name: c5")), 19,
                  "connect_timeout: *t");
    run.cds_text = alias;
    BOOST_CHECK(run.on(v).empty());
    BOOST_CHECK_EQUAL(v.full_checks(), full + 3);
    // ... and after it, every change is read in full.
    run.cds_text = many_clusters(10, 4, cluster("c4", "", "5s"));
    BOOST_CHECK(run.on(v).empty());
    BOOST_CHECK_EQUAL(v.full_checks(), full + 4);

    // A resource whose text runs into the next one: read in full, same words.
    run.cds_text = many_clusters(10, 3, cluster("\"c3\n- x\"", "", "2s"));
    errors = run.on(v);
    BOOST_CHECK(errors == fresh(run));
}

BOOST_AUTO_TEST_CASE(only_changed_virtual_hosts_are_read_again) {
    Validator v(options());
    Run run{registry_rds(60, "1"), many_clusters(62)};
    BOOST_REQUIRE(run.on(v).empty());
    BOOST_CHECK_EQUAL(v.full_checks(), 2u);
    BOOST_CHECK_EQUAL(v.resources_read(), 63u);
    BOOST_CHECK_EQUAL(v.virtual_hosts_read(), 0u);

    // One route changed (and the version with it), as the registry writes it:
    // only that virtual host is read.
    run.rds_text = registry_rds(60, "2", 7, registry_host("h7", "c7", "        timeout: 5s\n"));
    BOOST_CHECK(run.on(v).empty());
    BOOST_CHECK_EQUAL(v.full_checks(), 2u);
    BOOST_CHECK_EQUAL(v.resources_read(), 63u);
    BOOST_CHECK_EQUAL(v.virtual_hosts_read(), 1u);

    // A route added in the middle: the virtual hosts after it move, unread.
    std::string added = run.rds_text;
    added.insert(added.find("  - name: \"h20\""), registry_host("h19b", "c60"));
    run.rds_text = added;
    BOOST_CHECK(run.on(v).empty());
    BOOST_CHECK_EQUAL(v.full_checks(), 2u);
    BOOST_CHECK_EQUAL(v.virtual_hosts_read(), 2u);

    // A cluster removed that a kept virtual host (now at index 41) still
    // names: found from what was kept, at the virtual host's new place.
    const std::string cds_before = run.cds_text;
    std::string removed = run.cds_text;
    const std::size_t c40 = removed.rfind("- \"@type\"", removed.find("name: c40\n"));
    removed.erase(c40, removed.find("- \"@type\"", c40 + 1) - c40);
    run.cds_text = removed;
    auto errors = run.on(v);
    BOOST_CHECK_EQUAL(v.full_checks(), 2u);
    BOOST_CHECK(errors == fresh(run));
    BOOST_REQUIRE_EQUAL(errors.size(), 1u);
    BOOST_CHECK_MESSAGE(
        errors[0] ==
            "rds.yaml: resources[0].virtual_hosts[41].routes[0].route.cluster: cluster \"c40\" "
            "is not defined by any Cluster in this pipeline's output",
        errors[0]);
    run.cds_text = cds_before;
    BOOST_CHECK(run.on(v).empty());

    // A route removed: nothing to read.
    std::string gone = run.rds_text;
    const std::size_t h3 = gone.find("  - name: \"h3\"");
    gone.erase(h3, gone.find("  - name: \"h4\"") - h3);
    run.rds_text = gone;
    BOOST_CHECK(run.on(v).empty());
    BOOST_CHECK_EQUAL(v.full_checks(), 2u);
    BOOST_CHECK_EQUAL(v.virtual_hosts_read(), 2u);

    // The RouteConfiguration's other fields changed: the resource is read whole.
    const std::size_t read = v.resources_read();
    std::string renamed = run.rds_text;
    renamed.replace(renamed.find("name: \"local\""), 13, "name: \"other\"");
    run.rds_text = renamed;
    BOOST_CHECK(run.on(v).empty());
    BOOST_CHECK_EQUAL(v.full_checks(), 2u);
    BOOST_CHECK_EQUAL(v.resources_read(), read + 1);
    BOOST_CHECK_EQUAL(v.virtual_hosts_read(), 2u);
    // ... and then its virtual hosts one by one again.
    std::string later = run.rds_text;
    later.replace(later.find("cluster: \"c50\""), 14, "cluster: \"c61\"");
    run.rds_text = later;
    BOOST_CHECK(run.on(v).empty());
    BOOST_CHECK_EQUAL(v.resources_read(), read + 1);
    BOOST_CHECK_EQUAL(v.virtual_hosts_read(), 3u);
}

BOOST_AUTO_TEST_CASE(errors_in_a_changed_virtual_host_read_as_a_full_check_says) {
    Validator v(options());
    Run run{registry_rds(30, "1"), many_clusters(30)};
    BOOST_REQUIRE(run.on(v).empty());

    // A route to a cluster no one defines: the error across documents, from
    // the one virtual host read, with its path.
    run.rds_text = registry_rds(30, "2", 12, registry_host("h12", "nowhere"));
    auto errors = run.on(v);
    BOOST_CHECK_EQUAL(v.full_checks(), 2u);
    BOOST_CHECK_EQUAL(v.virtual_hosts_read(), 1u);
    BOOST_CHECK(errors == fresh(run));
    BOOST_REQUIRE_EQUAL(errors.size(), 1u);
    BOOST_CHECK_MESSAGE(
        errors[0] ==
            "rds.yaml: resources[0].virtual_hosts[12].routes[0].route.cluster: cluster "
            "\"nowhere\" is not defined by any Cluster in this pipeline's output",
        errors[0]);
    run.rds_text = registry_rds(30, "3");
    BOOST_CHECK(run.on(v).empty());
    BOOST_CHECK_EQUAL(v.full_checks(), 2u);

    // A problem inside a changed virtual host: checked in full, in its words.
    run.rds_text = registry_rds(30, "4", 21, registry_host("h21", "c21", "        retry: 1\n"));
    errors = run.on(v);
    BOOST_CHECK_EQUAL(v.full_checks(), 3u);
    BOOST_CHECK(errors == fresh(run));
    BOOST_REQUIRE(!errors.empty());
    BOOST_CHECK_MESSAGE(
        errors[0].find("rds.yaml: resources[0].virtual_hosts[21].routes[0].route") == 0, errors[0]);

    // Not YAML in a changed virtual host: the line is the file's.
    run.rds_text = registry_rds(30, "5");
    BOOST_CHECK(run.on(v).empty());
    const std::string broken = registry_rds(30, "6", 17, registry_host("h17", "c17\"x"));
    run.rds_text = broken;
    errors = run.on(v);
    BOOST_CHECK_EQUAL(v.full_checks(), 5u);
    BOOST_CHECK(errors == fresh(run));
    BOOST_REQUIRE_EQUAL(errors.size(), 1u);
    const std::string line = "line " + std::to_string(line_of(broken, broken.find("c17\"x"))) + ":";
    BOOST_CHECK_MESSAGE(errors[0].find("rds.yaml: (document): not valid YAML: " + line) == 0,
                        errors[0] + " (expected " + line + ")");

    // Valid again, then weights only after a virtual host was read on its
    // own: the numbers kept for the others moved with their text.
    run.rds_text = rds(40, 10);
    run.cds_text = cds("9898");
    BOOST_CHECK(run.on(v).empty());
    const std::size_t full = v.full_checks();
    std::string one = rds(40, 10);
    one.replace(one.find("name: app3\n"), 11, "name: app3-renamed\n");
    run.rds_text = one;
    BOOST_CHECK(run.on(v).empty());
    std::string weights = one;
    for (std::size_t at = weights.find("weight: 10}"); at != std::string::npos;
         at = weights.find("weight: 10}", at)) {
        weights.replace(at, 11, "weight: 5}");
    }
    run.rds_text = weights;
    BOOST_CHECK(run.on(v).empty());
    BOOST_CHECK_EQUAL(v.full_checks(), full);
    std::string bad = weights;
    bad.replace(bad.rfind("weight: 5}"), 10, "weight: 4294967296}");
    run.rds_text = bad;
    errors = run.on(v);
    BOOST_CHECK_EQUAL(v.full_checks(), full + 1);
    BOOST_CHECK(errors == fresh(run));
    BOOST_REQUIRE_EQUAL(errors.size(), 1u);
    BOOST_CHECK_MESSAGE(errors[0].find("resources[0].virtual_hosts[39]") != std::string::npos,
                        errors[0]);
}

BOOST_AUTO_TEST_CASE(weights_only_changes_are_checked_without_reading_again) {
    Validator v(options());
    Run run{rds(50, 10), cds("9898")};
    BOOST_REQUIRE(run.on(v).empty());
    BOOST_CHECK_EQUAL(v.full_checks(), 2u);
    for (int w : {20, 5, 50, 0, 10}) {  // lengths change too: every offset after moves
        run.rds_text = rds(50, w);
        BOOST_CHECK(run.on(v).empty());
    }
    BOOST_CHECK_EQUAL(v.full_checks(), 2u);

    // A number beyond its type: the full check words the error, as before.
    std::string bad = rds(50, 10);
    bad.replace(bad.rfind("weight: 10"), 10, "weight: 4294967296");
    run.rds_text = bad;
    const auto errors = run.on(v);
    BOOST_CHECK_EQUAL(v.full_checks(), 3u);
    BOOST_REQUIRE_EQUAL(errors.size(), 1u);
    BOOST_CHECK(errors == fresh(run));
    BOOST_CHECK_MESSAGE(errors[0].find("out of range for uint32") != std::string::npos, errors[0]);

    // Back to valid: the last full check found errors, so it is read again.
    run.rds_text = rds(50, 30);
    BOOST_CHECK(run.on(v).empty());
    BOOST_CHECK_EQUAL(v.full_checks(), 4u);
}

BOOST_AUTO_TEST_CASE(shared_text_is_kept_instead_of_a_copy) {
    // The caller's text is what the next run is compared with: the validator
    // holds that pointer (no copy) and lets go of it once the text changes.
    Validator v(options());
    const std::string name = "rds.yaml";
    auto first = std::make_shared<const std::string>(rds(20, 10));
    BOOST_REQUIRE(v.validate({{&name, first.get(), "", first}}).empty());
    BOOST_CHECK_EQUAL(first.use_count(), 2);

    // The same text in another buffer: still valid, the newer buffer is kept.
    auto same = std::make_shared<const std::string>(*first);
    BOOST_CHECK(v.validate({{&name, same.get(), "", same}}).empty());
    BOOST_CHECK_EQUAL(first.use_count(), 1);
    BOOST_CHECK_EQUAL(same.use_count(), 2);

    // Weights changed: re-checked from the kept text, then the new one is kept.
    auto weights = std::make_shared<const std::string>(rds(20, 35));
    BOOST_CHECK(v.validate({{&name, weights.get(), "", weights}}).empty());
    BOOST_CHECK_EQUAL(v.full_checks(), 1u);
    BOOST_CHECK_EQUAL(same.use_count(), 1);
    BOOST_CHECK_EQUAL(weights.use_count(), 2);

    // A change read in full, then an invalid number: the verdict follows the text.
    auto more = std::make_shared<const std::string>(rds(21, 35));
    BOOST_CHECK(v.validate({{&name, more.get(), "", more}}).empty());
    std::string bad_text = rds(21, 35);
    bad_text.replace(bad_text.rfind("weight: 35"), 10, "weight: 4294967296");
    auto bad = std::make_shared<const std::string>(bad_text);
    BOOST_CHECK_EQUAL(v.validate({{&name, bad.get(), "", bad}}).size(), 1u);
    BOOST_CHECK_EQUAL(weights.use_count(), 1);
    BOOST_CHECK_EQUAL(more.use_count(), 1);

    // Without a shared pointer the validator keeps a copy of its own.
    const std::string copied = rds(20, 10);
    BOOST_CHECK(v.validate({{&name, &copied, ""}}).empty());
    BOOST_CHECK_EQUAL(bad.use_count(), 1);
    BOOST_CHECK(v.validate({}).empty());  // forgets it
}

BOOST_AUTO_TEST_CASE(scanner_and_yaml_cpp_read_alike) {
    // Each document is checked twice by fresh validators: as written (read
    // by the document scanner) and with a document end marker after it,
    // which the scanner refuses, so yaml-cpp reads it. Both must say the same.
    struct Case {
        std::string host, match, route;
    };
    const std::vector<Case> cases = {
        {"", "", ""},
        {"", "", "        timeout: 15\n"},
        {"", "", "        timeout: yes\n"},
        {"", "", "        timeout: \"15\"\n"},
        {"    request_headers_to_add:\n    - header: {key: x, value: on}\n", "", ""},
        {"    request_headers_to_add:\n    - header: {key: x, value: 1.5e3}\n", "", ""},
        {"", "", "        retry_policy: {num_retries: 0x10}\n"},
        {"", "", "        retry_policy: {num_retries: 010}\n"},
        {"", "", "        retry_policy: {num_retries: -1}\n"},
        {"", "", "        retry_policy: {num_retries: 1e3}\n"},
        {"", "", "        retry_policy: {num_retries: .inf}\n"},
        {"", "", "        retry_policy: {num_retries: +5}\n"},
        {"", "", "        retry_policy: {num_retries: \"7\"}\n"},
        {"", "", "        retry_policy: {num_retries: 99999999999999999999}\n"},
        {"", "", "        retry_policy: {num_retries: ~}\n"},
        {"", "", "        priority: 1\n"},
        {"", "", "        priority: 7\n"},
        {"", "", "        priority: HIGH\n"},
        {"", "", "        priority: LOW\n"},
        {"", ", case_sensitive: Y", ""},
        {"", ", case_sensitive: tRUE", ""},
        {"", ", case_sensitive: Off", ""},
        {"", ", case_sensitive: 1", ""},
        {"", ", path: \"/a\"", ""},
        {"", "",
         "      metadata: {filter_metadata: {x: {a: 1, b: [true, \"s\", ~, 1.5, 5000000000, "
         ".nan, Yes, 0x1F, -0, 007]}}}\n"},
        {"", "", "      metadata: {filter_metadata: {x: [1]}}\n"},
        {"    domains_typo: [\"*\"]\n", "", ""},
        {"", "", "        cluster_header: h\n"},
        {"", "", "        weighted_clusters: {clusters: [{name: a, weight: 4294967296}]}\n"},
        {"", "", "        weighted_clusters: {clusters: [{name: a, weight: NaN}]}\n"},
    };
    std::size_t with_errors = 0;
    for (const Case& c : cases) {
        const std::string text =
            "resources:\n"
            "- \"@type\": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n"
            "  name: r\n  virtual_hosts:\n  - name: v\n    domains: [\"*\"]\n" +
            c.host + "    routes:\n    - match: {prefix: \"/\"" + c.match +
            "}\n      route:\n        cluster: c\n" + c.route;
        const std::string refused = text + "...\n";
        BOOST_TEST_CONTEXT(text) {
            BOOST_CHECK(crossover::xds::scan_document(text).accepted);
            BOOST_CHECK(!crossover::xds::scan_document(refused).accepted);
            const std::string name = "rds.yaml";
            Validator scanned(options());
            Validator read_by_yaml_cpp(options());
            const auto a = scanned.validate({{&name, &text, ""}});
            const auto b = read_by_yaml_cpp.validate({{&name, &refused, ""}});
            BOOST_CHECK_EQUAL_COLLECTIONS(a.begin(), a.end(), b.begin(), b.end());
            with_errors += a.empty() ? 0U : 1U;
        }
    }
    // The cases are meant to cover both verdicts.
    BOOST_CHECK_GT(with_errors, 10u);
    BOOST_CHECK_LT(with_errors, cases.size() - 5);
}

BOOST_AUTO_TEST_CASE(duplicate_virtual_host_names_and_domains_are_refused) {
    // A virtual host routing `domain` to c0, named `name`.
    const auto host = [](const std::string& name, const std::string& domain) {
        return "  - name: \"" + name + "\"\n    domains:\n    - \"" + domain +
               "\"\n    routes:\n    - match:\n        prefix: \"/\"\n      route:\n"
               "        cluster: \"c0\"\n";
    };
    const std::string domain_error =
        "rds.yaml: resources[0].virtual_hosts[7].domains[0]: domain \"H3.Example\" of virtual "
        "host \"x\" is also a domain of virtual host \"h3\" (virtual_hosts[3]): Envoy refuses a "
        "domain given twice in one RouteConfiguration";
    const std::string name_error =
        "rds.yaml: resources[0].virtual_hosts[7].name: virtual host name \"h3\" is also the name "
        "of virtual_hosts[3]: Envoy refuses two virtual hosts with one name";
    {
        // In a full check: a domain (compared in lower case) and a name.
        Run run{registry_rds(12, "1", 7, host("x", "H3.Example")), many_clusters(12)};
        BOOST_CHECK(run.on(*std::make_unique<Validator>(options())) ==
                    std::vector<std::string>{domain_error});
        run.rds_text = registry_rds(12, "1", 7, host("h3", "other.example"));
        BOOST_CHECK(fresh(run) == std::vector<std::string>{name_error});
        // The same domain in two RouteConfigurations is fine.
        std::string two = registry_rds(3, "1");
        two += two.substr(two.find("- \"@type\""));
        two.replace(two.rfind("name: \"local\""), 13, "name: \"other\"");
        run.rds_text = two;
        BOOST_CHECK(fresh(run).empty());
    }
    // In the re-check of changed virtual hosts: the same words, from the full
    // check it falls back to.
    Validator v(options());
    Run run{registry_rds(12, "1"), many_clusters(12)};
    BOOST_REQUIRE(run.on(v).empty());
    run.rds_text = registry_rds(12, "2", 7, host("x", "H3.Example"));
    auto errors = run.on(v);
    BOOST_CHECK(errors == std::vector<std::string>{domain_error});
    BOOST_CHECK(errors == fresh(run));
    run.rds_text = registry_rds(12, "3");
    BOOST_CHECK(run.on(v).empty());
    const std::size_t read = v.virtual_hosts_read();
    run.rds_text = registry_rds(12, "4", 7, host("h3", "other.example"));
    errors = run.on(v);
    BOOST_CHECK(errors == std::vector<std::string>{name_error});
    BOOST_CHECK(errors == fresh(run));
    BOOST_CHECK_GT(v.virtual_hosts_read(), read);  // it was read on its own first
    // A distinct host in its place passes, read on its own.
    run.rds_text = registry_rds(12, "5", 7, host("h7", "new.example"));
    BOOST_CHECK(run.on(v).empty());
}

BOOST_AUTO_TEST_CASE(numbers_against_their_rules) {
    Validator v(options());
    Run run{rds(3, 10), cds("9898")};
    BOOST_REQUIRE(run.on(v).empty());
    run.cds_text = cds("8080");
    BOOST_CHECK(run.on(v).empty());
    BOOST_CHECK_EQUAL(v.full_checks(), 2u);
    run.cds_text = cds("70000");  // socket_address.port_value: validate.rules uint32.lte 65535
    const auto errors = run.on(v);
    BOOST_CHECK_EQUAL(v.full_checks(), 3u);
    BOOST_REQUIRE(!errors.empty());
    BOOST_CHECK(errors == fresh(run));
    BOOST_CHECK_MESSAGE(
        errors[0].find("70000 must be <= 65535 (validate.rules uint32.lte)") != std::string::npos,
        errors[0]);
}

BOOST_AUTO_TEST_CASE(other_changes_are_read_in_full) {
    Validator v(options());
    Run run{rds(3, 10), cds("9898")};
    BOOST_REQUIRE(run.on(v).empty());
    BOOST_CHECK_EQUAL(v.resources_read(), 3u);
    // A number in a comment, a leading zero, a name: no shortcut (the
    // virtual host that changed is read again, on its own).
    std::string comment = run.rds_text;
    comment.replace(comment.find("canary 7"), 8, "canary 8");
    run.rds_text = comment;
    BOOST_CHECK(run.on(v).empty());
    BOOST_CHECK_EQUAL(v.resources_read(), 3u);
    BOOST_CHECK_EQUAL(v.virtual_hosts_read(), 1u);
    std::string zero = run.rds_text;
    zero.replace(zero.find("weight: 90"), 10, "weight: 090");
    run.rds_text = zero;
    BOOST_CHECK(run.on(v) == fresh(run));
    BOOST_CHECK_EQUAL(v.resources_read(), 3u);
    BOOST_CHECK_EQUAL(v.virtual_hosts_read(), 2u);
    run.rds_text = rds(3, 10);
    run.on(v);
    std::string name = run.rds_text;
    name.replace(name.find("app-canary"), 10, "app-canarz");
    run.rds_text = name;
    const auto errors = run.on(v);
    BOOST_CHECK(errors == fresh(run));
    BOOST_REQUIRE(!errors.empty());
    BOOST_CHECK_MESSAGE(
        errors[0].find("cluster \"app-canarz\" is not defined") != std::string::npos, errors[0]);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(virtual_hosts_read_one_at_a_time_say_what_the_whole_walk_says) {
    // A full check reads and walks a RouteConfiguration's virtual hosts one
    // at a time: the findings of each, the names compared across them and
    // the clusters they name come out in the order of a walk over the whole
    // message (the duplicate first, then each host's own, then the references).
    const std::string cds =
        "version_info: \"1\"\nresources:\n"
        "- \"@type\": type.googleapis.com/envoy.config.cluster.v3.Cluster\n"
        "  name: c0\n  connect_timeout: 1s\n";
    const std::string two_route_configs =
        "version_info: \"1\"\nresources:\n"
        "- \"@type\": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n"
        "  name: x\n"
        "  virtual_hosts: [{name: a, domains: [\"*\"], routes: [{match: {prefix: \"/\"}, route: "
        "{cluster: zz}}]}, {name: a, domains: [b], typed_per_filter_config: {f: {\"@type\": "
        "type.googleapis.com/google.protobuf.Duration, value: 1s}}}]\n"
        "- \"@type\": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n"
        "  name: \"y\"\n"
        "  virtual_hosts:\n"
        "  - {name: a, domains: [\"*\"], routes: [{match: {prefix: \"/\"}, route: {cluster: "
        "zz2}}]}\n"
        "  - name: \"\"\n"
        "    domains: [q]\n"
        "    routes:\n"
        "    - match: {}\n"
        "      route: {cluster: c0}\n";
    Run run{two_route_configs, cds};
    BOOST_CHECK(fresh(run) ==
                (std::vector<std::string>{
                    "rds.yaml: resources[0].virtual_hosts[1].name: virtual host name \"a\" is also "
                    "the name of virtual_hosts[0]: Envoy refuses two virtual hosts with one name",
                    "rds.yaml: resources[1].virtual_hosts[1].name: length 0 is less than 1 "
                    "(validate.rules string.min_len)",
                    "rds.yaml: resources[1].virtual_hosts[1].routes[0].match: one of \"prefix\", "
                    "\"path\", \"safe_regex\", \"connect_matcher\", \"path_separated_prefix\", "
                    "\"path_match_policy\" is required (validate.required on oneof "
                    "\"path_specifier\")",
                    "rds.yaml: resources[0].virtual_hosts[0].routes[0].route.cluster: cluster "
                    "\"zz\" is not defined by any Cluster in this pipeline's output",
                    "rds.yaml: resources[1].virtual_hosts[0].routes[0].route.cluster: cluster "
                    "\"zz2\" is not defined by any Cluster in this pipeline's output"}));
    // A problem read in any host: only the problems, as before the walk.
    run.rds_text = two_route_configs;
    run.rds_text.replace(run.rds_text.find("    domains: [q]"), 16, "    domains: [q]\n    x: 1");
    BOOST_CHECK(fresh(run) == std::vector<std::string>{
                                  "rds.yaml: resources[1].virtual_hosts[1]: unknown field \"x\" "
                                  "in envoy.config.route.v3.VirtualHost"});
    // Valid hosts, one at a time, leave nothing behind for the next check.
    Validator v(options());
    run.rds_text =
        "version_info: \"1\"\nresources:\n"
        "- \"@type\": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n"
        "  name: x\n  virtual_hosts:\n"
        "  - {name: a, domains: [a], routes: [{match: {prefix: \"/\"}, route: {cluster: c0}}]}\n"
        "  - {name: b, domains: [b], routes: [{match: {prefix: \"/\"}, route: {cluster: c0}}]}\n";
    BOOST_CHECK(run.on(v).empty());
    run.rds_name = "other.yaml";
    BOOST_CHECK(run.on(v).empty());
}
