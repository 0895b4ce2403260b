// The validator's re-check of documents whose text changed only in numbers:
// the same verdict and the same messages as a full check, without reading
// the document again.
#define BOOST_TEST_MODULE envoy_validator
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "../../../tests/support/process.h"
#include "envoy_validator.h"
#include "integer_diff.h"

namespace fs = std::filesystem;
using crossover::envoy_validate::DocumentView;
using crossover::envoy_validate::integer_changes;
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

BOOST_AUTO_TEST_SUITE(with_protos, *boost::unit_test::precondition(protos_available))

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
    // A number in a comment, a leading zero, a name: no shortcut.
    std::string comment = run.rds_text;
    comment.replace(comment.find("canary 7"), 8, "canary 8");
    run.rds_text = comment;
    BOOST_CHECK(run.on(v).empty());
    BOOST_CHECK_EQUAL(v.full_checks(), 3u);
    std::string zero = run.rds_text;
    zero.replace(zero.find("weight: 90"), 10, "weight: 090");
    run.rds_text = zero;
    BOOST_CHECK(run.on(v) == fresh(run));
    BOOST_CHECK_EQUAL(v.full_checks(), 4u);
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
