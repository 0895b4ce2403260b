// The command line, through the real binary.
#define BOOST_TEST_MODULE cli
#include <boost/test/unit_test.hpp>

#include "../support/process.h"
#include "crossover/plugin.h"

using namespace crossover::test;

namespace {

std::string test_plugins(const std::string& group) {
    return build_dir() + "/test-plugins/" + group;
}

std::string manifest(const std::string& value) {
    return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: xds, namespace: test}\n"
           "data:\n  a.yaml: |\n    value: " +
           value + "\n";
}

std::string pipeline(const TempDir& dir, const std::string& marker = "NEVER") {
    return "plugin_dirs: [" + test_plugins("good") +
           "]\n"
           "sources:\n"
           "  xds: {type: file, paths: [in.yaml]}\n"
           "transforms:\n"
           "  check: {type: test_fail, inputs: [xds], fail_marker: " +
           marker +
           "}\n"
           "sinks:\n"
           "  out: {type: test_record, inputs: [check], path: " +
           dir.path() + "/record.txt}\n";
}

}  // namespace

BOOST_AUTO_TEST_CASE(version_and_help) {
    TempDir t;
    auto r = run({crossover_bin(), "--version"}, t.path());
    BOOST_CHECK_EQUAL(r.code, 0);
    BOOST_CHECK_MESSAGE(r.out.rfind("crossover ", 0) == 0, r.out);
    r = run({crossover_bin(), "--help"}, t.path());
    BOOST_CHECK_EQUAL(r.code, 0);
    BOOST_CHECK_NE(r.out.find("crossover run FILE"), std::string::npos);
    r = run({crossover_bin(), "run", "p.yaml", "--bogus"}, t.path());
    BOOST_CHECK_EQUAL(r.code, 2);
    BOOST_CHECK_NE(r.err.find("unknown flag '--bogus'"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(validate_exit_codes_and_messages) {
    TempDir t;
    write_text(t / "p.yaml", pipeline(t));
    auto r = run({crossover_bin(), "validate", t / "p.yaml"}, t.path());
    BOOST_CHECK_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_NE(r.out.find(": ok (3 components)"), std::string::npos);

    write_text(t / "bad.yaml", pipeline(t) +
                                   "  extra: {type: test_record, inputs: [nope], "
                                   "path: x, colour: red}\n");
    r = run({crossover_bin(), "validate", t / "bad.yaml"}, t.path());
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_MESSAGE(r.err.find(t / "bad.yaml:8: sinks.extra: option 'colour': unknown option "
                                       "for type 'test_record'") != std::string::npos,
                        r.err);
    BOOST_CHECK_MESSAGE(r.err.find(t / "bad.yaml:8: sinks.extra: option 'inputs': unknown input "
                                       "'nope'") != std::string::npos,
                        r.err);
}

BOOST_AUTO_TEST_CASE(plugin_loader_errors_reach_the_user) {
    TempDir t;
    write_text(t / "p.yaml", "plugin_dirs: [" + test_plugins("abi") + ", " +
                                 test_plugins("nosymbol") + ", " + test_plugins("duplicate") +
                                 "]\n" + pipeline(t).substr(pipeline(t).find('\n') + 1));
    auto r = run({crossover_bin(), "validate", t / "p.yaml"}, t.path());
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_MESSAGE(r.err.find("bad_abi.so: built for plugin ABI version " +
                                   std::to_string(CROSSOVER_ABI_VERSION + 998u) +
                                   ", but this crossover uses ABI version " +
                                   std::to_string(CROSSOVER_ABI_VERSION)) != std::string::npos,
                        r.err);
    BOOST_CHECK_NE(r.err.find("bad_nosymbol.so: not a crossover plugin"), std::string::npos);
    BOOST_CHECK_NE(r.err.find("bad_duplicate.so: duplicate source type 'file'"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(plugins_command_lists_options) {
    TempDir t;
    auto r = run({crossover_bin(), "plugins", "--plugin-dir", test_plugins("good")}, t.path());
    BOOST_CHECK_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_NE(r.out.find("source file"), std::string::npos);
    BOOST_CHECK_NE(r.out.find("paths (list of strings, required)"), std::string::npos);
    BOOST_CHECK_NE(r.out.find("sink test_record"), std::string::npos);
    r = run({crossover_bin(), "plugins", "--markdown"}, t.path());
    BOOST_CHECK_NE(r.out.find("| `paths` | list of strings |  | yes |"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(onetime_writes_and_exits_zero) {
    TempDir t;
    write_text(t / "in.yaml", manifest("one"));
    write_text(t / "p.yaml", pipeline(t));
    auto r = run({crossover_bin(), "run", t / "p.yaml", "--onetime"}, t.path());
    BOOST_CHECK_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_EQUAL(read_text(t / "record.txt"), "writes=1\n== a.yaml\nvalue: one\n\n");
    // --pipeline is the same as run.
    r = run({crossover_bin(), "--pipeline", t / "p.yaml", "--onetime"}, t.path());
    BOOST_CHECK_EQUAL(r.code, 0);
}

BOOST_AUTO_TEST_CASE(a_sink_refuses_a_document_name_two_inputs_give) {
    TempDir t;
    write_text(t / "in.yaml", manifest("one"));
    write_text(t / "p.yaml",
               "sources:\n  a: {type: file, paths: [in.yaml]}\n"
               "  b: {type: file, paths: [in.yaml]}\n"
               "sinks:\n  out: {type: stdout, inputs: [a, b]}\n");
    auto r = run({crossover_bin(), "run", t / "p.yaml", "--onetime"}, t.path());
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_MESSAGE(r.err.find("document 'a.yaml' comes from both input 'a' and input 'b'; "
                                   "rename one of them") != std::string::npos,
                        r.err);
}

BOOST_AUTO_TEST_CASE(only_the_plugins_a_pipeline_names_are_loaded) {
    TempDir t;
    write_text(t / "in.yaml", manifest("one"));
    write_text(t / "p.yaml",
               "sources:\n  xds: {type: file, paths: [in.yaml]}\n"
               "sinks:\n  out: {type: stdout, inputs: [xds]}\n");
    auto r =
        run({crossover_bin(), "run", t / "p.yaml", "--onetime", "--log-level", "debug"}, t.path());
    BOOST_CHECK_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_MESSAGE(
        r.err.find("plugins loaded: source file, sink stdout\n") != std::string::npos, r.err);
    // --dry-run swaps the sinks for stdout, which is then loaded too.
    write_text(t / "q.yaml",
               "sources:\n  xds: {type: file, paths: [in.yaml]}\n"
               "sinks:\n  out: {type: symlink, inputs: [xds], dir: " +
                   t.path() + "/out}\n");
    r = run(
        {crossover_bin(), "run", t / "q.yaml", "--onetime", "--dry-run", "--log-level", "debug"},
        t.path());
    BOOST_CHECK_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_MESSAGE(
        r.err.find("plugins loaded: source file, sink symlink, sink stdout\n") != std::string::npos,
        r.err);
    // An unknown type still gets the names of every plugin to choose from.
    write_text(t / "u.yaml",
               "sources:\n  xds: {type: fil, paths: [in.yaml]}\n"
               "sinks:\n  out: {type: stdout, inputs: [xds]}\n");
    r = run({crossover_bin(), "validate", t / "u.yaml"}, t.path());
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_MESSAGE(r.err.find("did you mean 'file'") != std::string::npos, r.err);
    // `crossover plugins` still lists them all.
    r = run({crossover_bin(), "plugins"}, t.path());
    BOOST_CHECK_NE(r.out.find("transform envoy_validate"), std::string::npos);
    BOOST_CHECK_NE(r.out.find("sink symlink"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(onetime_fails_with_a_reason) {
    TempDir t;
    write_text(t / "p.yaml", pipeline(t));
    auto r = run({crossover_bin(), "run", t / "p.yaml", "--onetime"}, t.path());
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_MESSAGE(
        r.err.find("sources.xds: missing file " + t.path() + "/in.yaml") != std::string::npos,
        r.err);

    write_text(t / "in.yaml", manifest("BAD"));
    write_text(t / "p.yaml", pipeline(t, "BAD"));
    r = run({crossover_bin(), "run", t / "p.yaml", "--onetime"}, t.path());
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_MESSAGE(r.err.find("[check] transform failed: document 'a.yaml' contains 'BAD'") !=
                            std::string::npos,
                        r.err);
    BOOST_CHECK(!std::filesystem::exists(t / "record.txt"));

    write_text(t / "in.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: [\n");
    r = run({crossover_bin(), "run", t / "p.yaml", "--onetime"}, t.path());
    BOOST_CHECK_EQUAL(r.code, 1);
    // The line of the '[' that is never closed, not of the end of the file.
    BOOST_CHECK_MESSAGE(r.err.find(t / "in.yaml:4: invalid YAML") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(environment_expansion_in_pipeline) {
    TempDir t;
    write_text(t / "in.yaml", manifest("env"));
    std::string p = pipeline(t);
    p.replace(p.find(t.path() + "/record.txt"), t.path().size() + 11, "'${REC_DIR}/record.txt'");
    write_text(t / "p.yaml", p);
    auto r = run({crossover_bin(), "run", t / "p.yaml", "--onetime"}, t.path());
    BOOST_CHECK_EQUAL(r.code, 2);
    BOOST_CHECK_MESSAGE(r.err.find("p.yaml:7: sinks.out: option 'path': environment variable "
                                   "REC_DIR is not set") != std::string::npos,
                        r.err);
    r = run({crossover_bin(), "run", t / "p.yaml", "--onetime"}, t.path(), std::chrono::seconds(60),
            {"REC_DIR=" + t.path()});
    BOOST_CHECK_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_NE(read_text(t / "record.txt").find("value: env"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(legacy_flags_build_the_equivalent_pipeline) {
    TempDir t;
    auto r = run({crossover_bin(), "--apiserver", "https://k8s:6443", "-namespace=test",
                  "--configmap", "envoy-xds", "--configmap=more", "--smi", "--trafficsplit",
                  "podinfo", "--output-dir", "/srv/out", "--print-pipeline"},
                 t.path());
    BOOST_CHECK_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_NE(r.out.find("type: kubernetes_configmap"), std::string::npos);
    BOOST_CHECK_NE(r.out.find("apiserver: https://k8s:6443"), std::string::npos);
    BOOST_CHECK_NE(r.out.find("names:\n      - envoy-xds\n      - more"), std::string::npos);
    BOOST_CHECK_NE(r.out.find("type: smi_merge"), std::string::npos);
    BOOST_CHECK_NE(r.out.find("api_version: v1alpha2"), std::string::npos);
    BOOST_CHECK_NE(r.out.find("dir: /srv/out"), std::string::npos);
    BOOST_CHECK_NE(r.out.find("mode: rename"), std::string::npos);
    // As in the original, --trafficsplit alone turns the SMI merge on.
    r = run({crossover_bin(), "--configmap", "envoy-xds", "--trafficsplit", "podinfo",
             "--print-pipeline"},
            t.path());
    BOOST_CHECK_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_NE(r.out.find("type: smi_trafficsplit"), std::string::npos);
    BOOST_CHECK_NE(r.out.find("type: smi_merge"), std::string::npos);
    // A named TrafficSplit must match a virtual host; with --smi alone (every TrafficSplit of
    // the namespace) one that matches none is left out.
    BOOST_CHECK_EQUAL(r.out.find("unmatched"), std::string::npos);
    r = run({crossover_bin(), "--configmap", "envoy-xds", "--smi", "--print-pipeline"}, t.path());
    BOOST_CHECK_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_NE(r.out.find("unmatched: skip"), std::string::npos);
    r = run({crossover_bin(), "--configmap", "envoy-xds", "--print-pipeline"}, t.path());
    BOOST_CHECK_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_EQUAL(r.out.find("smi_merge"), std::string::npos);
    // envoy_validate goes before the sink unless turned off (see legacy_validate_test).
    r = run({crossover_bin(), "--configmap", "envoy-xds", "--no-validate", "--print-pipeline"},
            t.path());
    BOOST_CHECK_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_EQUAL(r.out.find("envoy_validate"), std::string::npos);
    r = run({crossover_bin(), "--configmap", "envoy-xds", "--envoy-protos", t / "none",
             "--print-pipeline"},
            t.path());
    BOOST_CHECK_EQUAL(r.code, 2);
    BOOST_CHECK_NE(r.err.find("no Envoy protos there"), std::string::npos);
    // The flags become a pipeline file that is parsed as any other: their values are taken
    // literally, never expanded as ${VAR}.
    r = run({crossover_bin(), "--configmap", "a$b", "--namespace", "${NOPE}", "--no-validate",
             "--print-pipeline"},
            t.path());
    BOOST_CHECK_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_NE(r.out.find("namespace: ${NOPE}"), std::string::npos);
    BOOST_CHECK_NE(r.out.find("- a$b"), std::string::npos);
    r = run({crossover_bin(), "--configmap", "a", "--swap", "copy"}, t.path());
    BOOST_CHECK_EQUAL(r.code, 2);
    BOOST_CHECK_NE(r.err.find("--swap must be rename or symlink"), std::string::npos);
    r = run({crossover_bin(), "--namespace", "x"}, t.path());
    BOOST_CHECK_EQUAL(r.code, 2);
    BOOST_CHECK_NE(r.err.find("at least one --configmap is required"), std::string::npos);
    r = run({crossover_bin(), "--configmap", "a", "--frobnicate"}, t.path());
    BOOST_CHECK_EQUAL(r.code, 2);
    BOOST_CHECK_NE(r.err.find("unknown flag '--frobnicate'"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(go_style_boolean_flags) {
    // docs/migration.md: boolean flags take --flag, --flag=true or --flag=false,
    // with one dash or two, as Go's flag package did.
    TempDir t;
    write_text(t / "in.yaml", manifest("go"));
    write_text(t / "p.yaml", pipeline(t));
    auto r = run({crossover_bin(), "run", t / "p.yaml", "-onetime=true"}, t.path());
    BOOST_CHECK_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_NE(read_text(t / "record.txt").find("value: go"), std::string::npos);
    std::filesystem::remove(t / "record.txt");
    r = run({crossover_bin(), "run", t / "p.yaml", "--onetime=1", "--dry-run=true"}, t.path());
    BOOST_CHECK_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_NE(r.out.find("value: go"), std::string::npos);
    BOOST_CHECK(!std::filesystem::exists(t / "record.txt"));
    r = run({crossover_bin(), "run", t / "p.yaml", "--onetime", "--dry-run=false"}, t.path());
    BOOST_CHECK_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK(std::filesystem::exists(t / "record.txt"));
    r = run({crossover_bin(), "run", t / "p.yaml", "--onetime=maybe"}, t.path());
    BOOST_CHECK_EQUAL(r.code, 2);
    BOOST_CHECK_MESSAGE(
        r.err.find("flag --onetime=maybe expects true or false") != std::string::npos, r.err);
    // --onetime=false keeps watching: it must still be running after a write.
    std::string watched = pipeline(t);
    watched.replace(watched.find("paths: [in.yaml]"), 16, "paths: [in.yaml], watch: true");
    write_text(t / "w.yaml", watched);
    Process watching({crossover_bin(), "run", t / "w.yaml", "--onetime=false", "--listen=off"},
                     t.path());
    BOOST_CHECK(eventually([&] { return watching.err().find("wrote") != std::string::npos; }));
    BOOST_CHECK(watching.running());
    // The original's boolean flags take values too.
    r = run(
        {crossover_bin(), "--configmap", "x", "-smi=true", "--insecure=false", "--print-pipeline"},
        t.path());
    BOOST_CHECK_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_NE(r.out.find("type: smi_merge"), std::string::npos);
    BOOST_CHECK_EQUAL(r.out.find("insecure"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(help_version_and_misspelt_commands) {
    TempDir t;
    auto r = run({crossover_bin(), "help"}, t.path());
    BOOST_CHECK_EQUAL(r.code, 0);
    BOOST_CHECK_NE(r.out.find("crossover run FILE"), std::string::npos);
    r = run({crossover_bin(), "version"}, t.path());
    BOOST_CHECK_EQUAL(r.code, 0);
    BOOST_CHECK_MESSAGE(r.out.rfind("crossover ", 0) == 0, r.out);
    r = run({crossover_bin(), "run", "--help"}, t.path());
    BOOST_CHECK_EQUAL(r.code, 0);
    BOOST_CHECK_NE(r.out.find("--onetime"), std::string::npos);
    r = run({crossover_bin(), "rnu", "p.yaml"}, t.path());
    BOOST_CHECK_EQUAL(r.code, 2);
    BOOST_CHECK_MESSAGE(
        r.err.find("unknown command 'rnu' (did you mean 'run'?)") != std::string::npos, r.err);
    r = run({crossover_bin(), "valdiate", "p.yaml"}, t.path());
    BOOST_CHECK_NE(r.err.find("did you mean 'validate'?"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(legacy_flags_use_the_kubeconfig_as_kubectl_does) {
    TempDir t;
    std::filesystem::create_directories(t / "home");
    const std::vector<std::string> no_kubeconfig = {"HOME=" + (t / "home"), "KUBECONFIG="};
    // Nothing found: the original's in-cluster defaults.
    auto r = run({crossover_bin(), "--configmap", "x", "--print-pipeline"}, t.path(),
                 std::chrono::seconds(60), no_kubeconfig);
    BOOST_CHECK_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_NE(r.out.find("apiserver: https://kubernetes"), std::string::npos);
    BOOST_CHECK_NE(r.out.find("token_file: /var/run/secrets/kubernetes.io/serviceaccount/token"),
                   std::string::npos);
    BOOST_CHECK_EQUAL(r.out.find("kubeconfig"), std::string::npos);

    write_text(t / "kc.yaml", "current-context: a\n");
    // --kubeconfig and --context as kubectl takes them.
    r = run({crossover_bin(), "--kubeconfig", t / "kc.yaml", "--context=dev", "--configmap", "x",
             "--print-pipeline"},
            t.path(), std::chrono::seconds(60), no_kubeconfig);
    BOOST_CHECK_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_NE(r.out.find("kubeconfig: " + (t / "kc.yaml")), std::string::npos);
    BOOST_CHECK_NE(r.out.find("context: dev"), std::string::npos);
    BOOST_CHECK_EQUAL(r.out.find("https://kubernetes"), std::string::npos);
    BOOST_CHECK_EQUAL(r.out.find("token_file"), std::string::npos);
    BOOST_CHECK_EQUAL(r.out.find("namespace: default"), std::string::npos);

    // $KUBECONFIG, then ~/.kube/config.
    r = run({crossover_bin(), "--configmap", "x", "--print-pipeline"}, t.path(),
            std::chrono::seconds(60), {"HOME=" + (t / "home"), "KUBECONFIG=" + (t / "kc.yaml")});
    BOOST_CHECK_NE(r.out.find("kubeconfig: " + (t / "kc.yaml")), std::string::npos);
    BOOST_CHECK_EQUAL(r.out.find("https://kubernetes"), std::string::npos);
    std::filesystem::create_directories(t / "home/.kube");
    write_text(t / "home/.kube/config", "current-context: a\n");
    r = run({crossover_bin(), "--configmap", "x", "-namespace=ns", "--print-pipeline"}, t.path(),
            std::chrono::seconds(60), no_kubeconfig);
    BOOST_CHECK_NE(r.out.find("kubeconfig: " + (t / "home/.kube/config")), std::string::npos);
    BOOST_CHECK_NE(r.out.find("namespace: ns"), std::string::npos);

    // An explicit --apiserver keeps the original's meaning.
    r = run(
        {crossover_bin(), "--apiserver", "https://k:6443", "--configmap", "x", "--print-pipeline"},
        t.path(), std::chrono::seconds(60), no_kubeconfig);
    BOOST_CHECK_EQUAL(r.out.find("kubeconfig"), std::string::npos);
    BOOST_CHECK_NE(r.out.find("apiserver: https://k:6443"), std::string::npos);

    std::filesystem::remove(t / "home/.kube/config");
    r = run({crossover_bin(), "--context", "dev", "--configmap", "x", "--print-pipeline"}, t.path(),
            std::chrono::seconds(60), no_kubeconfig);
    BOOST_CHECK_EQUAL(r.code, 2);
    BOOST_CHECK_NE(r.err.find("--context dev needs a kubeconfig"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(validate_points_at_the_value_at_fault) {
    TempDir t;
    write_text(t / "p.yaml", "plugin_dirs: [" + test_plugins("good") +
                                 "]\n"
                                 "sources:\n"
                                 "  xds:\n"
                                 "    type: fiel\n"
                                 "    paths: [in.yaml]\n"
                                 "sinks:\n"
                                 "  out:\n"
                                 "    type: test_record\n"
                                 "    path: x\n"
                                 "    inputs:\n"
                                 "      - xds\n"
                                 "      - nope\n");
    auto r = run({crossover_bin(), "validate", t / "p.yaml"}, t.path());
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_MESSAGE(r.err.find(t / "p.yaml:4: sources.xds: option 'type': unknown source "
                                       "type 'fiel' (did you mean 'file'?)") != std::string::npos,
                        r.err);
    BOOST_CHECK_MESSAGE(r.err.find(t / "p.yaml:12: sinks.out: option 'inputs': unknown input "
                                       "'nope'") != std::string::npos,
                        r.err);
    // A syntax error on line 7: an unclosed flow sequence, noticed by the
    // parser only at the next key.
    const std::string broken =
        "sources:\n"
        "  xds:\n"
        "    type: file\n"
        "    paths: [in.yaml]\n"
        "sinks:\n"
        "  out:\n"
        "    inputs: [xds\n"
        "    type: test_record\n"
        "    path: x\n";
    write_text(t / "b.yaml", broken);
    r = run({crossover_bin(), "validate", t / "b.yaml"}, t.path());
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_MESSAGE(r.err.find(t / "b.yaml:7: invalid YAML: end of sequence flow not found") !=
                            std::string::npos,
                        r.err);
    // The same in a manifest the file source reads.
    write_text(t / "in.yaml",
               "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: xds\n"
               "data:\n  a.yaml: 'x: 1'\n  b.yaml: [1, 2\n  c.yaml: y\n"
               "  d.yaml: z\n");
    write_text(t / "p.yaml", pipeline(t));
    r = run({crossover_bin(), "run", t / "p.yaml", "--onetime"}, t.path());
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_MESSAGE(r.err.find(t / "in.yaml:7: invalid YAML") != std::string::npos, r.err);
}

// What `crossover run` would refuse, `crossover validate` refuses: every option's type, range,
// choices and the plugin's own checks come from its one table, before anything is built.
BOOST_AUTO_TEST_CASE(validate_applies_each_plugins_whole_option_table) {
    TempDir t;
    write_text(t / "p.yaml",
               "engine: {debounce: 5ms, retry_max: 0}\n"
               "server: {listen: 127.0.0.1:0, port: 1}\n"
               "sources:\n"
               "  xds: {type: file, paths: [in.yaml], settle: soon}\n"
               "transforms:\n"
               "  weights: {type: smi_merge, inputs: [xds], unmatched: ignore}\n"
               "sinks:\n"
               "  out:\n"
               "    type: symlink\n"
               "    inputs: [weights]\n"
               "    dir: out\n"
               "    mode: bogus\n"
               "    keep: 0\n"
               "    file_mode: '0999'\n");
    auto r = run({crossover_bin(), "validate", t / "p.yaml"}, t.path());
    BOOST_CHECK_EQUAL(r.code, 1);
    for (const std::string expected :
         {":1: engine: option 'retry_max': must not be shorter than retry_initial",
          ":2: server: option 'port': unknown option",
          ":4: sources.xds: option 'settle': expected a duration such as 250ms, 10s or 1m, "
          "got 'soon'",
          ":6: transforms.weights: option 'unmatched': expected 'auto', 'error' or 'skip', got "
          "'ignore'",
          ":12: sinks.out: option 'mode': expected 'symlink' or 'rename', got 'bogus'",
          ":13: sinks.out: option 'keep': must be at least 1, got 0",
          ":14: sinks.out: option 'file_mode': expected octal permissions such as \"0644\", "
          "got '0999'"}) {
        BOOST_CHECK_MESSAGE(r.err.find(t / "p.yaml" + expected) != std::string::npos,
                            "missing: " + expected + "\nin:\n" + r.err);
    }
    // `crossover plugins` shows what the table allows.
    r = run({crossover_bin(), "plugins"}, t.path());
    BOOST_CHECK_MESSAGE(
        r.out.find("mode (string, default symlink): symlink: swap") != std::string::npos, r.out);
    BOOST_CHECK_NE(r.out.find("One of symlink, rename."), std::string::npos);
    BOOST_CHECK_NE(r.out.find("At least 1."), std::string::npos);
}

BOOST_AUTO_TEST_CASE(dry_run_and_unchanged_onetime_runs_say_what_happened) {
    TempDir t;
    write_text(t / "in.yaml", manifest("v"));
    write_text(t / "p.yaml",
               "sources:\n  xds: {type: file, paths: [in.yaml]}\n"
               "sinks:\n  out: {type: symlink, inputs: [xds], dir: out}\n");
    auto r = run({crossover_bin(), "run", t / "p.yaml", "--onetime", "--dry-run"}, t.path());
    BOOST_CHECK_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_NE(r.out.find("value: v"), std::string::npos);
    BOOST_CHECK_MESSAGE(r.err.find("wrote new output") == std::string::npos, r.err);
    BOOST_CHECK_MESSAGE(
        r.err.find("printed the output (dry run: nothing written)") != std::string::npos, r.err);
    BOOST_CHECK(!std::filesystem::exists(t / "out"));
    r = run({crossover_bin(), "run", t / "p.yaml", "--onetime"}, t.path());
    BOOST_CHECK_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_NE(r.err.find("wrote new output"), std::string::npos);
    r = run({crossover_bin(), "run", t / "p.yaml", "--onetime"}, t.path());
    BOOST_CHECK_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_MESSAGE(r.err.find("[out] output unchanged: the files in place are up to date") !=
                            std::string::npos,
                        r.err);
}

// With --log-format json every line crossover writes to stderr is JSON, command-line
// mistakes included, even those found before the flag itself is read; text mode keeps
// the `crossover: ` prefix.
BOOST_AUTO_TEST_CASE(usage_errors_are_json_lines_in_json_mode) {
    TempDir t;
    write_text(t / "p.yaml", pipeline(t));
    struct Case {
        std::vector<std::string> args;
        std::string message;
    };
    const std::vector<Case> cases = {
        {{"rnu", "--log-format", "json"}, "unknown command 'rnu' (did you mean 'run'?)"},
        {{"run", t / "p.yaml", "--onetime=maybe", "--log-format=json"},
         "flag --onetime=maybe expects true or false"},
        {{"run", "--log-format", "json"}, "'run' needs a pipeline file"},
        {{"run", t / "p.yaml", "--log-format", "json", "--bogus"},
         "unknown flag '--bogus' for 'run'"},
        {{"--log-format", "json", "--smi=maybe"}, "expects true or false"},
    };
    for (const auto& c : cases) {
        std::vector<std::string> argv = {crossover_bin()};
        argv.insert(argv.end(), c.args.begin(), c.args.end());
        const auto r = run(argv, t.path());
        BOOST_TEST_CONTEXT(c.message) {
            BOOST_CHECK_EQUAL(r.code, 2);
            BOOST_CHECK_MESSAGE(
                !r.err.empty() && r.err.front() == '{' && r.err.find("}\n") == r.err.size() - 2,
                r.err);
            BOOST_CHECK_MESSAGE(r.err.find("\"level\":\"error\"") != std::string::npos, r.err);
            BOOST_CHECK_MESSAGE(r.err.find(c.message) != std::string::npos, r.err);
        }
    }
    const auto text = run({crossover_bin(), "rnu"}, t.path());
    BOOST_CHECK_EQUAL(text.code, 2);
    BOOST_CHECK_MESSAGE(text.err.rfind("crossover: unknown command 'rnu'", 0) == 0, text.err);
}
