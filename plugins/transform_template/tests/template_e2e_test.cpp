// The template transform through the real binary: file source (a ConfigMap
// carrying rds.yaml.tmpl, and a TrafficSplit) -> template -> symlink sink,
// stepped like a canary.
#define BOOST_TEST_MODULE transform_template_e2e
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <memory>
#include <sstream>
#include <string>

#include "../../../tests/support/manifests.h"
#include "../../../tests/support/process.h"

using namespace crossover::test;

namespace {

std::string split_manifest(const std::string& version, const std::string& primary,
                           const std::string& canary) {
    return trafficsplit_manifest(version, primary, canary, false);
}

// A ConfigMap whose key rds.yaml.tmpl holds `tmpl`, plus a plain cds.yaml.
std::string configmap(const std::string& tmpl) {
    std::string out =
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: envoy-xds, namespace: test}\ndata:\n"
        "  cds.yaml: |\n    version_info: \"1\"\n    resources: []\n"
        "  rds.yaml.tmpl: |\n";
    std::istringstream lines(tmpl);
    for (std::string line; std::getline(lines, line);) {
        out += line.empty() ? "\n" : "    " + line + "\n";
    }
    return out;
}

std::string golden_template() {
    return read_text(source_dir() + "/plugins/transform_template/tests/golden/rds.yaml.tmpl");
}

struct Pipeline {
    TempDir dir;
    std::unique_ptr<Process> proc;

    Pipeline(const std::string& tmpl, const std::string& split, bool watch) {
        write_text(dir / "xds.yaml", configmap(tmpl));
        write_text(dir / "split.yaml", split);
        std::filesystem::copy_file(
            source_dir() + "/plugins/transform_template/tests/golden/values.yaml",
            dir / "values.yaml");
        write_text(dir / "p.yaml",
                   "engine: {debounce: 2ms, max_delay: 50ms}\n"
                   "sources:\n"
                   "  manifests: {type: file, paths: [xds.yaml, split.yaml], watch: " +
                       std::string(watch ? "true" : "false") +
                       "}\n"
                       "transforms:\n"
                       "  render:\n"
                       "    type: template\n"
                       "    inputs: [manifests]\n"
                       "    values_file: values.yaml\n"
                       "    values: {version: 3}\n"
                       "sinks:\n"
                       "  envoy: {type: symlink, inputs: [render], dir: out, fsync: false}\n");
        if (watch) {
            proc = std::make_unique<Process>(
                std::vector<std::string>{crossover_bin(), "run", dir / "p.yaml", "--listen", "off"},
                dir.path());
        }
    }
    [[nodiscard]] std::string rds() const { return read_text(dir / "out/current/rds.yaml"); }
    [[nodiscard]] bool has_weights(const std::string& primary, const std::string& canary) const {
        const std::string r = rds();
        return r.find("          - name: podinfo-primary\n            weight: " + primary + "\n") !=
                   std::string::npos &&
               r.find("          - name: podinfo-canary\n            weight: " + canary + "\n") !=
                   std::string::npos;
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(onetime_renders_the_fixture_split) {
    Pipeline p(golden_template(), read_text(fixtures_dir() + "/trafficsplit/flagger-v1alpha1.yaml"),
               false);
    const Result r = run({crossover_bin(), "run", p.dir / "p.yaml", "--onetime"}, p.dir.path());
    BOOST_TEST(r.code == 0, r.err);
    // Same bytes as the golden file, except the version the pipeline overrides.
    std::string want = read_text(
        source_dir() + "/plugins/transform_template/tests/golden/rds.flagger-v1alpha1.yaml");
    want.replace(want.find("version_info: \"7\""), 17, "version_info: \"3\"");
    BOOST_TEST(p.rds() == want);
    BOOST_TEST(read_text(p.dir / "out/current/cds.yaml") == "version_info: \"1\"\nresources: []\n");
    BOOST_TEST(!std::filesystem::exists(p.dir / "out/current/rds.yaml.tmpl"));
}

BOOST_AUTO_TEST_CASE(onetime_reports_template_errors_with_position) {
    Pipeline p("a: {{ .Values.nope }}\n", read_text(fixtures_dir() + "/trafficsplit/v1alpha4.yaml"),
               false);
    const Result r = run({crossover_bin(), "run", p.dir / "p.yaml", "--onetime"}, p.dir.path());
    BOOST_TEST(r.code != 0);
    BOOST_TEST(
        r.err.find("ConfigMap test/envoy-xds: rds.yaml.tmpl:1:14: map has no key \"nope\"") !=
            std::string::npos,
        r.err);
    BOOST_TEST(!std::filesystem::exists(p.dir / "out/current/rds.yaml"));
}

BOOST_AUTO_TEST_CASE(validate_checks_the_options) {
    Pipeline p(golden_template(), read_text(fixtures_dir() + "/trafficsplit/v1alpha4.yaml"), false);
    BOOST_TEST(run({crossover_bin(), "validate", p.dir / "p.yaml"}, p.dir.path()).code == 0);
    write_text(p.dir / "bad.yaml",
               "sources:\n  m: {type: file, paths: [xds.yaml]}\n"
               "transforms:\n  render: {type: template, inputs: [m], max_steps: lots}\n"
               "sinks:\n  s: {type: symlink, inputs: [render], dir: out}\n");
    const Result r = run({crossover_bin(), "validate", p.dir / "bad.yaml"}, p.dir.path());
    BOOST_TEST(r.code != 0);
    BOOST_TEST(r.err.find("max_steps") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(canary_steps_reach_the_rendered_file) {
    for (const std::string version : {"v1alpha1", "v1alpha3"}) {
        BOOST_TEST_CONTEXT(version) {
            Pipeline p(golden_template(), split_manifest(version, "100", "0"), true);
            BOOST_REQUIRE_MESSAGE(eventually([&] { return p.has_weights("100", "0"); }),
                                  p.proc->err());
            for (int step = 5; step <= 50; step += 5) {
                const std::string primary = std::to_string(100 - step);
                const std::string canary = std::to_string(step);
                write_text(p.dir / "split.yaml", split_manifest(version, primary, canary));
                BOOST_TEST(eventually([&] { return p.has_weights(primary, canary); }),
                           "step " << step << ": " << p.rds() << p.proc->err());
            }
            // A template that breaks is refused with its position; the last good file stays.
            write_text(p.dir / "xds.yaml", configmap("{{ .Values.typo }}\n"));
            BOOST_TEST(
                eventually([&] {
                    return p.proc->err().find("rds.yaml.tmpl:1:11: map has no key \"typo\"") !=
                           std::string::npos;
                }),
                p.proc->err());
            BOOST_TEST(p.has_weights("50", "50"));
            // Fixed again, then promoted.
            write_text(p.dir / "xds.yaml", configmap(golden_template()));
            write_text(p.dir / "split.yaml", split_manifest(version, "0", "100"));
            BOOST_TEST(eventually([&] { return p.has_weights("0", "100"); }), p.proc->err());
            p.proc->signal(SIGTERM);
            BOOST_TEST(p.proc->wait() == 0, p.proc->err());
        }
    }
}
