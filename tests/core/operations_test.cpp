// The HTTP endpoint (/healthz, /readyz, /metrics) and SIGHUP reload, scraped
// from the running binary.
#define BOOST_TEST_MODULE operations
#include <boost/test/unit_test.hpp>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <signal.h>

#include <regex>

#include "../support/process.h"

using namespace crossover::test;

namespace {

struct Http {
    int status = 0;
    std::string body;
};

Http get(const std::string& hostport, const std::string& path) {
    const auto colon = hostport.rfind(':');
    Poco::Net::HTTPClientSession session(
        hostport.substr(0, colon),
        static_cast<Poco::UInt16>(std::stoi(hostport.substr(colon + 1))));
    session.setTimeout(Poco::Timespan(5, 0));
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, path);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    Http out;
    out.status = static_cast<int>(response.getStatus());
    Poco::StreamCopier::copyToString(in, out.body);
    return out;
}

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

std::string address_of(Process& p) {
    std::string addr;
    eventually([&] {
        std::smatch m;
        const std::string err = p.err();
        if (std::regex_search(err, m, std::regex("on http://([0-9.]+:[0-9]+)"))) {
            addr = m[1];
            return true;
        }
        return false;
    });
    return addr;
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
