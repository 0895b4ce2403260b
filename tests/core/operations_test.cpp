// The HTTP endpoint (/healthz, /readyz, /metrics) and SIGHUP reload, scraped
// from the running binary.
#define BOOST_TEST_MODULE operations
#include <boost/test/unit_test.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>

#include <regex>
#include <sstream>

#include "../support/http.h"
#include "../support/process.h"

using namespace crossover::test;

namespace {

std::string manifest(const std::string& value) {
    return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: xds, namespace: test}\n"
           "data:\n  a.yaml: |\n    value: " +
           value + "\n";
}

std::string pipeline(const TempDir& dir, const std::string& record) {
    return "plugin_dirs: [" + build_dir() +
           "/test-plugins/good]\n"
           "server: {listen: '127.0.0.1:0'}\n"
           "sources:\n"
           "  xds: {type: file, paths: [in.yaml], watch: true}\n"
           "sinks:\n"
           "  out: {type: test_record, inputs: [xds], path: " +
           dir.path() + "/" + record + "}\n";
}

double metric(const std::string& text, const std::string& name) {
    std::smatch m;
    if (std::regex_search(text, m, std::regex("\n" + name + " ([0-9.e+-]+)"))) {
        return std::stod(m[1]);
    }
    return -1;
}

}  // namespace

BOOST_AUTO_TEST_CASE(probes_and_metrics) {
    TempDir t;
    write_text(t / "p.yaml", pipeline(t, "rec.txt"));
    // No input yet: alive, but not ready, and /readyz says why.
    Process p({crossover_bin(), "run", t / "p.yaml"}, t.path());
    const std::string addr = address_of(p);
    BOOST_REQUIRE_MESSAGE(!addr.empty(), p.err());
    BOOST_REQUIRE(eventually([&] { return get(addr, "/healthz").status == 200; }));
    BOOST_REQUIRE(eventually([&] { return p.err().find("missing file") != std::string::npos; }));
    Http ready = get(addr, "/readyz");
    BOOST_CHECK_EQUAL(ready.status, 503);
    BOOST_CHECK_MESSAGE(ready.body.find("xds: file " + t.path() + "/in.yaml") != std::string::npos,
                        ready.body);
    BOOST_CHECK_NE(ready.body.find("out: no complete output written yet"), std::string::npos);
    BOOST_CHECK_EQUAL(metric(get(addr, "/metrics").body, "crossover_ready"), 0);

    write_text(t / "in.yaml", manifest("one"));
    BOOST_REQUIRE(eventually([&] { return get(addr, "/readyz").status == 200; }));
    write_text(t / "in.yaml", manifest("two"));
    BOOST_REQUIRE(eventually(
        [&] { return read_text(t / "rec.txt").find("value: two") != std::string::npos; }));
    const std::string m = get(addr, "/metrics").body;
    BOOST_CHECK_EQUAL(metric(m, "crossover_ready"), 1);
    BOOST_CHECK_EQUAL(metric(m, "crossover_sink_writes_total\\{component=\"out\"\\}"), 2);
    BOOST_CHECK_EQUAL(
        metric(m, "crossover_change_to_write_latency_seconds_count\\{component=\"out\"\\}"), 2);
    BOOST_CHECK_EQUAL(metric(m, "crossover_source_documents\\{component=\"xds\"\\}"), 1);
    BOOST_CHECK_GE(metric(m, "crossover_pipeline_runs_total\\{component=\"out\",kind=\"sink\"\\}"),
                   2);
    BOOST_CHECK_GT(
        metric(m, "crossover_last_successful_write_timestamp_seconds\\{component=\"out\"\\}"),
        1.7e9);
    BOOST_CHECK_EQUAL(get(addr, "/nope").status, 404);
    p.signal(SIGTERM);
    BOOST_CHECK_EQUAL(p.wait(std::chrono::seconds(10)), 0);
}

// A write to a peer that has gone away raises SIGPIPE, which would end the process.
BOOST_AUTO_TEST_CASE(sigpipe_does_not_stop_crossover) {
    TempDir t;
    write_text(t / "in.yaml", manifest("one"));
    write_text(t / "p.yaml", pipeline(t, "rec.txt"));
    Process p({crossover_bin(), "run", t / "p.yaml"}, t.path());
    const std::string addr = address_of(p);
    BOOST_REQUIRE_MESSAGE(!addr.empty(), p.err());
    BOOST_REQUIRE(eventually([&] { return std::filesystem::exists(t / "rec.txt"); }));
    p.signal(SIGPIPE);
    write_text(t / "in.yaml", manifest("two"));
    BOOST_REQUIRE_MESSAGE(eventually([&] {
                              return read_text(t / "rec.txt").find("value: two") !=
                                     std::string::npos;
                          }),
                          p.err());
    BOOST_CHECK(p.running());
    BOOST_CHECK_EQUAL(get(addr, "/healthz").status, 200);
    p.signal(SIGTERM);
    BOOST_CHECK_EQUAL(p.wait(std::chrono::seconds(10)), 0);
}

BOOST_AUTO_TEST_CASE(sighup_reloads_a_valid_file_and_rejects_an_invalid_one) {
    TempDir t;
    write_text(t / "in.yaml", manifest("one"));
    write_text(t / "p.yaml", pipeline(t, "first.txt"));
    Process p({crossover_bin(), "run", t / "p.yaml"}, t.path());
    const std::string addr = address_of(p);
    BOOST_REQUIRE(eventually([&] { return std::filesystem::exists(t / "first.txt"); }));

    write_text(t / "p.yaml", pipeline(t, "second.txt"));
    p.signal(SIGHUP);
    BOOST_REQUIRE_MESSAGE(eventually([&] { return std::filesystem::exists(t / "second.txt"); }),
                          p.err());
    BOOST_CHECK_NE(p.err().find("switched to the new pipeline"), std::string::npos);

    write_text(t / "p.yaml", pipeline(t, "third.txt") + "  bad: {type: test_record}\n");
    p.signal(SIGHUP);
    BOOST_REQUIRE(eventually(
        [&] { return p.err().find("the new pipeline file is invalid") != std::string::npos; }));
    BOOST_CHECK_NE(p.err().find("sinks.bad: option 'inputs'"), std::string::npos);
    // The old pipeline still runs and follows changes.
    write_text(t / "in.yaml", manifest("after"));
    BOOST_REQUIRE(eventually(
        [&] { return read_text(t / "second.txt").find("value: after") != std::string::npos; }));
    BOOST_CHECK(!std::filesystem::exists(t / "third.txt"));
    BOOST_CHECK(p.running());
    const std::string m = get(addr, "/metrics").body;
    BOOST_CHECK_EQUAL(metric(m, "crossover_reloads_total\\{result=\"success\"\\}"), 1);
    BOOST_CHECK_EQUAL(metric(m, "crossover_reloads_total\\{result=\"failure\"\\}"), 1);
}

namespace {

// Lines of `text` that are not one JSON object each.
std::vector<std::string> non_json_lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && (line.front() != '{' || line.back() != '}')) {
            out.push_back(line);
        }
    }
    return out;
}

std::size_t occurrences(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
        ++n;
    }
    return n;
}

}  // namespace

// A reload whose file is valid but whose components cannot be created falls back to the
// running pipeline: a failure, not a success. In JSON mode every line stays JSON, the reload
// errors included.
BOOST_AUTO_TEST_CASE(reload_that_falls_back_is_a_failure_and_json_logs_stay_json) {
    TempDir t;
    write_text(t / "in.yaml", manifest("one"));
    const std::string good = pipeline(t, "first.txt");
    write_text(t / "p.yaml", good);
    Process p({crossover_bin(), "run", t / "p.yaml", "--log-format", "json"}, t.path());
    const std::string addr = address_of(p);
    BOOST_REQUIRE_MESSAGE(!addr.empty(), p.err());
    BOOST_REQUIRE(eventually([&] { return std::filesystem::exists(t / "first.txt"); }));

    // Invalid file: refused before anything changes.
    write_text(t / "p.yaml", good + "  bad: {type: test_record}\n");
    p.signal(SIGHUP);
    BOOST_REQUIRE(eventually(
        [&] { return p.err().find("the new pipeline file is invalid") != std::string::npos; }));
    // Valid file, but the sink refuses count: -1 when it is created.
    std::string refused = pipeline(t, "second.txt");
    refused.replace(refused.rfind('}'), 1, ", count: -1}");
    write_text(t / "p.yaml", refused);
    p.signal(SIGHUP);
    BOOST_REQUIRE_MESSAGE(eventually([&] {
                              return p.err().find("going back to the previous one") !=
                                     std::string::npos;
                          }),
                          p.err());
    write_text(t / "in.yaml", manifest("after"));
    BOOST_REQUIRE(eventually(
        [&] { return read_text(t / "first.txt").find("value: after") != std::string::npos; }));
    const std::string m = get(addr, "/metrics").body;
    BOOST_CHECK_EQUAL(metric(m, "crossover_reloads_total\\{result=\"failure\"\\}"), 2);
    BOOST_CHECK_EQUAL(metric(m, "crossover_reloads_total\\{result=\"success\"\\}"), -1);
    const std::string err = p.err();
    BOOST_CHECK_NE(err.find("must not be negative"), std::string::npos);
    BOOST_CHECK_NE(err.find("option 'inputs'"), std::string::npos);
    const auto plain = non_json_lines(err);
    BOOST_CHECK_MESSAGE(plain.empty(), "not JSON: " << (plain.empty() ? "" : plain.front()));
    p.signal(SIGTERM);
    BOOST_CHECK_EQUAL(p.wait(std::chrono::seconds(10)), 0);
}

// A failing transform: the probes keep their meaning (Envoy serves the last good files),
// while a gauge per component, the age of the change not yet written and /status show it.
// The failure is logged once, not on every retry, and its clearing once ("recovered").
BOOST_AUTO_TEST_CASE(staleness_is_visible_and_a_failure_is_logged_once) {
    TempDir t;
    write_text(t / "in.yaml", manifest("one"));
    write_text(t / "p.yaml", "plugin_dirs: [" + build_dir() +
                                 "/test-plugins/good]\n"
                                 "server: {listen: '127.0.0.1:0'}\n"
                                 "engine: {retry_initial: 20ms, retry_max: 40ms}\n"
                                 "sources:\n"
                                 "  xds: {type: file, paths: [in.yaml], watch: true}\n"
                                 "transforms:\n"
                                 "  check: {type: test_fail, inputs: [xds], fail_marker: BAD}\n"
                                 "sinks:\n"
                                 "  out: {type: test_record, inputs: [check], path: " +
                                 t.path() + "/rec.txt}\n");
    Process p({crossover_bin(), "run", t / "p.yaml", "--log-level", "debug"}, t.path());
    const std::string addr = address_of(p);
    BOOST_REQUIRE_MESSAGE(!addr.empty(), p.err());
    BOOST_REQUIRE(eventually([&] { return get(addr, "/readyz").status == 200; }));
    const std::string ok_metric =
        "crossover_component_ok\\{component=\"check\",kind=\"transform\"\\}";
    BOOST_CHECK_EQUAL(metric(get(addr, "/metrics").body, ok_metric), 1);
    BOOST_CHECK_EQUAL(metric(get(addr, "/metrics").body, "crossover_pending_input_age_seconds"), 0);

    write_text(t / "in.yaml", manifest("BAD"));
    const std::string failures =
        "crossover_pipeline_failures_total\\{component=\"check\",kind=\"transform\"\\}";
    BOOST_REQUIRE(eventually([&] { return metric(get(addr, "/metrics").body, failures) >= 4; }));
    const std::string m = get(addr, "/metrics").body;
    BOOST_CHECK_EQUAL(metric(m, ok_metric), 0);
    BOOST_CHECK_EQUAL(metric(m, "crossover_component_ok\\{component=\"xds\",kind=\"source\"\\}"),
                      1);
    BOOST_CHECK_GT(metric(m, "crossover_pending_input_age_seconds"), 0);
    BOOST_CHECK_GE(
        metric(m, "crossover_log_messages_total\\{component=\"check\",level=\"error\"\\}"), 1);
    const Http status = get(addr, "/status");
    BOOST_CHECK_EQUAL(status.status, 200);
    BOOST_CHECK_MESSAGE(
        status.body.find(R"("name":"check","kind":"transform","ok":false)") != std::string::npos,
        status.body);
    BOOST_CHECK_MESSAGE(status.body.find("contains 'BAD'") != std::string::npos, status.body);
    BOOST_CHECK_MESSAGE(status.body.find(R"("ready":true)") != std::string::npos, status.body);
    // The probes keep their meaning.
    BOOST_CHECK_EQUAL(get(addr, "/healthz").status, 200);
    BOOST_CHECK_EQUAL(get(addr, "/readyz").status, 200);

    write_text(t / "in.yaml", manifest("two"));
    BOOST_REQUIRE(eventually(
        [&] { return read_text(t / "rec.txt").find("value: two") != std::string::npos; }));
    BOOST_REQUIRE(eventually([&] { return metric(get(addr, "/metrics").body, ok_metric) == 1; }));
    BOOST_CHECK_EQUAL(metric(get(addr, "/metrics").body, "crossover_pending_input_age_seconds"), 0);
    BOOST_CHECK_NE(get(addr, "/status").body.find(R"("name":"check","kind":"transform","ok":true)"),
                   std::string::npos);
    const std::string err = p.err();
    BOOST_CHECK_EQUAL(occurrences(err, " error [check] transform failed: "), 1u);
    BOOST_CHECK_GE(occurrences(err, " debug [check] transform failed again: "), 2u);
    BOOST_CHECK_EQUAL(occurrences(err, " info [check] recovered"), 1u);
    // Debug level says what ran and how long it took.
    BOOST_CHECK_NE(err.find(" debug [check] transform ran in "), std::string::npos);
    p.signal(SIGTERM);
    BOOST_CHECK_EQUAL(p.wait(std::chrono::seconds(10)), 0);
}

// SIGTERM while crossover is still reading its pipeline file (here a large one) is held until
// the handler runs: a clean stop (exit 0), never death by the signal (143).
BOOST_AUTO_TEST_CASE(sigterm_during_start_up_stops_cleanly) {
    TempDir t;
    write_text(t / "in.yaml", manifest("one"));
    std::string big = pipeline(t, "rec.txt");
    for (int i = 0; i < 40000; ++i) {
        big += "# a comment that makes the file take a while to read and parse\n";
    }
    write_text(t / "p.yaml", big);
    for (int round = 0; round < 3; ++round) {
        BOOST_TEST_CONTEXT("round " << round) {
            const int fd = ::inotify_init1(IN_CLOEXEC);
            BOOST_REQUIRE(fd >= 0);
            BOOST_REQUIRE(::inotify_add_watch(fd, (t / "p.yaml").c_str(), IN_OPEN) >= 0);
            Process p({crossover_bin(), "run", t / "p.yaml"}, t.path());
            pollfd pfd{fd, POLLIN, 0};
            BOOST_REQUIRE(::poll(&pfd, 1, 30000) == 1);  // crossover opened the file
            p.signal(SIGTERM);
            ::close(fd);
            const int code = p.wait(std::chrono::seconds(30));
            BOOST_TEST(code == 0, "exit " << code << "\n" << p.err());
        }
    }
}
