// HTTP/2 keepalive as the options set it, seen from a bare HTTP/2 connection
// that shows every frame the server sends: the server pings an idle
// connection every keepalive_time, closes one that does not answer within
// keepalive_timeout, keeps pinging an idle client that does answer, and sends
// no ping to a connection without calls unless keepalive_permit_without_calls.
#define BOOST_TEST_MODULE sink_xds_server_keepalive
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <string>

#include "test_support.h"

using namespace crossover::xds_server;
using namespace crossover::xds_server::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::uint8_t kSettings = 0x4;
constexpr std::uint8_t kPing = 0x6;
constexpr std::uint8_t kAckFlag = 0x1;

// A client connection that speaks just enough HTTP/2 to be served: the
// preface, its SETTINGS and an ACK of the server's. It opens no stream.
class BareHttp2 {
public:
    explicit BareHttp2(int port, bool answer_pings) : answer_pings_(answer_pings) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<std::uint16_t>(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
        send_raw("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        send_frame(kSettings, 0, {});
    }
    ~BareHttp2() { ::close(fd_); }
    BareHttp2(const BareHttp2&) = delete;
    BareHttp2& operator=(const BareHttp2&) = delete;
    BareHttp2(BareHttp2&&) = delete;
    BareHttp2& operator=(BareHttp2&&) = delete;

    [[nodiscard]] bool connected() const { return connected_; }
    [[nodiscard]] int pings() const { return pings_; }
    [[nodiscard]] bool closed() const { return closed_; }

    // Reads frames until `done()` holds, the server closes the connection or
    // `timeout` passes; returns done().
    template <typename F>
    bool read_until(F&& done, std::chrono::milliseconds timeout) {
        const auto deadline = Clock::now() + timeout;
        while (!done() && !closed_) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0) {
                break;
            }
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
                continue;
            }
            std::array<char, 4096> chunk{};
            const ssize_t n = ::recv(fd_, chunk.data(), chunk.size(), 0);
            if (n <= 0) {
                closed_ = true;
                break;
            }
            buffer_.append(chunk.data(), static_cast<std::size_t>(n));
            frames();
        }
        return done();
    }

private:
    void send_raw(const std::string& bytes) {
        (void)::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    }
    void send_frame(std::uint8_t type, std::uint8_t flags, const std::string& payload) {
        std::string f;
        f += static_cast<char>((payload.size() >> 16U) & 0xffU);
        f += static_cast<char>((payload.size() >> 8U) & 0xffU);
        f += static_cast<char>(payload.size() & 0xffU);
        f += static_cast<char>(type);
        f += static_cast<char>(flags);
        f.append(4, '\0');  // stream 0
        send_raw(f + payload);
    }
    // Handles every complete frame in the buffer.
    void frames() {
        while (buffer_.size() >= 9) {
            const auto byte = [&](std::size_t i) {
                return static_cast<std::size_t>(static_cast<unsigned char>(buffer_[i]));
            };
            const std::size_t length = (byte(0) << 16U) | (byte(1) << 8U) | byte(2);
            if (buffer_.size() < 9 + length) {
                return;
            }
            const auto type = static_cast<std::uint8_t>(byte(3));
            const auto flags = static_cast<std::uint8_t>(byte(4));
            const std::string payload = buffer_.substr(9, length);
            buffer_.erase(0, 9 + length);
            if (type == kSettings && (flags & kAckFlag) == 0) {
                send_frame(kSettings, kAckFlag, {});
            } else if (type == kPing && (flags & kAckFlag) == 0) {
                ++pings_;
                if (answer_pings_) {
                    send_frame(kPing, kAckFlag, payload);
                }
            }
        }
    }

    int fd_ = -1;
    bool connected_ = false;
    bool answer_pings_;
    bool closed_ = false;
    int pings_ = 0;
    std::string buffer_;
};

ServerOptions keepalive(std::chrono::milliseconds time, std::chrono::milliseconds timeout,
                        bool permit_without_calls) {
    ServerOptions o = ServerFixture::options();
    o.keepalive_ms = time.count();
    o.keepalive_timeout_ms = timeout.count();
    o.keepalive_permit_without_calls = permit_without_calls;
    return o;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_client_that_does_not_answer_pings_is_disconnected) {
    const auto* api = api_or_skip();
    if (api == nullptr) {
        return;
    }
    ServerFixture f(*api, keepalive(200ms, 300ms, true));
    BareHttp2 c(f.server().port(), false);
    BOOST_REQUIRE(c.connected());
    BOOST_TEST(c.read_until([&] { return c.pings() >= 1; }, 20s));
    BOOST_TEST(c.read_until([&] { return c.closed(); }, 20s), "still connected");
}

BOOST_AUTO_TEST_CASE(an_idle_client_that_answers_is_kept_and_pinged_again_and_again) {
    const auto* api = api_or_skip();
    if (api == nullptr) {
        return;
    }
    ServerFixture f(*api, keepalive(100ms, 5s, true));
    BareHttp2 c(f.server().port(), true);
    BOOST_REQUIRE(c.connected());
    // No data flows either way: the pings go on all the same.
    BOOST_TEST(c.read_until([&] { return c.pings() >= 4; }, 20s), c.pings() << " pings");
    BOOST_TEST(!c.closed());
}

BOOST_AUTO_TEST_CASE(without_calls_no_ping_unless_permitted) {
    const auto* api = api_or_skip();
    if (api == nullptr) {
        return;
    }
    ServerFixture f(*api, keepalive(100ms, 300ms, false));
    BareHttp2 c(f.server().port(), false);
    BOOST_REQUIRE(c.connected());
    // Ten keepalive periods without a call: no ping, and the connection stays.
    BOOST_TEST(!c.read_until([&] { return c.pings() > 0; }, 1s), c.pings() << " pings");
    BOOST_TEST(!c.closed());
}
