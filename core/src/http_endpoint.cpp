#include "http_endpoint.h"

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Timestamp.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>

namespace crossover::core {

namespace {

using Clock = std::chrono::steady_clock;

// Room for a burst of new connections while the poll loop is busy.
constexpr int kBacklog = 256;
constexpr std::size_t kWorkers = 4;
// Connections waiting for their request head; the oldest goes first when full.
constexpr std::size_t kMaxHeld = 256;
// Complete requests waiting for a worker.
constexpr std::size_t kMaxQueued = 64;
constexpr std::size_t kMaxRequestBytes = 8192;
constexpr auto kIdleTimeout = std::chrono::seconds(10);
constexpr std::chrono::seconds kSendTimeout(1);
constexpr int kPollMillis = 100;  // how soon stop() is noticed

using Poco::Net::HTTPResponse;

// An accepted socket, closed when dropped.
class Connection {
public:
    Connection() = default;
    explicit Connection(int fd) : fd_(fd) {}
    Connection(Connection&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Connection& operator=(Connection&& other) noexcept {
        if (this != &other) {
            close();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection() { close(); }
    [[nodiscard]] int fd() const { return fd_; }

private:
    void close() {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }
    int fd_ = -1;
};

struct Reply {
    HTTPResponse::HTTPStatus status = HTTPResponse::HTTP_OK;
    std::string type = "text/plain; charset=utf-8";
    std::string body;
};

Reply route(const HealthProbe& probe, const std::string& method, std::string path) {
    if (const auto q = path.find('?'); q != std::string::npos) {
        path.resize(q);
    }
    Reply r;
    if (method != "GET" && method != "HEAD") {
        r.status = HTTPResponse::HTTP_METHOD_NOT_ALLOWED;
        r.body = "method not allowed\n";
    } else if (path == "/healthz") {
        const bool alive = probe.alive();
        r.status = alive ? HTTPResponse::HTTP_OK : HTTPResponse::HTTP_SERVICE_UNAVAILABLE;
        r.body = alive ? "ok\n" : "engine loop is not responding\n";
    } else if (path == "/readyz") {
        std::vector<std::string> why;
        const bool ready = probe.ready(why);
        r.status = ready ? HTTPResponse::HTTP_OK : HTTPResponse::HTTP_SERVICE_UNAVAILABLE;
        r.body = ready ? "ok\n" : "not ready:\n";
        for (const auto& w : why) {
            r.body += "- " + w + "\n";
        }
    } else if (path == "/metrics") {
        r.body = probe.metrics();
        r.type = "text/plain; version=0.0.4; charset=utf-8";
    } else if (path == "/status" && probe.status) {
        r.body = probe.status();
        r.type = "application/json";
    } else {
        r.status = HTTPResponse::HTTP_NOT_FOUND;
        r.body = "not found; try /healthz, /readyz, /metrics or /status\n";
    }
    return r;
}

// The bytes to send back for a request head (request line and headers).
std::string answer(const HealthProbe& probe, const std::string& head) {
    Reply reply;
    Poco::Net::HTTPRequest request;
    try {
        std::istringstream in(head);
        request.read(in);
    } catch (const Poco::Exception&) {
        reply.status = HTTPResponse::HTTP_BAD_REQUEST;
        reply.body = "bad request\n";
    }
    const std::string& method = request.getMethod();
    if (reply.status == HTTPResponse::HTTP_OK) {
        try {
            reply = route(probe, method, request.getURI());
        } catch (const std::exception& e) {
            // A probe callback failed: say so instead of ending the process.
            reply = Reply{};
            reply.status = HTTPResponse::HTTP_INTERNAL_SERVER_ERROR;
            reply.body = std::string("internal error: ") + e.what() + "\n";
        }
    }
    // Answer in the request's version, as Poco's server did.
    const std::string& version = request.getVersion() == Poco::Net::HTTPMessage::HTTP_1_1
                                     ? Poco::Net::HTTPMessage::HTTP_1_1
                                     : Poco::Net::HTTPMessage::HTTP_1_0;
    HTTPResponse response(version, reply.status);
    response.setContentType(reply.type);
    response.setContentLength(static_cast<std::streamsize>(reply.body.size()));
    response.setKeepAlive(false);
    response.set("Date", Poco::DateTimeFormatter::format(Poco::Timestamp(),
                                                         Poco::DateTimeFormat::HTTP_FORMAT));
    std::ostringstream out;
    response.write(out);
    if (method != "HEAD") {
        out << reply.body;
    }
    return out.str();
}

}  // namespace

// Why not Poco's HTTPServer: it hands a connection to a thread as soon as it
// is accepted, so clients that connect and send nothing (a port scan, a
// half-open scraper) or send half a request hold the threads until they time
// out, and a kubelet probe queued behind them waits. Here one thread polls
// the listening socket and every accepted connection until its request head
// has arrived in full, and only then hands it to a worker. A held connection
// costs a descriptor and a small buffer, not a thread; at most kMaxHeld are
// held, the oldest is dropped to make room for a new one, and one silent for
// kIdleTimeout is dropped. Workers only route, run the probe callbacks and
// send, with a send timeout, so a probe waits for other probes' work at most.
struct HttpEndpoint::Server {
    // Poco sockets are shared handles: this keeps the bound socket open.
    Server(const HealthProbe& probe, const Poco::Net::ServerSocket& socket)
        : probe_(probe), listener_(socket) {
        listener_.setBlocking(false);
        for (std::size_t i = 0; i < kWorkers; ++i) {
            workers_.emplace_back([this] { work(); });
        }
        poller_ = std::thread([this] { poll_loop(); });
    }

    ~Server() {
        stopping_ = true;
        poller_.join();
        {
            const std::lock_guard lock(mutex_);
            workers_stopping_ = true;
        }
        wake_.notify_all();
        for (auto& w : workers_) {
            w.join();
        }
    }

    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

private:
    struct Held {
        Connection connection;
        std::string head;
        Clock::time_point since;
    };
    struct Job {
        Connection connection;
        std::string head;
    };

    void poll_loop() {
        std::deque<Held> held;  // oldest first
        std::vector<pollfd> fds;
        while (!stopping_) {
            fds.clear();
            fds.push_back({listener_.impl()->sockfd(), POLLIN, 0});
            for (const auto& h : held) {
                fds.push_back({h.connection.fd(), POLLIN, 0});
            }
            if (::poll(fds.data(), fds.size(), kPollMillis) < 0) {
                continue;  // EINTR; anything else shows up again next round
            }
            const auto now = Clock::now();
            std::deque<Held> waiting;
            for (std::size_t i = 0; i < held.size(); ++i) {
                auto& h = held[i];
                if ((fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
                    if (!receive(h)) {
                        continue;  // closed, failed or too long: dropped
                    }
                    if (h.head.find("\r\n\r\n") != std::string::npos) {
                        hand_over(Job{std::move(h.connection), std::move(h.head)});
                        continue;
                    }
                }
                if (now - h.since < kIdleTimeout) {
                    waiting.push_back(std::move(h));
                }
            }
            held = std::move(waiting);
            if ((fds[0].revents & POLLIN) != 0) {
                accept_new(held, now);
            }
        }
    }

    // Appends what has arrived; false when the connection is to be dropped.
    static bool receive(Held& h) {
        std::array<char, 4096> buffer{};
        const auto n = ::recv(h.connection.fd(), buffer.data(), buffer.size(), 0);
        if (n <= 0) {
            return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
        }
        h.head.append(buffer.data(), static_cast<std::size_t>(n));
        return h.head.size() <= kMaxRequestBytes;
    }

    void accept_new(std::deque<Held>& held, Clock::time_point now) {
        for (std::size_t i = 0; i < kMaxHeld; ++i) {
            const int fd = ::accept4(listener_.impl()->sockfd(), nullptr, nullptr,
                                     SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                return;  // none left (EAGAIN), or one that reset before we got it
            }
            if (held.size() >= kMaxHeld) {
                held.pop_front();
            }
            held.push_back(Held{Connection(fd), {}, now});
        }
    }

    void hand_over(Job job) {
        {
            const std::lock_guard lock(mutex_);
            if (jobs_.size() >= kMaxQueued) {
                return;  // every worker stuck on a slow reader: drop, do not pile up
            }
            jobs_.push_back(std::move(job));
        }
        wake_.notify_one();
    }

    void work() {
        for (;;) {
            Job job;
            {
                std::unique_lock lock(mutex_);
                wake_.wait(lock, [this] { return workers_stopping_ || !jobs_.empty(); });
                if (workers_stopping_) {
                    return;
                }
                job = std::move(jobs_.front());
                jobs_.pop_front();
            }
            send_all(job.connection.fd(), answer(probe_, job.head));
        }
    }

    static void send_all(int fd, const std::string& bytes) {
        // Blocking with a timeout: a client that does not read its answer
        // holds a worker for kSendTimeout at most.
        const int flags = ::fcntl(fd, F_GETFL);
        if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
            return;
        }
        timeval timeout{};
        timeout.tv_sec = kSendTimeout.count();
        if (::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout) < 0) {
            return;
        }
        std::size_t sent = 0;
        while (sent < bytes.size()) {
            const auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                return;
            }
            sent += static_cast<std::size_t>(n);
        }
        ::shutdown(fd, SHUT_WR);
    }

    const HealthProbe& probe_;
    Poco::Net::ServerSocket listener_;
    std::atomic<bool> stopping_{false};
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> jobs_;
    bool workers_stopping_ = false;
    std::vector<std::thread> workers_;
    std::thread poller_;
};

HttpEndpoint::HttpEndpoint(HealthProbe probe) : probe_(std::move(probe)) {}

HttpEndpoint::~HttpEndpoint() {
    stop();
}

bool HttpEndpoint::start(const std::string& address, std::string& error) {
    try {
        const Poco::Net::SocketAddress where(address);
        // Exclusive: Poco's ServerSocket(address) also sets SO_REUSEPORT, which
        // lets a second process bind the same port and take half the scrapes
        // and probes. SO_REUSEADDR alone only allows a restart over TIME_WAIT.
        Poco::Net::ServerSocket socket;
        if (where.family() == Poco::Net::SocketAddress::IPv6) {
            socket.bind6(where, true, false, false);
        } else {
            socket.bind(where, true, false);
        }
        socket.listen(kBacklog);
        bound_ = socket.address().toString();
        server_ = std::make_unique<Server>(probe_, socket);
        return true;
    } catch (const Poco::Exception& e) {
        error = "cannot listen on " + address + ": " + e.displayText();
    } catch (const std::exception& e) {
        error = "cannot listen on " + address + ": " + e.what();
    }
    return false;
}

void HttpEndpoint::stop() {
    server_.reset();
}

}  // namespace crossover::core
