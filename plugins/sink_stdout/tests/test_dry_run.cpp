#define BOOST_TEST_MODULE sink_stdout_e2e
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "process.h"

namespace fs = std::filesystem;
using crossover::test::TempDir;

BOOST_AUTO_TEST_CASE(dry_run_prints_every_document_and_writes_nothing) {
    TempDir tmp;
    const std::string fixtures = crossover::test::fixtures_dir();
    fs::copy_file(fixtures + "/manifests/envoy-xds.configmap.yaml", tmp / "manifest.yaml");
    {
        std::ofstream p(tmp / "pipeline.yaml");
        p << "sources:\n  cm: {type: file, paths: [manifest.yaml]}\n"
             "sinks:\n  envoy: {type: symlink, inputs: [cm], dir: out}\n";
    }
    const auto r = crossover::test::run(
        {crossover::test::crossover_bin(), "run", tmp / "pipeline.yaml", "--onetime", "--dry-run"},
        tmp.path());
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    const std::string expected =
        "--- # cds.yaml\n" + crossover::test::read_text(fixtures + "/xds/cds.yaml") +
        "--- # lds.yaml\n" + crossover::test::read_text(fixtures + "/xds/lds.yaml") +
        "--- # rds.yaml\n" + crossover::test::read_text(fixtures + "/xds/rds.yaml");
    BOOST_TEST(r.out == expected);
    BOOST_TEST(!fs::exists(tmp / "out"));
}
