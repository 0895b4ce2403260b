// A small Kubernetes API client over Poco Net, with TLS from OpenSSL (tls_socket.h).
//
// - TLS is verified against the configured CA (or the system CAs when none is
//   given); `insecure` turns verification off and is logged as a warning.
// - A bearer token file is re-read every `token_refresh` and after any 401,
//   and the request is retried once with the fresh token.
// - Every connection has connect and read timeouts.
// - interrupt() (from any thread) shuts down every open connection, so a
//   blocked request or watch returns promptly with Interrupted.
#pragma once

#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <istream>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "crossover/log.h"
#include "crossover/status.h"
#include "crossover_kube/config.h"

#include <Poco/Net/HTTPClientSession.h>

namespace crossover::kube {

class TlsContext;

using LogFn = std::function<void(LogLevel, std::string_view)>;

struct Timeouts {
    std::chrono::milliseconds connect{10000};
    std::chrono::milliseconds request{30000};  // read timeout of ordinary requests
    std::chrono::milliseconds token_refresh{60000};
};

struct Response {
    int status = 0;
    std::string reason;
    std::string body;
};

// Thrown when interrupt() was called.
class Interrupted : public Error {
public:
    Interrupted() : Error("interrupted") {}
};

// Thrown when a read on a connection timed out.
class ReadTimeout : public Error {
public:
    explicit ReadTimeout(std::string message) : Error(std::move(message)) {}
};

class Client;

// An open streaming response (a watch): newline-delimited lines of any size.
// A thread of its own reads the socket as data arrives, so that the consumer
// can wait for the next line with a time limit (wait_line) and report a
// burst of events once; it stops when the stream ends or is destroyed.
class Stream {
public:
    ~Stream();
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
    Stream(Stream&&) = delete;
    Stream& operator=(Stream&&) = delete;

    // Reads the next non-empty line into `line`. Returns false at a clean end
    // of the stream. Throws ReadTimeout, Interrupted or Error.
    bool next_line(std::string& line);

    // Waits at most `timeout` for a whole next line (or the end of the
    // stream). True when next_line will not wait.
    bool wait_line(std::chrono::milliseconds timeout);

private:
    friend class Client;
    Stream(Client& client, std::unique_ptr<Poco::Net::HTTPClientSession> session,
           std::istream& body, std::size_t line_hint);
    void read_loop();
    bool done();

    Client& client_;
    std::unique_ptr<Poco::Net::HTTPClientSession> session_;
    std::istream& body_;  // read by the reader thread only
    // The receive buffer's capacity once an event comes (Client::stream's line_hint).
    const std::size_t line_hint_;
    std::mutex mutex_;
    std::condition_variable arrived_;
    std::string buffer_;       // received; buffer_[0, start_) was returned as lines
    std::size_t start_ = 0;    // where the next line begins
    std::size_t scanned_ = 0;  // buffer_[start_, scanned_) holds no newline
    bool ended_ = false;       // the reader stopped: end of stream or failure_
    bool closing_ = false;     // the destructor runs
    std::exception_ptr failure_;
    std::thread reader_;
};

class Client {
public:
    Client(ClusterConfig config, Timeouts timeouts, LogFn log);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;
    Client(Client&&) = delete;
    Client& operator=(Client&&) = delete;

    [[nodiscard]] const ClusterConfig& config() const { return config_; }

    // One request; the whole body is read. Throws Error on connection or TLS
    // failures (the message names the server), Interrupted after interrupt().
    Response request(const std::string& method, const std::string& path_and_query,
                     const std::string* body = nullptr,
                     const std::string& content_type = "application/json");

    // Opens a streaming GET. On a non-2xx status, returns nullptr and fills
    // `error` with the status and body. `line_hint`: how long a line may be
    // (a watch: the size of the list it follows); the receive buffer is
    // reserved at that size when an event comes, so that a large one is received without
    // growing it by doubling. Each step of that growth is freed memory that
    // stays resident until the next trim: 0.5 MB for a 300 KB event. Reserved
    // pages that no event fills are never touched.
    std::unique_ptr<Stream> stream(const std::string& path_and_query,
                                   std::chrono::milliseconds read_timeout, Response& error,
                                   std::size_t line_hint = 0);

    // Shuts down every open connection and makes further requests throw
    // Interrupted until reset_interrupt().
    void interrupt() noexcept;
    void reset_interrupt() noexcept;
    [[nodiscard]] bool interrupted() const noexcept;

    // "https://host:port" for messages.
    [[nodiscard]] const std::string& server() const { return config_.server; }

private:
    friend class Stream;
    std::unique_ptr<Poco::Net::HTTPClientSession> make_session(
        std::chrono::milliseconds read_timeout);
    std::string bearer(bool force_reload);
    void track(Poco::Net::HTTPClientSession* s);
    void untrack(Poco::Net::HTTPClientSession* s) noexcept;
    [[noreturn]] void rethrow_network(const std::string& what);

    ClusterConfig config_;
    Timeouts timeouts_;
    LogFn log_;
    std::string scheme_;
    std::string host_;
    unsigned short port_ = 0;
    std::shared_ptr<const TlsContext> tls_;  // https only

    std::mutex token_mutex_;
    std::string token_;
    std::chrono::steady_clock::time_point token_read_at_{};

    mutable std::mutex sessions_mutex_;
    std::set<Poco::Net::HTTPClientSession*> sessions_;
    bool interrupted_ = false;
};

// Percent-encodes a query parameter value.
std::string url_encode(std::string_view value);

}  // namespace crossover::kube
