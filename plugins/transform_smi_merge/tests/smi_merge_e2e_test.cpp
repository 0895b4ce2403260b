// The smi_merge transform through the real binary: file source (ConfigMap +
// TrafficSplit manifests) -> smi_merge -> recording sink, stepped like a canary.
#define BOOST_TEST_MODULE smi_merge_e2e
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <memory>
#include <string>

#include "../../../tests/support/manifests.h"
#include "../../../tests/support/process.h"

using namespace crossover::test;

namespace {

// Flagger's order: the canary backend first.
std::string split_manifest(const std::string& version, const std::string& primary,
                           const std::string& canary) {
    return trafficsplit_manifest(version, primary, canary, true);
}

struct Pipeline {
    TempDir dir;
    std::unique_ptr<Process> proc;

    explicit Pipeline(const std::string& first_split, const std::string& mode = "") {
        std::filesystem::copy_file(fixtures_dir() + "/manifests/envoy-xds.configmap.yaml",
                                   dir / "envoy-xds.configmap.yaml");
        write_text(dir / "split.yaml", first_split);
        write_text(dir / "p.yaml",
                   "plugin_dirs: [" + build_dir() +
                       "/test-plugins/good]\n"
                       "engine: {debounce: 2ms, max_delay: 50ms}\n"
                       "sources:\n"
                       "  manifests: {type: file, paths: [envoy-xds.configmap.yaml, split.yaml], "
                       "watch: true}\n"
                       "transforms:\n"
                       "  weighted: {type: smi_merge, inputs: [manifests]}\n"
                       "sinks:\n"
                       "  out: {type: test_record, inputs: [weighted], path: " +
                       dir.path() + "/record.txt}\n");
        if (mode == "watch") {
            proc = std::make_unique<Process>(
                std::vector<std::string>{crossover_bin(), "run", dir / "p.yaml", "--listen", "off"},
                dir.path());
        }
    }
    [[nodiscard]] std::string record() const { return read_text(dir / "record.txt"); }
    // The weights of the RDS in the last write, in file order.
    [[nodiscard]] bool has_weights(const std::string& primary, const std::string& canary) const {
        const std::string r = record();
        return r.find("          - name: podinfo-primary\n            weight: " + primary + "\n") !=
                   std::string::npos &&
               r.find("          - name: podinfo-canary\n            weight: " + canary + "\n") !=
                   std::string::npos;
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(onetime_merges_the_fixture_split) {
    Pipeline p(read_text(fixtures_dir() + "/trafficsplit/flagger-v1alpha1.yaml"));
    const Result r = run({crossover_bin(), "run", p.dir / "p.yaml", "--onetime"}, p.dir.path());
    BOOST_TEST(r.code == 0, r.err);
    BOOST_TEST(p.has_weights("95", "5"), p.record());
    // Comments of the ConfigMap's RDS survive; CDS passes through.
    BOOST_TEST(p.record().find("# Envoy v3 RDS as a file-based DiscoveryResponse.") !=
               std::string::npos);
    BOOST_TEST(p.record().find("== cds.yaml") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(onetime_refuses_a_negative_weight) {
    Pipeline p(read_text(fixtures_dir() + "/invalid/trafficsplit-negative.yaml"));
    const Result r = run({crossover_bin(), "run", p.dir / "p.yaml", "--onetime"}, p.dir.path());
    BOOST_TEST(r.code != 0);
    BOOST_TEST(
        r.err.find("TrafficSplit test/podinfo: spec.backends[1].weight: negative weight -10") !=
            std::string::npos,
        r.err);
    BOOST_TEST(!std::filesystem::exists(p.dir / "record.txt"));
}

BOOST_AUTO_TEST_CASE(canary_steps_reach_the_output) {
    for (const std::string version : {"v1alpha1", "v1alpha3"}) {
        BOOST_TEST_CONTEXT(version) {
            Pipeline p(split_manifest(version, "100", "0"), "watch");
            BOOST_REQUIRE_MESSAGE(eventually([&] { return p.has_weights("100", "0"); }),
                                  p.proc->err());
            for (int step = 5; step <= 50; step += 5) {
                const std::string primary = std::to_string(100 - step);
                const std::string canary = std::to_string(step);
                write_text(p.dir / "split.yaml", split_manifest(version, primary, canary));
                BOOST_TEST(eventually([&] { return p.has_weights(primary, canary); }),
                           "step " << step << ": " << p.record() << p.proc->err());
            }
            // A bad step is refused; the last good output stays.
            write_text(p.dir / "split.yaml", split_manifest(version, "110", "-10"));
            BOOST_TEST(eventually([&] {
                           return p.proc->err().find("negative weight -10") != std::string::npos;
                       }),
                       p.proc->err());
            BOOST_TEST(p.has_weights("50", "50"));
            // Promotion, then rollback.
            write_text(p.dir / "split.yaml", split_manifest(version, "100", "0"));
            BOOST_TEST(eventually([&] { return p.has_weights("100", "0"); }), p.proc->err());
            write_text(p.dir / "split.yaml", split_manifest(version, "0", "100"));
            BOOST_TEST(eventually([&] { return p.has_weights("0", "100"); }), p.proc->err());
            p.proc->signal(SIGTERM);
            BOOST_TEST(p.proc->wait() == 0, p.proc->err());
        }
    }
}
