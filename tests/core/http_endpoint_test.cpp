// The HTTP endpoint's socket: bound exclusively, and probes answered while
// idle clients hold connections open.
#define BOOST_TEST_MODULE http_endpoint
#include <boost/test/unit_test.hpp>

#include <Poco/Net/StreamSocket.h>
#include <signal.h>

#include <memory>
#include <vector>

#include "../support/http.h"
#include "../support/process.h"

using namespace crossover::test;

namespace {

std::string pipeline(const TempDir& dir, const std::string& listen) {
    return "plugin_dirs: [" + build_dir() +
           "/test-plugins/good]\n"
           "server: {listen: '" +
           listen +
           "'}\n"
           "sources:\n"
           "  xds: {type: file, paths: [in.yaml], watch: true}\n"
           "sinks:\n"
           "  out: {type: test_record, inputs: [xds], path: " +
           dir.path() + "/rec.txt}\n";
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_taken_port_is_a_start_up_error) {
    TempDir t;
    write_text(t / "p.yaml", pipeline(t, "127.0.0.1:0"));
    Process first({crossover_bin(), "run", t / "p.yaml"}, t.path());
    const std::string addr = address_of(first);
    BOOST_REQUIRE_MESSAGE(!addr.empty(), first.err());
    // A second process on the same port must not share it (SO_REUSEPORT).
    auto r = run({crossover_bin(), "run", t / "p.yaml", "--listen", addr}, t.path(),
                 std::chrono::seconds(30));
    BOOST_CHECK_EQUAL(r.code, 2);
    BOOST_CHECK_MESSAGE(r.err.find("cannot listen on " + addr) != std::string::npos, r.err);
    BOOST_CHECK_MESSAGE(r.err.find("is another process using the port?") != std::string::npos,
                        r.err);
    BOOST_CHECK(first.running());
    BOOST_CHECK_EQUAL(get(addr, "/healthz").status, 200);
    first.signal(SIGTERM);
    BOOST_CHECK_EQUAL(first.wait(std::chrono::seconds(10)), 0);
}

BOOST_AUTO_TEST_CASE(probes_are_answered_while_idle_clients_hold_connections) {
    TempDir t;
    write_text(t / "p.yaml", pipeline(t, "127.0.0.1:0"));
    Process p({crossover_bin(), "run", t / "p.yaml"}, t.path());
    const std::string addr = address_of(p);
    BOOST_REQUIRE_MESSAGE(!addr.empty(), p.err());
    BOOST_REQUIRE(eventually([&] {
        try {
            return get(addr, "/healthz").status == 200;
        } catch (const Poco::Exception&) {
            return false;
        }
    }));
    // Clients that connect and send nothing (a half-open scraper, a port
    // scan), more of them than the endpoint has threads, must not make the
    // kubelet's probe time out: the chart gives a probe 3 seconds.
    std::vector<std::unique_ptr<Poco::Net::StreamSocket>> idle;
    for (int i = 0; i < 12; ++i) {
        idle.push_back(std::make_unique<Poco::Net::StreamSocket>(Poco::Net::SocketAddress(addr)));
    }
    for (int round = 0; round < 3; ++round) {
        BOOST_CHECK_EQUAL(get(addr, "/healthz", 3).status, 200);
        BOOST_CHECK_EQUAL(get(addr, "/readyz", 3).status, 503);  // no input yet
    }
    p.signal(SIGTERM);
    BOOST_CHECK_EQUAL(p.wait(std::chrono::seconds(10)), 0);
}
