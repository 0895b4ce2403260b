// Engine behaviour in watch mode, through the real binary: propagation,
// coalescing, failures that keep the last output, retry with backoff, stop;
// and one-time mode's sources, which start while the rest is being created.
#define BOOST_TEST_MODULE engine
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include "../support/process.h"

using namespace crossover::test;

namespace {

std::string manifest(const std::string& value) {
    return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: xds, namespace: test}\n"
           "data:\n  a.yaml: |\n    value: " +
           value + "\n";
}

struct Watching {
    TempDir dir;
    std::unique_ptr<Process> proc;

    explicit Watching(const std::string& extra_sink_options = "",
                      const std::vector<std::string>& extra_args = {}) {
        write_text(dir / "in.yaml", manifest("v0"));
        write_text(dir / "p.yaml",
                   "plugin_dirs: [" + build_dir() +
                       "/test-plugins/good]\n"
                       "engine: {debounce: 5ms, max_delay: 50ms, retry_initial: 50ms, "
                       "retry_max: 200ms}\n"
                       "sources:\n"
                       "  xds: {type: file, paths: [in.yaml], watch: true}\n"
                       "transforms:\n"
                       "  check: {type: test_fail, inputs: [xds], fail_marker: BAD}\n"
                       "sinks:\n"
                       "  out: {type: test_record, inputs: [check], path: " +
                       dir.path() + "/record.txt" + extra_sink_options + "}\n");
        std::vector<std::string> argv{crossover_bin(), "run", dir / "p.yaml", "--listen", "off"};
        argv.insert(argv.end(), extra_args.begin(), extra_args.end());
        proc = std::make_unique<Process>(argv, dir.path());
        BOOST_REQUIRE_MESSAGE(eventually([&] { return has("value: v0"); }), proc->err());
    }

    bool has(const std::string& text) {
        return read_text(dir / "record.txt").find(text) != std::string::npos;
    }
    int writes() {
        const std::string r = read_text(dir / "record.txt");
        if (r.rfind("writes=", 0) != 0) {
            return 0;
        }
        return std::stoi(r.substr(7));
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(changes_propagate) {
    Watching w;
    for (int i = 1; i <= 20; ++i) {
        write_text(w.dir / "in.yaml", manifest("v" + std::to_string(i)));
        BOOST_REQUIRE_MESSAGE(
            eventually([&] { return w.has("value: v" + std::to_string(i) + "\n"); }),
            w.proc->err());
    }
    BOOST_CHECK_EQUAL(w.writes(), 21);
}

BOOST_AUTO_TEST_CASE(bursts_are_coalesced_and_the_last_state_wins) {
    Watching w;
    for (int i = 1; i <= 300; ++i) {
        write_text(w.dir / "in.yaml", manifest("burst" + std::to_string(i)));
    }
    BOOST_REQUIRE_MESSAGE(eventually([&] { return w.has("value: burst300\n"); }), w.proc->err());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    BOOST_CHECK(w.has("value: burst300\n"));
    BOOST_CHECK_LT(w.writes(), 150);  // far fewer writes than changes
}

BOOST_AUTO_TEST_CASE(freed_memory_is_returned_once_the_output_is_quiet) {
    Watching w("", {"--log-level", "debug"});
    const std::string trimmed = "returned freed memory to the system after a quiet period";
    const auto count = [&](const std::string& text) {
        const std::string e = w.proc->err();
        std::size_t n = 0;
        for (auto p = e.find(text); p != std::string::npos; p = e.find(text, p + 1)) {
            ++n;
        }
        return n;
    };
    BOOST_REQUIRE_MESSAGE(eventually([&] { return count(trimmed) == 1; }), w.proc->err());
    // Changes that follow each other closely (each waits only for the previous one's output)
    // share a trim, made after the last of them; trimming after each would fault the same
    // pages in again for the next.
    for (int i = 1; i <= 10; ++i) {
        write_text(w.dir / "in.yaml", manifest("close" + std::to_string(i)));
        BOOST_REQUIRE(eventually([&] { return w.has("value: close" + std::to_string(i) + "\n"); }));
    }
    BOOST_REQUIRE_MESSAGE(eventually([&] { return count(trimmed) >= 2; }), w.proc->err());
    const std::string e = w.proc->err();
    BOOST_CHECK_GT(e.rfind(trimmed), e.rfind("[out] sink ran in"));
    BOOST_CHECK_LT(count(trimmed), 11U);
}

BOOST_AUTO_TEST_CASE(failing_transform_keeps_the_last_output) {
    Watching w;
    write_text(w.dir / "in.yaml", manifest("BAD"));
    BOOST_REQUIRE(eventually([&] {
        return w.proc->err().find(
                   "[check] transform failed: document 'a.yaml' contains 'BAD'; "
                   "the previous output stays in place") != std::string::npos;
    }));
    BOOST_CHECK(w.has("value: v0"));
    BOOST_CHECK_EQUAL(w.writes(), 1);
    // Invalid YAML in the input: reported, last output kept, still watching.
    write_text(w.dir / "in.yaml", "apiVersion: v1\nkind: ConfigMap\ndata: [\n");
    BOOST_REQUIRE(
        eventually([&] { return w.proc->err().find("invalid YAML") != std::string::npos; }));
    BOOST_CHECK(w.has("value: v0"));
    write_text(w.dir / "in.yaml", manifest("good"));
    BOOST_REQUIRE(eventually([&] { return w.has("value: good"); }));
    BOOST_CHECK(w.proc->running());
}

BOOST_AUTO_TEST_CASE(missing_input_keeps_the_last_output) {
    Watching w;
    std::filesystem::remove(w.dir / "in.yaml");
    BOOST_REQUIRE(eventually([&] {
        return w.proc->err().find("input 'xds' is incomplete (missing: file " + w.dir.path() +
                                  "/in.yaml); keeping the last output") != std::string::npos;
    }));
    BOOST_CHECK(w.has("value: v0"));
    write_text(w.dir / "in.yaml", manifest("back"));
    BOOST_REQUIRE(eventually([&] { return w.has("value: back"); }));
}

BOOST_AUTO_TEST_CASE(failing_sink_is_retried_with_backoff) {
    Watching w(", fail_while_exists: " + std::string("FAILFLAG"), {"--log-level", "debug"});
    write_text(w.dir / "FAILFLAG", "x");
    write_text(w.dir / "in.yaml", manifest("retry"));
    BOOST_REQUIRE(eventually([&] {
        return w.proc->err().find("[out] sink failed: failing on purpose") != std::string::npos;
    }));
    // Several retries happen without any input change, spaced by the backoff; the unchanged
    // error is logged once, its retries at debug level.
    BOOST_REQUIRE(eventually([&] {
        const std::string e = w.proc->err();
        std::size_t n = 0;
        for (auto p = e.find("[out] sink failed"); p != std::string::npos;
             p = e.find("[out] sink failed", p + 1)) {
            ++n;
        }
        return n >= 3;
    }));
    const std::string e = w.proc->err();
    BOOST_CHECK_EQUAL(e.find(" error [out] sink failed: "), e.rfind(" error [out] sink failed: "));
    BOOST_CHECK_NE(e.find(" debug [out] sink failed again: "), std::string::npos);
    BOOST_CHECK(w.has("value: v0"));
    std::filesystem::remove(w.dir / "FAILFLAG");
    BOOST_REQUIRE(eventually([&] { return w.has("value: retry"); }));
    // The engine logs the recovery once the sink has returned, just after the files appear.
    BOOST_CHECK(
        eventually([&] { return w.proc->err().find("[out] recovered") != std::string::npos; }));
}

BOOST_AUTO_TEST_CASE(sigterm_and_sigint_stop_cleanly) {
    for (const int sig : {SIGTERM, SIGINT}) {
        Watching w;
        w.proc->signal(sig);
        BOOST_CHECK_EQUAL(w.proc->wait(std::chrono::seconds(10)), 0);
        BOOST_CHECK_NE(w.proc->err().find("stopping"), std::string::npos);
    }
}

namespace {

// A one-time pipeline whose sink takes `delay` to create (the source runs meanwhile).
std::string onetime_pipeline(const TempDir& dir, const std::string& sink_options) {
    return "plugin_dirs: [" + build_dir() +
           "/test-plugins/good]\n"
           "sources:\n"
           "  xds: {type: file, paths: [in.yaml]}\n"
           "sinks:\n"
           "  out: {type: test_record, inputs: [xds], path: " +
           dir.path() + "/record.txt, delay: 300ms" + sink_options + "}\n";
}

}  // namespace

BOOST_AUTO_TEST_CASE(onetime_sources_start_early_and_report_as_before) {
    TempDir dir;
    // The source fails at once (no in.yaml) while the sink is still being created: its
    // error comes after the sink's creation and before the reason the run failed.
    write_text(dir / "p.yaml", onetime_pipeline(dir, ""));
    auto r = run({crossover_bin(), "run", dir / "p.yaml", "--onetime"}, dir.path());
    BOOST_CHECK_EQUAL(r.code, 1);
    const auto missing = r.err.find("error [xds] missing file " + dir.path() + "/in.yaml");
    const auto reason = r.err.find("error cannot write the output: sources.xds: missing file");
    BOOST_CHECK_MESSAGE(
        missing != std::string::npos && reason != std::string::npos && missing < reason, r.err);

    // A component that cannot be created stops the start: the source that already ran
    // says nothing, as if it had never started.
    write_text(dir / "p.yaml", onetime_pipeline(dir, ", count: -1"));
    r = run({crossover_bin(), "run", dir / "p.yaml", "--onetime"}, dir.path());
    BOOST_CHECK_EQUAL(r.code, 2);
    BOOST_CHECK_MESSAGE(
        r.err.find("sinks.out: option 'count': must not be negative") != std::string::npos, r.err);
    BOOST_CHECK_MESSAGE(r.err.find("missing file") == std::string::npos, r.err);

    write_text(dir / "in.yaml", manifest("early"));
    write_text(dir / "p.yaml", onetime_pipeline(dir, ""));
    r = run({crossover_bin(), "run", dir / "p.yaml", "--onetime"}, dir.path());
    BOOST_CHECK_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK_NE(read_text(dir / "record.txt").find("value: early"), std::string::npos);
}
