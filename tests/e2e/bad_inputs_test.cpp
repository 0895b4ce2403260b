// Inputs that are not what the user meant never become Envoy's files: every
// fixture in tests/fixtures/invalid, emptied and deleted manifests, a FIFO.
// The pipeline is the quick start's (file -> smi_merge -> envoy_validate ->
// symlink) through the real binary.
#define BOOST_TEST_MODULE bad_inputs
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <filesystem>

#include "../support/process.h"

namespace fs = std::filesystem;
namespace ct = crossover::test;

namespace {

const std::string kConfigMap = "envoy-xds.configmap.yaml";
const std::string kSplit = "trafficsplit.yaml";

struct Quickstart {
    ct::TempDir t;
    Quickstart() {
        fs::create_directories(t / "m");
        fs::copy_file(ct::source_dir() + "/examples/quickstart/" + kConfigMap,
                      t / ("m/" + kConfigMap));
        fs::copy_file(ct::source_dir() + "/examples/quickstart/" + kSplit, t / ("m/" + kSplit));
    }
    [[nodiscard]] std::string pipeline(bool watch) const {
        return std::string("sources:\n  manifests: {type: file, paths: [m], watch: ") +
               (watch ? "true" : "false") +
               "}\n"
               "transforms:\n"
               "  canary: {type: smi_merge, inputs: [manifests]}\n"
               "  checked: {type: envoy_validate, inputs: [canary], when_protos_missing: warn}\n"
               "sinks:\n"
               "  envoy: {type: symlink, inputs: [checked], dir: " +
               t.path() + "/out}\n";
    }
    [[nodiscard]] std::string rds() const { return ct::read_text(t / "out/current/rds.yaml"); }
    ct::Result onetime() const {
        ct::write_text(t / "p.yaml", pipeline(false));
        return ct::run({ct::crossover_bin(), "run", t / "p.yaml", "--onetime"}, t.path(),
                       std::chrono::seconds(60));
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(invalid_fixtures_never_reach_the_output) {
    Quickstart q;
    auto r = q.onetime();
    BOOST_REQUIRE_MESSAGE(r.code == 0, r.err);
    const std::string good = q.rds();
    BOOST_REQUIRE_NE(good.find("weight: 10"), std::string::npos);
    int checked = 0;
    for (const auto& entry : fs::directory_iterator(ct::fixtures_dir() + "/invalid")) {
        const std::string name = entry.path().filename().string();
        // A bad TrafficSplit or ConfigMap replaces the good one; an xDS file
        // comes as one more file. Fixtures for other sources (HTTPRoutes,
        // EndpointSlices) are no input of this pipeline.
        std::string target = name;
        if (name.rfind("trafficsplit-", 0) == 0) {
            target = kSplit;
        } else if (name.rfind("configmap-", 0) == 0) {
            target = kConfigMap;
        } else if (name.rfind("rds-", 0) != 0 && name.rfind("cds-", 0) != 0 &&
                   name.rfind("lds-", 0) != 0) {
            continue;
        }
        const std::string saved = fs::exists(q.t / ("m/" + target))
                                      ? ct::read_text(q.t / ("m/" + target))
                                      : std::string();
        ct::write_text(q.t / ("m/" + target), ct::read_text(entry.path().string()));
        const auto start = std::chrono::steady_clock::now();
        r = q.onetime();
        BOOST_CHECK_MESSAGE(r.code == 1, name + ": exit " + std::to_string(r.code) + "\n" + r.err);
        BOOST_CHECK_MESSAGE(q.rds() == good, name + " changed the output");
        // Refused at once: nothing expands, nothing hangs.
        BOOST_CHECK_MESSAGE(std::chrono::steady_clock::now() - start < std::chrono::seconds(30),
                            name + " took too long");
        if (saved.empty()) {
            fs::remove(q.t / ("m/" + target));
        } else {
            ct::write_text(q.t / ("m/" + target), saved);
        }
        ++checked;
    }
    BOOST_CHECK_GE(checked, 8);

    // The errors name the file and what is wrong with it.
    const std::string split = q.t / ("m/" + kSplit);
    ct::write_text(split,
                   ct::read_text(ct::fixtures_dir() + "/invalid/trafficsplit-kind-typo.yaml"));
    r = q.onetime();
    BOOST_CHECK_MESSAGE(r.err.find(split + ":3: apiVersion without kind (is 'kind' misspelt?)") !=
                            std::string::npos,
                        r.err);
    ct::write_text(split, ct::read_text(ct::fixtures_dir() + "/invalid/trafficsplit-list.yaml"));
    r = q.onetime();
    BOOST_CHECK_MESSAGE(
        r.err.find(split + ":2: a YAML list; expected Kubernetes objects") != std::string::npos,
        r.err);
    ct::write_text(split,
                   ct::read_text(ct::fixtures_dir() + "/invalid/trafficsplit-duplicate-key.yaml"));
    r = q.onetime();
    BOOST_CHECK_MESSAGE(
        r.err.find(split + ":15: invalid YAML: duplicate key 'weight'") != std::string::npos,
        r.err);
    ct::write_text(split, "");
    r = q.onetime();
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_MESSAGE(r.err.find("file " + split + " is empty") != std::string::npos, r.err);
    BOOST_CHECK(q.rds() == good);
}

BOOST_AUTO_TEST_CASE(emptied_and_deleted_files_keep_the_last_output) {
    Quickstart q;
    ct::write_text(q.t / "p.yaml", q.pipeline(true));
    ct::Process p({ct::crossover_bin(), "run", q.t / "p.yaml", "--listen", "off"}, q.t.path());
    BOOST_REQUIRE_MESSAGE(ct::eventually([&] { return fs::exists(q.t / "out/current/rds.yaml"); }),
                          p.err());
    const std::string good = q.rds();
    // A half-saved (empty) manifest: incomplete input, the output stays.
    ct::write_text(q.t / ("m/" + kConfigMap), "");
    BOOST_REQUIRE_MESSAGE(
        ct::eventually([&] { return p.err().find(kConfigMap + " is empty") != std::string::npos; }),
        p.err());
    // Every file of the watched directory deleted: never an empty output.
    fs::remove(q.t / ("m/" + kConfigMap));
    fs::remove(q.t / ("m/" + kSplit));
    BOOST_REQUIRE_MESSAGE(ct::eventually([&] {
                              return p.err().find("holds no *.yaml, *.yml or *.json file") !=
                                     std::string::npos;
                          }),
                          p.err());
    BOOST_CHECK(q.rds() == good);
    BOOST_CHECK(p.running());
    // The files back: written again.
    fs::copy_file(ct::source_dir() + "/examples/quickstart/" + kConfigMap,
                  q.t / ("m/" + kConfigMap));
    BOOST_CHECK_MESSAGE(ct::eventually([&] {
                            return fs::exists(q.t / "out/current/rds.yaml") &&
                                   q.rds().find("weight: 100") != std::string::npos;
                        }),
                        p.err());
    p.signal(SIGTERM);
    BOOST_CHECK_EQUAL(p.wait(std::chrono::seconds(20)), 0);
}

BOOST_AUTO_TEST_CASE(a_fifo_is_refused_never_read) {
    Quickstart q;
    const std::string fifo = q.t / "m/fifo.yaml";
    BOOST_REQUIRE_EQUAL(::mkfifo(fifo.c_str(), 0600), 0);
    // As a manifest named in paths: an error at once, with --onetime and when watching.
    ct::write_text(q.t / "p.yaml", "sources:\n  manifests: {type: file, paths: [" + fifo +
                                       "]}\nsinks:\n  out: {type: stdout, inputs: [manifests]}\n");
    auto r = ct::run({ct::crossover_bin(), "run", q.t / "p.yaml", "--onetime"}, q.t.path(),
                     std::chrono::seconds(30));
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_MESSAGE(r.err.find(fifo + ": not a regular file (a FIFO)") != std::string::npos,
                        r.err);
    ct::write_text(q.t / "w.yaml", "sources:\n  manifests: {type: file, watch: true, paths: [" +
                                       fifo +
                                       "]}\nsinks:\n  out: {type: stdout, inputs: [manifests]}\n");
    ct::Process p({ct::crossover_bin(), "run", q.t / "w.yaml", "--listen", "off"}, q.t.path());
    BOOST_CHECK_MESSAGE(ct::eventually([&] {
                            return p.err().find("not a regular file (a FIFO)") != std::string::npos;
                        }),
                        p.err());
    p.signal(SIGTERM);
    BOOST_CHECK_EQUAL(p.wait(std::chrono::seconds(20)), 0);
    // As the pipeline file.
    r = ct::run({ct::crossover_bin(), "validate", fifo}, q.t.path(), std::chrono::seconds(30));
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_MESSAGE(r.err.find("not a regular file (a FIFO)") != std::string::npos, r.err);
    r = ct::run({ct::crossover_bin(), "run", fifo}, q.t.path(), std::chrono::seconds(30));
    BOOST_CHECK_EQUAL(r.code, 2);
}
