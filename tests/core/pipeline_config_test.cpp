#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdlib>
#include <map>

#include "crossover/plugin.h"
#include "pipeline_config.h"
#include "plugin_registry.h"

using namespace crossover;
using namespace crossover::core;

namespace {

std::optional<std::string> test_env(const std::string& name) {
    if (name == "OUT") {
        return std::string("/tmp/out");
    }
    return std::nullopt;
}

const PluginRegistry& registry() {
    static PluginRegistry r;
    static bool loaded = false;
    if (!loaded) {
        std::vector<std::string> errors;
        r.load_directory(std::getenv("CROSSOVER_PLUGIN_DIR"), errors);
        r.load_directory(std::string(std::getenv("CROSSOVER_BUILD_DIR")) + "/test-plugins/good",
                         errors);
        BOOST_REQUIRE_MESSAGE(errors.empty(), (errors.empty() ? std::string() : errors.front()));
        loaded = true;
    }
    return r;
}

// All messages for a pipeline text, validated against the test registry.
std::vector<std::string> problems(const std::string& text) {
    std::vector<ConfigError> errors;
    PipelineSpec spec = parse_pipeline_text(text, "/cfg/pipe.yaml", test_env, errors);
    if (errors.empty()) {
        validate_pipeline(spec, registry(), errors);
    }
    std::vector<std::string> out;
    for (const auto& e : errors) {
        out.push_back(e.format());
    }
    return out;
}

bool has(const std::vector<std::string>& msgs, const std::string& expected) {
    for (const auto& m : msgs) {
        if (m == expected) {
            return true;
        }
    }
    std::string all;
    for (const auto& m : msgs) {
        all += "\n  " + m;
    }
    BOOST_TEST_MESSAGE("expected: " << expected << "\ngot:" << all);
    return false;
}

const char* kGood =
    "sources:\n"
    "  xds:\n"
    "    type: file\n"
    "    paths: [a.yaml]\n"
    "transforms:\n"
    "  check:\n"
    "    type: test_fail\n"
    "    inputs: [xds]\n"
    "    fail_marker: BAD\n"
    "sinks:\n"
    "  out:\n"
    "    type: test_record\n"
    "    inputs: [check]\n"
    "    path: ${OUT}/record.txt\n";

}  // namespace

BOOST_AUTO_TEST_CASE(valid_pipeline_gets_defaults_and_expansion) {
    std::vector<ConfigError> errors;
    PipelineSpec spec = parse_pipeline_text(kGood, "/cfg/pipe.yaml", test_env, errors);
    validate_pipeline(spec, registry(), errors);
    BOOST_REQUIRE(errors.empty());
    BOOST_CHECK_EQUAL(spec.base_dir, "/cfg");
    const ComponentSpec* out = spec.find("out");
    BOOST_REQUIRE(out != nullptr);
    BOOST_CHECK_EQUAL(out->options["path"].Scalar(), "/tmp/out/record.txt");
    BOOST_CHECK_EQUAL(out->options["fail_marker"].Scalar(), "");
    BOOST_CHECK_EQUAL(out->line, 11);
    const ComponentSpec* xds = spec.find("xds");
    BOOST_REQUIRE(xds != nullptr);
    BOOST_CHECK_EQUAL(xds->options["watch"].Scalar(), "false");
    const auto order = topological_order(spec);
    BOOST_REQUIRE_EQUAL(order.size(), 3u);
    BOOST_CHECK_EQUAL(order[0]->name, "xds");
    BOOST_CHECK_EQUAL(order[1]->name, "check");
    BOOST_CHECK_EQUAL(order[2]->name, "out");
}

BOOST_AUTO_TEST_CASE(yaml_syntax_error_names_file_and_line) {
    // The line of the '{' that is never closed, not the next one where the
    // parser noticed.
    const auto m = problems("sources:\n  a: {type: file\nsinks: {}\n");
    BOOST_REQUIRE_EQUAL(m.size(), 1u);
    BOOST_CHECK_MESSAGE(
        m[0].rfind("/cfg/pipe.yaml:2: invalid YAML: end of map flow not found", 0) == 0, m[0]);
}

// Found by fuzzing (fuzz/regressions/pipeline_config/): an alias inside the
// node it names made a cyclic tree that overflowed the stack, and aliases
// repeated level over level made a tree too large to walk in any useful time.
BOOST_AUTO_TEST_CASE(recursive_and_exploding_aliases_are_refused) {
    auto m = problems("sources: &c {a: *c}\nsinks: {}\n");
    BOOST_REQUIRE_EQUAL(m.size(), 1u);
    BOOST_CHECK_MESSAGE(
        m[0].rfind("/cfg/pipe.yaml:1: invalid YAML: nested deeper than 200", 0) == 0, m[0]);

    std::string text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
    for (char level = 'b'; level <= 'g'; ++level) {
        const std::string prev(1, static_cast<char>(level - 1));
        text += std::string(1, level) + ": &" + level + " [";
        for (int i = 0; i < 10; ++i) {
            text += (i ? ", *" : "*") + prev;
        }
        text += "]\n";
    }
    text += std::string(kGood) + "    extra: *g\n";
    const auto start = std::chrono::steady_clock::now();
    m = problems(text);
    BOOST_CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    BOOST_REQUIRE_EQUAL(m.size(), 1u);
    BOOST_CHECK_MESSAGE(
        m[0].find("invalid YAML: aliases add more than 100000 values once expanded") !=
            std::string::npos,
        m[0]);
    // Aliases within the limits still work.
    text =
        "common: &c {type: file, paths: [a.yaml]}\nsources: {a: *c, b: *c}\n"
        "sinks: {out: {type: test_record, inputs: [a, b], path: /tmp/x}}\n";
    m = problems(text);
    BOOST_REQUIRE_EQUAL(m.size(), 1u);
    BOOST_CHECK_MESSAGE(m[0].rfind("/cfg/pipe.yaml:1: common: unknown top-level key", 0) == 0,
                        m[0]);
}

BOOST_AUTO_TEST_CASE(unknown_top_level_key) {
    const auto m = problems(std::string(kGood) + "sink:\n  x: 1\n");
    BOOST_CHECK(has(m, "/cfg/pipe.yaml:15: sink: unknown top-level key (did you mean 'sinks'?)"));
}

BOOST_AUTO_TEST_CASE(unknown_option_key) {
    std::string text = kGood;
    text.replace(text.find("    paths"), 0, "    pahts: [x]\n");
    const auto m = problems(text);
    BOOST_CHECK(has(m,
                    "/cfg/pipe.yaml:4: sources.xds: option 'pahts': unknown option for type "
                    "'file' (did you mean 'paths'?)"));
}

BOOST_AUTO_TEST_CASE(unknown_type) {
    std::string text = kGood;
    text.replace(text.find("type: test_record"), 17, "type: test_recrod");
    const auto m = problems(text);
    // The line of the value at fault, not of the component's name (11).
    BOOST_CHECK(has(m,
                    "/cfg/pipe.yaml:12: sinks.out: option 'type': unknown sink type "
                    "'test_recrod' (did you mean 'test_record'?)"));
}

BOOST_AUTO_TEST_CASE(unknown_missing_and_cyclic_inputs) {
    auto m = problems(
        "sources:\n  xds: {type: file, paths: [a]}\n"
        "transforms:\n"
        "  a: {type: test_fail, fail_marker: x, inputs: [b]}\n"
        "  b: {type: test_fail, fail_marker: x, inputs: [a]}\n"
        "  c: {type: test_fail, fail_marker: x}\n"
        "sinks:\n"
        "  out: {type: test_record, path: p, inputs: [xdz]}\n"
        "  none: {type: test_record, path: p}\n");
    BOOST_CHECK(has(m,
                    "/cfg/pipe.yaml:6: transforms.c: option 'inputs': a transform needs "
                    "'inputs:' naming at least one source or transform"));
    BOOST_CHECK(has(m,
                    "/cfg/pipe.yaml:9: sinks.none: option 'inputs': a sink needs 'inputs:' "
                    "naming at least one source or transform"));
    m = problems(
        "sources:\n  xds: {type: file, paths: [a]}\n"
        "transforms:\n"
        "  a: {type: test_fail, fail_marker: x, inputs: [b]}\n"
        "  b: {type: test_fail, fail_marker: x, inputs: [a]}\n"
        "sinks:\n"
        "  out: {type: test_record, path: p, inputs: [xdz]}\n"
        "  out2: {type: test_record, path: p, inputs: [out]}\n");
    BOOST_CHECK(has(m,
                    "/cfg/pipe.yaml:7: sinks.out: option 'inputs': unknown input 'xdz' (did "
                    "you mean 'xds'?)"));
    BOOST_CHECK(has(m,
                    "/cfg/pipe.yaml:8: sinks.out2: option 'inputs': input 'out' is a sink; "
                    "sinks produce no output to read"));
    BOOST_CHECK(has(m,
                    "/cfg/pipe.yaml:4: transforms.a: option 'inputs': inputs form a cycle: "
                    "a -> b -> a"));
}

BOOST_AUTO_TEST_CASE(wrong_option_types_and_missing_required) {
    const auto m = problems(
        "sources:\n  xds: {type: file, paths: {a: b}, watch: maybe}\n"
        "sinks:\n"
        "  out:\n"
        "    type: test_record\n"
        "    inputs: [xds]\n"
        "    count: many\n"
        "    delay: 10\n"
        "    tags: [[1]]\n"
        "    labels: [a]\n"
        "  out2: {type: test_record, inputs: [xds]}\n");
    BOOST_CHECK(has(m,
                    "/cfg/pipe.yaml:2: sources.xds: option 'paths': expected a list of "
                    "strings, got a map"));
    BOOST_CHECK(has(m,
                    "/cfg/pipe.yaml:2: sources.xds: option 'watch': expected true or false, "
                    "got 'maybe'"));
    BOOST_CHECK(has(m,
                    "/cfg/pipe.yaml:7: sinks.out: option 'count': expected an integer, got "
                    "'many'"));
    BOOST_CHECK(has(m,
                    "/cfg/pipe.yaml:8: sinks.out: option 'delay': expected a duration such as "
                    "250ms, 10s or 1m, got '10'"));
    BOOST_CHECK(has(m,
                    "/cfg/pipe.yaml:9: sinks.out: option 'tags': expected a list of strings, "
                    "an item is a list"));
    BOOST_CHECK(has(m,
                    "/cfg/pipe.yaml:10: sinks.out: option 'labels': expected a map of "
                    "strings, got a list"));
    BOOST_CHECK(has(m,
                    "/cfg/pipe.yaml:4: sinks.out: option 'path': missing required option "
                    "(File the sink rewrites with what it received)"));
    BOOST_CHECK(has(m,
                    "/cfg/pipe.yaml:11: sinks.out2: option 'path': missing required option "
                    "(File the sink rewrites with what it received)"));
}

BOOST_AUTO_TEST_CASE(unset_environment_variable) {
    const auto m = problems(
        "sources:\n  xds: {type: file, paths: ['${XDS_DIR}']}\n"
        "sinks:\n  out: {type: test_record, path: p, inputs: [xds]}\n");
    BOOST_CHECK(has(m,
                    "/cfg/pipe.yaml:2: sources.xds: option 'paths': environment variable "
                    "XDS_DIR is not set (use ${XDS_DIR:-default} to give a default)"));
}

BOOST_AUTO_TEST_CASE(structure_errors) {
    auto m = problems("sources:\n  xds: {paths: [a]}\n  bad name: {type: file}\n");
    BOOST_CHECK(has(m,
                    "/cfg/pipe.yaml:2: sources.xds: option 'type': missing 'type:' (the "
                    "plugin to use)"));
    BOOST_CHECK(has(m,
                    "/cfg/pipe.yaml:3: sources.bad name: invalid component name: use letters, "
                    "digits, '_', '-' and '.'"));
    BOOST_CHECK(has(m, "/cfg/pipe.yaml:1: sinks: the pipeline has no sinks"));
    m = problems(
        "sources:\n  xds: {type: file, paths: [a], inputs: [x]}\n"
        "sinks:\n  xds: {type: test_record, path: p, inputs: [xds]}\n");
    BOOST_CHECK(has(m,
                    "/cfg/pipe.yaml:2: sources.xds: option 'inputs': a source takes no "
                    "inputs"));
    BOOST_CHECK(has(m,
                    "/cfg/pipe.yaml:4: sinks.xds: duplicate component name; 'xds' is already "
                    "used by sources.xds (line 2)"));
    m = problems("engine: {debounce: fast, max_dealy: 1s}\n" + std::string(kGood));
    BOOST_CHECK(has(m,
                    "/cfg/pipe.yaml:1: engine: option 'max_dealy': unknown option (did you "
                    "mean 'max_delay'?)"));
    BOOST_CHECK(has(m,
                    "/cfg/pipe.yaml:1: engine: option 'debounce': expected a duration such as "
                    "250ms, 10s or 1m, got 'fast'"));
    m = problems("");
    BOOST_CHECK(has(m, "/cfg/pipe.yaml: the pipeline file is empty"));
}

BOOST_AUTO_TEST_CASE(plugin_loader_errors) {
    const std::string base = std::string(std::getenv("CROSSOVER_BUILD_DIR")) + "/test-plugins";
    PluginRegistry r;
    std::vector<std::string> errors;
    r.load_directory(std::getenv("CROSSOVER_PLUGIN_DIR"), errors);
    BOOST_REQUIRE(errors.empty());
    r.load_directory(base + "/nosymbol", errors);
    r.load_directory(base + "/abi", errors);
    r.load_directory(base + "/duplicate", errors);
    r.load_directory(base + "/does-not-exist", errors);
    r.load_file(base + "/missing.so", errors);
    r.load_directory(base + "/unresolved", errors);
    BOOST_REQUIRE_EQUAL(errors.size(), 6u);
    BOOST_CHECK_EQUAL(errors[0], "plugin " + base +
                                     "/nosymbol/bad_nosymbol.so: not a crossover plugin (no "
                                     "'crossover_plugin_entry' symbol)");
    BOOST_CHECK_EQUAL(errors[1], "plugin " + base +
                                     "/abi/bad_abi.so: built for plugin ABI version " +
                                     std::to_string(CROSSOVER_ABI_VERSION + 998u) +
                                     ", but this crossover uses ABI version " +
                                     std::to_string(CROSSOVER_ABI_VERSION) +
                                     "; rebuild the plugin against this crossover's SDK");
    BOOST_CHECK_MESSAGE(errors[2].rfind("plugin " + base +
                                            "/duplicate/bad_duplicate.so: duplicate source type "
                                            "'file', already provided by ",
                                        0) == 0,
                        errors[2]);
    BOOST_CHECK_EQUAL(errors[3],
                      "plugin directory " + base + "/does-not-exist: not found or not a directory");
    BOOST_CHECK_EQUAL(errors[4], "plugin " + base + "/missing.so: file not found");
    // Loaded lazily, a plugin still fails at load when it lacks a symbol (it is linked with
    // -z now, as crossover_add_plugin links every plugin), not at its first call.
    BOOST_CHECK_MESSAGE(
        errors[5].rfind("plugin " + base +
                            "/unresolved/bad_unresolved.so: cannot "
                            "load: ",
                        0) == 0 &&
            errors[5].find("undefined symbol: crossover_test_nowhere_defined") != std::string::npos,
        errors[5]);
    BOOST_CHECK(r.find(Kind::Source, "file") != nullptr);
    BOOST_CHECK(r.find(Kind::Sink, "future") == nullptr);
}
