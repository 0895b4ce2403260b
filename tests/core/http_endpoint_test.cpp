// The HTTP endpoint's socket: bound exclusively, and probes answered while
// idle clients hold connections open.
#define BOOST_TEST_MODULE http_endpoint
#include <boost/test/unit_test.hpp>

#include <Poco/Net/StreamSocket.h>
#include <signal.h>

#include <array>
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
    // scan) or only half a request, far more of them than the endpoint has
    // threads, must not make the kubelet's probe time out: the chart gives a
    // probe 3 seconds. Were each one to hold a thread until it timed out,
    // the probe would wait behind all of them; here it is answered at once,
    // and the bound below is only generous for a loaded machine.
    std::vector<std::unique_ptr<Poco::Net::StreamSocket>> idle;
    for (int i = 0; i < 100; ++i) {
        idle.push_back(std::make_unique<Poco::Net::StreamSocket>(Poco::Net::SocketAddress(addr)));
    }
    std::vector<std::unique_ptr<Poco::Net::StreamSocket>> half;
    const std::string start = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < 20; ++i) {
        half.push_back(std::make_unique<Poco::Net::StreamSocket>(Poco::Net::SocketAddress(addr)));
        BOOST_REQUIRE_EQUAL(half.back()->sendBytes(start.data(), static_cast<int>(start.size())),
                            static_cast<int>(start.size()));
    }
    for (int round = 0; round < 3; ++round) {
        BOOST_CHECK_EQUAL(get(addr, "/healthz", 3).status, 200);
        BOOST_CHECK_EQUAL(get(addr, "/readyz", 3).status, 503);  // no input yet
    }
    // The half requests are still held, and answered once they complete.
    for (auto& s : half) {
        const std::string rest = "\r\n";
        s->sendBytes(rest.data(), static_cast<int>(rest.size()));
    }
    for (auto& s : half) {
        s->setReceiveTimeout(Poco::Timespan(10, 0));
        std::string reply;
        std::array<char, 512> buffer{};
        for (int n = 0;
             (n = s->receiveBytes(buffer.data(), static_cast<int>(buffer.size()))) > 0;) {
            reply.append(buffer.data(), static_cast<std::size_t>(n));
        }
        BOOST_CHECK_MESSAGE(reply.rfind("HTTP/1.1 200 OK\r\n", 0) == 0, reply);
        BOOST_CHECK_MESSAGE(reply.find("\r\n\r\nok\n") != std::string::npos, reply);
    }
    p.signal(SIGTERM);
    BOOST_CHECK_EQUAL(p.wait(std::chrono::seconds(10)), 0);
}

BOOST_AUTO_TEST_CASE(the_oldest_waiting_connection_makes_room_for_a_new_one) {
    TempDir t;
    write_text(t / "p.yaml", pipeline(t, "127.0.0.1:0"));
    Process p({crossover_bin(), "run", t / "p.yaml"}, t.path());
    const std::string addr = address_of(p);
    BOOST_REQUIRE_MESSAGE(!addr.empty(), p.err());
    Poco::Net::StreamSocket oldest{Poco::Net::SocketAddress(addr)};
    // More silent connections than the endpoint holds (256): the first one
    // is closed to make room long before it would time out (10 s), and the
    // probe still gets through.
    std::vector<std::unique_ptr<Poco::Net::StreamSocket>> idle;
    for (int i = 0; i < 300; ++i) {
        idle.push_back(std::make_unique<Poco::Net::StreamSocket>(Poco::Net::SocketAddress(addr)));
    }
    BOOST_CHECK_EQUAL(get(addr, "/healthz", 3).status, 200);
    oldest.setReceiveTimeout(Poco::Timespan(5, 0));
    std::array<char, 1> byte{};
    BOOST_CHECK_EQUAL(oldest.receiveBytes(byte.data(), 1), 0);
    p.signal(SIGTERM);
    BOOST_CHECK_EQUAL(p.wait(std::chrono::seconds(10)), 0);
}
