// envoy_validate in a real pipeline run by the crossover binary:
// file source -> smi_merge -> envoy_validate -> symlink sink.
#define BOOST_TEST_MODULE envoy_validate_e2e
#include <csignal>
#include <filesystem>
#include <iostream>
#include <string>

#include <boost/test/unit_test.hpp>

#include "../../../tests/support/process.h"

using namespace crossover::test;
namespace fs = std::filesystem;

namespace {

boost::test_tools::assertion_result protos_available(boost::unit_test::test_unit_id) {
    const fs::path dir = fs::path(build_dir()) / "share/crossover/envoy-protos";
    boost::test_tools::assertion_result r(fs::exists(dir / "VERSION"));
    r.message() << "Envoy protos absent from " << dir
                << " (npm unavailable at configure time?): run `make envoy_protos`";
    return r;
}

struct SkipNotice {
    SkipNotice() {
        const fs::path dir = fs::path(build_dir()) / "share/crossover/envoy-protos";
        if (!fs::exists(dir / "VERSION")) {
            std::cout << "SKIPPED: Envoy protos absent from " << dir
                      << " (npm unavailable at configure time?): run `make envoy_protos`"
                      << std::endl;
        }
    }
};
BOOST_TEST_GLOBAL_FIXTURE(SkipNotice);

std::string pipeline(const TempDir& t, bool watch) {
    return std::string(
               "engine: {debounce: 5ms, max_delay: 100ms}\n"
               "sources:\n"
               "  xds: {type: file, paths: [in.yaml, split.yaml], watch: ") +
           (watch ? "true" : "false") +
           "}\n"
           "transforms:\n"
           "  weighted: {type: smi_merge, inputs: [xds]}\n"
           "  checked: {type: envoy_validate, inputs: [weighted]}\n"
           "sinks:\n"
           "  envoy: {type: symlink, inputs: [checked], dir: " +
           t.path() + "/out, fsync: false}\n";
}

std::string configmap() {
    return read_text(fixtures_dir() + "/manifests/envoy-xds.configmap.yaml");
}

// The ConfigMap with a misspelled field in cds.yaml (smi_merge does not read
// clusters, so only envoy_validate can catch it).
std::string configmap_with_typo() {
    std::string cm = configmap();
    const std::string good = "lb_policy: ROUND_ROBIN";
    cm.replace(cm.find(good), good.size(), "lb_polcy: ROUND_ROBIN");
    return cm;
}

void setup(const TempDir& t, bool watch) {
    write_text(t / "p.yaml", pipeline(t, watch));
    write_text(t / "in.yaml", configmap());
    write_text(t / "split.yaml", read_text(fixtures_dir() + "/trafficsplit/flagger-v1alpha1.yaml"));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(e2e, *boost::unit_test::precondition(protos_available))

BOOST_AUTO_TEST_CASE(valid_config_is_written) {
    TempDir t;
    setup(t, false);
    const auto r = run({crossover_bin(), "run", t / "p.yaml", "--onetime"}, t.path());
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    const std::string rds = read_text(t / "out/current/rds.yaml");
    BOOST_CHECK_MESSAGE(rds.find("weight: 95") != std::string::npos, rds);
    BOOST_CHECK(fs::exists(t / "out/current/cds.yaml"));
    BOOST_CHECK(fs::exists(t / "out/current/lds.yaml"));
}

BOOST_AUTO_TEST_CASE(invalid_config_never_reaches_the_output) {
    TempDir t;
    setup(t, false);
    write_text(t / "in.yaml", configmap_with_typo());
    const auto r = run({crossover_bin(), "run", t / "p.yaml", "--onetime"}, t.path());
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_MESSAGE(r.err.find("cds.yaml: resources[0]: unknown field \"lb_polcy\" in "
                                   "envoy.config.cluster.v3.Cluster") != std::string::npos,
                        r.err);
    BOOST_CHECK_MESSAGE(r.err.find("[ConfigMap test/envoy-xds]") != std::string::npos, r.err);
    BOOST_CHECK(!fs::exists(t / "out/current"));
}

// A one-time run checks its route types beforehand on a document of its own (the warm-up);
// errors in exactly those types are still found, and that document is never mentioned.
BOOST_AUTO_TEST_CASE(onetime_finds_route_errors_after_its_warm_up) {
    TempDir t;
    setup(t, false);
    std::string cm = configmap();
    const std::string good = "timeout: 15s";
    cm.replace(cm.find(good), good.size(), "timeout: fifteen");
    write_text(t / "in.yaml", cm);
    const auto r = run({crossover_bin(), "run", t / "p.yaml", "--onetime"}, t.path());
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_MESSAGE(r.err.find("rds.yaml: resources[0]") != std::string::npos &&
                            r.err.find("timeout") != std::string::npos,
                        r.err);
    BOOST_CHECK_MESSAGE(r.err.find("warm") == std::string::npos, r.err);
    BOOST_CHECK(!fs::exists(t / "out/current"));
}

BOOST_AUTO_TEST_CASE(last_good_files_stay_while_the_input_is_invalid) {
    TempDir t;
    setup(t, true);
    Process p({crossover_bin(), "run", t / "p.yaml", "--listen", "off"}, t.path());
    BOOST_REQUIRE_MESSAGE(eventually([&] { return fs::exists(t / "out/current/rds.yaml"); }),
                          p.err());
    const std::string good = read_text(t / "out/current/cds.yaml");

    write_text(t / "in.yaml", configmap_with_typo());
    BOOST_CHECK_MESSAGE(
        eventually([&] { return p.err().find("unknown field \"lb_polcy\"") != std::string::npos; }),
        p.err());
    BOOST_CHECK_EQUAL(read_text(t / "out/current/cds.yaml"), good);

    // A fixed input goes through again: here with another weight.
    std::string split = read_text(fixtures_dir() + "/trafficsplit/flagger-v1alpha1.yaml");
    split.replace(split.find("weight: \"5\""), 11, "weight: \"10\"");
    split.replace(split.find("weight: \"95\""), 12, "weight: \"90\"");
    write_text(t / "split.yaml", split);
    write_text(t / "in.yaml", configmap());
    BOOST_CHECK_MESSAGE(eventually([&] {
                            return read_text(t / "out/current/rds.yaml").find("weight: 90") !=
                                   std::string::npos;
                        }),
                        p.err());
    p.signal(SIGTERM);
    BOOST_CHECK_EQUAL(p.wait(std::chrono::seconds(20)), 0);
}

BOOST_AUTO_TEST_SUITE_END()
