#include "crossover_kube/client.h"

#include <sys/socket.h>

#include <algorithm>

#include <fstream>
#include <mutex>
#include <thread>

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include "crossover/files.h"
#include "crossover_kube/tls_socket.h"

namespace crossover::kube {
namespace {

std::string trim_token(std::string s) {
    while (!s.empty() &&
           (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) {
        s.pop_back();
    }
    std::size_t i = 0;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) {
        ++i;
    }
    return s.substr(i);
}

// A session that reports its socket as soon as it is connected, so that
// Client::interrupt() can shut it down; an interrupt that came while the
// socket did not exist yet is honoured right after connecting.
template <class Base>
class NotifyingSession final : public Base {
public:
    template <class... Args>
    explicit NotifyingSession(std::function<void(int)> on_connect, Args&&... args)
        : Base(std::forward<Args>(args)...), on_connect_(std::move(on_connect)) {}

protected:
    void connect(const Poco::Net::SocketAddress& address) override {
        Base::connect(address);
        on_connect_(this->socket().impl()->sockfd());
    }

private:
    std::function<void(int)> on_connect_;
};

}  // namespace

std::string url_encode(std::string_view value) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (const char ch : value) {
        const auto c = static_cast<unsigned char>(ch);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            out += ch;
        } else {
            out += '%';
            out += hex[c >> 4u];
            out += hex[c & 15u];
        }
    }
    return out;
}

// ---- Stream ----------------------------------------------------------------

namespace {
// An empty receive buffer keeps at most this much capacity between events: small events
// reuse it, an event-sized one (a large ConfigMap) is given back.
constexpr std::size_t kKeptBufferBytes = std::size_t{64} * 1024;
// Lines taken from the front of the buffer are dropped once they are this much and most of it.
constexpr std::size_t kCompactAt = std::size_t{64} * 1024;
// The most a receive buffer is reserved for ahead of an event: a ConfigMap holds at most 1 MiB,
// escaped into JSON.
constexpr std::size_t kMaxLineHint = std::size_t{2} * 1024 * 1024;
}  // namespace

Stream::Stream(Client& client, std::unique_ptr<Poco::Net::HTTPClientSession> session,
               std::istream& body, std::size_t line_hint)
    : client_(client),
      session_(std::move(session)),
      body_(body),
      line_hint_(std::min(line_hint, kMaxLineHint)) {
    reader_ = std::thread([this] { read_loop(); });
}

Stream::~Stream() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        closing_ = true;
    }
    if (!done()) {
        // Wake the reader from its blocking read: a shutdown of the socket
        // (a system call, no state the reader shares), as Client::interrupt.
        try {
            const int fd = session_->socket().impl()->sockfd();
            if (fd >= 0) {
                ::shutdown(fd, SHUT_RDWR);
            }
        } catch (...) {  // NOLINT(bugprone-empty-catch): best effort; the read times out
        }
    }
    reader_.join();
    client_.untrack(session_.get());
}

bool Stream::done() {
    std::lock_guard<std::mutex> lock(mutex_);
    return ended_;
}

// The reader thread: everything received goes into buffer_ as it arrives,
// so that the consumer can tell whether another line came without reading
// the socket itself (see wait_line).
void Stream::read_loop() {
    std::exception_ptr failure;
    try {
        char chunk[16384];
        for (;;) {
            const int c = body_.get();  // waits for at least one byte
            if (c == std::char_traits<char>::eof()) {
                if (client_.interrupted()) {
                    throw Interrupted();
                }
                break;
            }
            chunk[0] = static_cast<char>(c);
            const std::streamsize n = body_.readsome(chunk + 1, sizeof chunk - 1);
            const auto got = static_cast<std::size_t>(1 + std::max<std::streamsize>(n, 0));
            std::lock_guard<std::mutex> lock(mutex_);
            // Reserved when an event comes, not before: a buffer reserved when the stream
            // opens takes the list's body just freed, resident, for events that may never come.
            if (buffer_.size() + got > buffer_.capacity() && buffer_.capacity() < line_hint_) {
                buffer_.reserve(std::max(line_hint_, buffer_.size() + got));
            }
            buffer_.append(chunk, got);
            arrived_.notify_all();
        }
    } catch (const Interrupted&) {
        failure = std::current_exception();
    } catch (const Poco::TimeoutException&) {
        failure = client_.interrupted()
                      ? std::make_exception_ptr(Interrupted())
                      : std::make_exception_ptr(ReadTimeout("no data from " + client_.server() +
                                                            " within the read timeout"));
    } catch (const Poco::Exception& e) {
        failure = client_.interrupted()
                      ? std::make_exception_ptr(Interrupted())
                      : std::make_exception_ptr(Error("reading a watch stream from " +
                                                      client_.server() + ": " + e.displayText()));
    } catch (const std::exception& e) {
        failure = client_.interrupted()
                      ? std::make_exception_ptr(Interrupted())
                      : std::make_exception_ptr(Error("reading a watch stream from " +
                                                      client_.server() + ": " + e.what()));
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (!closing_) {
        failure_ = failure;  // a failure caused by closing the stream is no news
    }
    ended_ = true;
    arrived_.notify_all();
}

bool Stream::next_line(std::string& line) {
    std::unique_lock<std::mutex> lock(mutex_);
    // The previous line (a whole object, hundreds of KiB for a large ConfigMap) is of no use
    // any more. Its storage becomes the receive buffer's when that is empty and smaller, so
    // that the next event of that size is received without growing a buffer; one
    // event-sized buffer stays between events, not two.
    if (buffer_.empty() && line.capacity() > buffer_.capacity()) {
        line.clear();
        buffer_.swap(line);
    }
    std::string().swap(line);
    for (;;) {
        const std::size_t nl = buffer_.find('\n', scanned_);
        if (nl == std::string::npos) {
            scanned_ = buffer_.size();
            if (!ended_) {
                arrived_.wait(lock);
                continue;
            }
            if (start_ == buffer_.size()) {
                buffer_.clear();
                start_ = scanned_ = 0;
                if (failure_) {
                    std::rethrow_exception(failure_);
                }
                return false;  // a clean end
            }
            line.assign(buffer_, start_);  // the last line had no newline
            start_ = buffer_.size();
        } else if (start_ == 0 && nl + 1 == buffer_.size()) {
            // The usual case, one whole event received: hand the buffer over instead of
            // copying it (its storage comes back on the next call).
            buffer_.pop_back();
            line = std::move(buffer_);
            buffer_.clear();  // moved from: empty again, with no capacity of its own
        } else {
            line.assign(buffer_, start_, nl - start_);
            start_ = nl + 1;
        }
        // Lines are taken from the front without moving the rest each time (a burst of
        // events read together would be copied once per line): the buffer is emptied when
        // everything was taken, and its front is dropped once it is most of the buffer.
        if (start_ == buffer_.size()) {
            buffer_.clear();
            start_ = 0;
            if (buffer_.capacity() > kKeptBufferBytes) {
                std::string().swap(buffer_);
            }
        } else if (start_ >= kCompactAt && start_ > buffer_.size() / 2) {
            buffer_.erase(0, start_);
            start_ = 0;
        }
        scanned_ = start_;
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (!line.empty()) {
            return true;
        }
    }
}

bool Stream::wait_line(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return arrived_.wait_for(lock, timeout, [&] {
        if (ended_) {
            return true;
        }
        const bool whole = buffer_.find('\n', scanned_) != std::string::npos;
        if (!whole) {
            scanned_ = buffer_.size();
        }
        return whole;
    });
}

// ---- Client ----------------------------------------------------------------

Client::Client(ClusterConfig config, Timeouts timeouts, LogFn log)
    : config_(std::move(config)), timeouts_(timeouts), log_(std::move(log)) {
    Poco::URI uri;
    try {
        uri = Poco::URI(config_.server);
    } catch (const Poco::Exception& e) {
        throw Error("API server URL '" + config_.server + "': " + e.displayText());
    }
    scheme_ = uri.getScheme();
    host_ = uri.getHost();
    port_ = uri.getPort();
    if (host_.empty()) {
        throw Error("API server URL '" + config_.server + "' has no host");
    }
    if (scheme_ == "https") {
        tls_ = std::make_shared<const TlsContext>(config_);
        if (config_.insecure && log_) {
            log_(LogLevel::Warn, "TLS certificate verification of " + config_.server +
                                     " is DISABLED (insecure): anyone on the network path can "
                                     "impersonate the API server");
        }
    } else if (scheme_ != "http") {
        throw Error("API server URL '" + config_.server + "': unsupported scheme '" + scheme_ +
                    "'");
    }
    if (config_.token_file.empty() && config_.token.empty() && config_.client_cert_file.empty() &&
        config_.client_cert_data.empty() && log_) {
        log_(LogLevel::Warn,
             "no credentials configured for " + config_.server + ": requests are sent anonymously");
    }
    if (!config_.token_file.empty()) {
        bearer(true);  // fail early with a clear message when unreadable
    }
}

Client::~Client() = default;

std::unique_ptr<Poco::Net::HTTPClientSession> Client::make_session(
    std::chrono::milliseconds read_timeout) {
    std::unique_ptr<Poco::Net::HTTPClientSession> s;
    auto on_connect = [this](int fd) {
        std::lock_guard<std::mutex> lock(sessions_mutex_);
        if (interrupted_) {
            if (fd >= 0) {
                ::shutdown(fd, SHUT_RDWR);
            }
            throw Interrupted();
        }
    };
    if (scheme_ == "https") {
        // An interrupt that comes during the TCP connect is honoured before the handshake.
        s = std::make_unique<NotifyingSession<Poco::Net::HTTPClientSession>>(
            on_connect, tls_stream_socket(tls_, host_, on_connect));
        s->setHost(host_);
        s->setPort(port_);
    } else {
        s = std::make_unique<NotifyingSession<Poco::Net::HTTPClientSession>>(on_connect, host_,
                                                                             port_);
    }
    const auto us = [](std::chrono::milliseconds ms) {
        return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
    };
    // A silent peer is waited for once, in recv() (the socket's SO_RCVTIMEO), over TLS as
    // over plain HTTP: the TLS socket reads through OpenSSL without a poll() of its own.
    s->setTimeout(us(timeouts_.connect), us(timeouts_.request), us(read_timeout));
    s->setKeepAlive(false);
    return s;
}

std::string Client::bearer(bool force_reload) {
    std::lock_guard<std::mutex> lock(token_mutex_);
    if (config_.token_file.empty()) {
        return config_.token;
    }
    const auto now = std::chrono::steady_clock::now();
    if (force_reload || token_.empty() || now - token_read_at_ >= timeouts_.token_refresh) {
        std::string problem;
        std::string fresh =
            trim_token(read_regular_file(config_.token_file, problem).value_or(std::string()));
        if (fresh.empty()) {
            if (token_.empty()) {
                throw Error("cannot read a bearer token from " + config_.token_file);
            }
            if (log_) {
                log_(LogLevel::Warn, "cannot re-read the token file " + config_.token_file +
                                         "; keeping the previous token");
            }
        } else {
            if (!token_.empty() && fresh != token_ && log_) {
                log_(LogLevel::Info, "bearer token reloaded from " + config_.token_file);
            }
            token_ = std::move(fresh);
        }
        token_read_at_ = now;
    }
    return token_;
}

void Client::track(Poco::Net::HTTPClientSession* s) {
    std::lock_guard<std::mutex> lock(sessions_mutex_);
    if (interrupted_) {
        throw Interrupted();
    }
    sessions_.insert(s);
}

void Client::untrack(Poco::Net::HTTPClientSession* s) noexcept {
    std::lock_guard<std::mutex> lock(sessions_mutex_);
    sessions_.erase(s);
}

void Client::interrupt() noexcept {
    std::lock_guard<std::mutex> lock(sessions_mutex_);
    interrupted_ = true;
    for (auto* s : sessions_) {
        try {
            const int fd = s->socket().impl()->sockfd();
            if (fd >= 0) {
                ::shutdown(fd, SHUT_RDWR);
            }
        } catch (...) {  // NOLINT(bugprone-empty-catch): best effort
        }
    }
}

void Client::reset_interrupt() noexcept {
    std::lock_guard<std::mutex> lock(sessions_mutex_);
    interrupted_ = false;
}

bool Client::interrupted() const noexcept {
    std::lock_guard<std::mutex> lock(sessions_mutex_);
    return interrupted_;
}

void Client::rethrow_network(const std::string& what) {
    if (interrupted()) {
        throw Interrupted();
    }
    try {
        throw;
    } catch (const TlsNameMismatch& e) {
        throw Error(what + ": TLS certificate of " + config_.server + " rejected: " + e.message() +
                    " (it must be signed by the configured CA, see ca_file or the kubeconfig's "
                    "certificate-authority, and name the host in its subjectAltName)");
    } catch (const TlsCertificateRejected& e) {
        std::string ca = "system CAs";
        if (!config_.ca_file.empty()) {
            ca = "CA " + config_.ca_file;
        } else if (!config_.ca_data.empty()) {
            ca = "CA from the kubeconfig's certificate-authority-data";
        }
        throw Error(what + ": TLS handshake with " + config_.server + " failed: " + e.message() +
                    " (the server's certificate is not signed by the configured " + ca +
                    ": check ca_file / the kubeconfig's certificate-authority)");
    } catch (const TlsException& e) {
        throw Error(what + ": TLS with " + config_.server + ": " + e.message());
    } catch (const Poco::TimeoutException& e) {
        throw ReadTimeout(what + ": " + config_.server + " timed out: " + e.displayText());
    } catch (const Poco::Exception& e) {
        throw Error(what + ": " + config_.server + ": " + e.displayText());
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        throw Error(what + ": " + config_.server + ": " + e.what());
    }
}

Response Client::request(const std::string& method, const std::string& path_and_query,
                         const std::string* body, const std::string& content_type) {
    for (int attempt = 0;; ++attempt) {
        const std::string token = bearer(false);
        auto session = make_session(timeouts_.request);
        track(session.get());
        struct Untrack {
            Client* c;
            Poco::Net::HTTPClientSession* s;
            ~Untrack() { c->untrack(s); }
        } untrack{this, session.get()};
        Response out;
        try {
            Poco::Net::HTTPRequest req(method, path_and_query, Poco::Net::HTTPMessage::HTTP_1_1);
            req.set("Accept", "application/json");
            req.set("User-Agent", "crossover");
            if (!token.empty()) {
                req.set("Authorization", "Bearer " + token);
            }
            if (body != nullptr) {
                req.setContentType(content_type);
                req.setContentLength(static_cast<std::streamsize>(body->size()));
            }
            std::ostream& os = session->sendRequest(req);
            if (body != nullptr) {
                os << *body;
                os.flush();
            }
            Poco::Net::HTTPResponse resp;
            std::istream& is = session->receiveResponse(resp);
            is.exceptions(std::ios::badbit);
            Poco::StreamCopier::copyToString(is, out.body);
            out.status = static_cast<int>(resp.getStatus());
            out.reason = resp.getReason();
        } catch (...) {
            rethrow_network(method + " " + path_and_query);
        }
        if (out.status == 401 && attempt == 0 && !config_.token_file.empty()) {
            if (log_) {
                log_(LogLevel::Info, "401 from " + config_.server + ": re-reading the token file");
            }
            bearer(true);
            continue;
        }
        return out;
    }
}

std::unique_ptr<Stream> Client::stream(const std::string& path_and_query,
                                       std::chrono::milliseconds read_timeout, Response& error,
                                       std::size_t line_hint) {
    for (int attempt = 0;; ++attempt) {
        const std::string token = bearer(false);
        auto session = make_session(read_timeout);
        track(session.get());
        bool keep = false;
        struct Untrack {
            Client* c;
            Poco::Net::HTTPClientSession* s;
            bool& keep;
            ~Untrack() {
                if (!keep) {
                    c->untrack(s);
                }
            }
        } untrack{this, session.get(), keep};
        try {
            Poco::Net::HTTPRequest req("GET", path_and_query, Poco::Net::HTTPMessage::HTTP_1_1);
            req.set("Accept", "application/json");
            req.set("User-Agent", "crossover");
            if (!token.empty()) {
                req.set("Authorization", "Bearer " + token);
            }
            session->sendRequest(req);
            Poco::Net::HTTPResponse resp;
            std::istream& is = session->receiveResponse(resp);
            const int status = static_cast<int>(resp.getStatus());
            if (status >= 200 && status < 300) {
                is.exceptions(std::ios::badbit);
                keep = true;  // NOLINT(clang-analyzer-deadcode.DeadStores): Untrack reads it
                return std::unique_ptr<Stream>(
                    new Stream(*this, std::move(session), is, line_hint));
            }
            error.status = status;
            error.reason = resp.getReason();
            error.body.clear();
            is.exceptions(std::ios::badbit);
            Poco::StreamCopier::copyToString(is, error.body);
        } catch (...) {
            rethrow_network("GET " + path_and_query);
        }
        if (error.status == 401 && attempt == 0 && !config_.token_file.empty()) {
            if (log_) {
                log_(LogLevel::Info, "401 from " + config_.server + ": re-reading the token file");
            }
            bearer(true);
            continue;
        }
        return nullptr;
    }
}

}  // namespace crossover::kube
