#include "crossover_kube/tls_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <typeinfo>
#include <utility>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <Poco/Exception.h>
#include <Poco/Net/StreamSocketImpl.h>

#include "crossover/files.h"
#include "crossover/status.h"

namespace crossover::kube {

POCO_IMPLEMENT_EXCEPTION(TlsException, Poco::Net::NetException, "TLS error")
POCO_IMPLEMENT_EXCEPTION(TlsCertificateRejected, TlsException, "TLS certificate rejected")
POCO_IMPLEMENT_EXCEPTION(TlsNameMismatch, TlsException, "TLS certificate names another host")

namespace {

// OpenSSL's queued errors, oldest first, as reasons ("certificate verify failed"); the queue
// is emptied.
std::string openssl_errors() {
    std::string out;
    while (const unsigned long e = ERR_get_error()) {
        if (!out.empty()) {
            out += "; ";
        }
        if (const char* reason = ERR_reason_error_string(e)) {
            out += reason;
        } else {
            char text[256];
            ERR_error_string_n(e, text, sizeof text);
            out += text;
        }
    }
    return out.empty() ? std::string("unknown error") : out;
}

struct BioFree {
    void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
    void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

std::unique_ptr<BIO, BioFree> memory_bio(const std::string& text) {
    std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
    if (!bio) {
        throw Error("out of memory reading PEM text: " + openssl_errors());
    }
    return bio;
}

// Every certificate in PEM text (other PEM blocks are skipped). Empty when there is none;
// throws Error (naming `what`) when a certificate block cannot be read.
std::vector<X509Ptr> pem_certificates(const std::string& text, const std::string& what) {
    std::vector<X509Ptr> out;
    ERR_clear_error();
    auto bio = memory_bio(text);
    while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
        out.emplace_back(x);
    }
    const unsigned long last = ERR_peek_last_error();
    if (ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE) {
        ERR_clear_error();  // the end of the text: no further certificate
    } else if (last != 0) {
        throw Error(what + " holds a PEM certificate that cannot be read: " + openssl_errors());
    }
    return out;
}

// Text of a PEM file, or throws Error naming it (after `prefix`).
std::string read_pem_file(const std::string& path, const std::string& prefix,
                          const std::string& what) {
    std::string problem;
    auto text = read_regular_file(path, problem);
    if (!text) {
        throw Error(prefix + "cannot read " + what + " " + path + ": " + problem);
    }
    return std::move(*text);
}

int no_passphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) {
    return 0;  // an encrypted key fails to load instead of prompting on a terminal
}

bool is_ip_address(const std::string& host) {
    in6_addr v6{};
    in_addr v4{};
    return inet_pton(AF_INET, host.c_str(), &v4) == 1 ||
           inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

// errno of a failed socket read or write as Poco's socket exceptions (what the plain HTTP
// socket throws for the same condition).
[[noreturn]] void throw_socket_error(int err, const char* doing) {
    const std::string text = std::string(doing) + ": " + std::strerror(err);
    if (err == ECONNRESET || err == EPIPE) {
        throw Poco::Net::ConnectionResetException(text);
    }
    if (err == ETIMEDOUT) {
        throw Poco::TimeoutException(text);
    }
    throw Poco::Net::NetException(text);
}

// A connected TCP socket with TLS over it (see tls_stream_socket).
class TlsSocketImpl final : public Poco::Net::StreamSocketImpl {
public:
    TlsSocketImpl(std::shared_ptr<const TlsContext> context, std::string host,
                  std::function<void(int)> on_connected)
        : context_(std::move(context)),
          host_(std::move(host)),
          on_connected_(std::move(on_connected)) {}

    ~TlsSocketImpl() override { free_ssl(); }
    TlsSocketImpl(const TlsSocketImpl&) = delete;
    TlsSocketImpl& operator=(const TlsSocketImpl&) = delete;
    TlsSocketImpl(TlsSocketImpl&&) = delete;
    TlsSocketImpl& operator=(TlsSocketImpl&&) = delete;

    void connect(const Poco::Net::SocketAddress& address) override {
        StreamSocketImpl::connect(address);
        connected();
        handshake();
    }

    void connect(const Poco::Net::SocketAddress& address, const Poco::Timespan& timeout) override {
        StreamSocketImpl::connect(address, timeout);
        connected();
        // The handshake counts as part of connecting: bounded by the connect timeout, after
        // which the caller sets the timeouts of reads and writes.
        const Poco::Timespan receive = getReceiveTimeout();
        const Poco::Timespan send = getSendTimeout();
        setReceiveTimeout(timeout);
        setSendTimeout(timeout);
        handshake();
        setReceiveTimeout(receive);
        setSendTimeout(send);
    }

    void connectNB(const Poco::Net::SocketAddress& /*address*/) override {
        throw Poco::NotImplementedException("non-blocking connect of a TLS socket");
    }

    int sendBytes(const void* buffer, int length, int /*flags*/) override {
        if (length <= 0) {
            return 0;
        }
        // All of it, or an error (no SSL_MODE_ENABLE_PARTIAL_WRITE).
        const int n = transfer("TLS write", [&] { return SSL_write(ssl_, buffer, length); });
        if (n == 0) {
            throw Poco::Net::ConnectionResetException("the server closed the TLS connection");
        }
        return n;
    }

    int receiveBytes(void* buffer, int length, int /*flags*/) override {
        if (length <= 0) {
            return 0;
        }
        return transfer("TLS read", [&] { return SSL_read(ssl_, buffer, length); });
    }

    // Poco's other transfer calls would go around TLS; HTTP does not use them.
    int sendBytes(const Poco::Net::SocketBufVec& /*buffers*/, int /*flags*/) override {
        throw Poco::NotImplementedException("vectored write on a TLS socket");
    }
    int receiveBytes(Poco::Net::SocketBufVec& /*buffers*/, int /*flags*/) override {
        throw Poco::NotImplementedException("vectored read on a TLS socket");
    }
    int receiveBytes(Poco::Buffer<char>& /*buffer*/, int /*flags*/,
                     const Poco::Timespan& /*timeout*/) override {
        throw Poco::NotImplementedException("buffer read on a TLS socket");
    }
    void sendUrgent(unsigned char /*data*/) override {
        throw Poco::NotImplementedException("urgent data on a TLS socket");
    }

    int available() override { return ssl_ != nullptr ? SSL_pending(ssl_) : 0; }

    bool poll(const Poco::Timespan& timeout, int mode) override {
        if ((mode & SELECT_READ) != 0 && available() > 0) {
            return true;  // decrypted bytes wait in OpenSSL, none on the socket
        }
        return StreamSocketImpl::poll(timeout, mode);
    }

    // No close_notify: the connection is not reused, and a write on a socket that
    // Client::interrupt() shut down would fail anyway.
    void close() override {
        free_ssl();
        StreamSocketImpl::close();
    }

    bool secure() const override { return true; }

private:
    // One SSL_read or SSL_write (`op`), retried after a signal. Returns what it transferred,
    // or 0 at the end of the stream: the peer's close_notify, or a plain end of the TCP
    // stream (SSL_OP_IGNORE_UNEXPECTED_EOF): as on a plain socket, HTTP's framing tells a
    // whole response from a cut one. Failures are Poco's socket exceptions, as a plain
    // socket's; a timeout (SO_RCVTIMEO, SO_SNDTIMEO) is Poco::TimeoutException.
    template <class Op>
    int transfer(const char* doing, Op op) {
        if (ssl_ == nullptr) {
            throw Poco::Net::InvalidSocketException("TLS connection not established");
        }
        for (;;) {
            ERR_clear_error();
            errno = 0;
            const int n = op();
            if (n > 0) {
                return n;
            }
            const int err = errno;
            switch (SSL_get_error(ssl_, n)) {
                case SSL_ERROR_ZERO_RETURN: return 0;
                case SSL_ERROR_WANT_READ:
                case SSL_ERROR_WANT_WRITE:
                    if (err == EINTR) {
                        continue;
                    }
                    throw Poco::TimeoutException();
                case SSL_ERROR_SYSCALL:
                    if (ERR_peek_error() == 0) {
                        if (err == 0) {
                            return 0;
                        }
                        throw_socket_error(err, doing);
                    }
                    throw TlsException(std::string(doing) + ": " + openssl_errors());
                default: throw TlsException(std::string(doing) + ": " + openssl_errors());
            }
        }
    }

    void connected() {
        if (on_connected_) {
            on_connected_(static_cast<int>(sockfd()));
        }
    }

    void free_ssl() noexcept {
        if (ssl_ != nullptr) {
            SSL_free(ssl_);
            ssl_ = nullptr;
        }
    }

    void handshake() {
        free_ssl();
        ERR_clear_error();
        ssl_ = SSL_new(context_->native());
        if (ssl_ == nullptr || SSL_set_fd(ssl_, static_cast<int>(sockfd())) != 1) {
            throw TlsException("cannot start TLS: " + openssl_errors());
        }
        const bool ip = is_ip_address(host_);
        if (!ip) {
            // SNI (a name only: RFC 6066 has no place for an address). The macro
            // SSL_set_tlsext_host_name, spelled out without its cast.
            SSL_ctrl(ssl_, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                     const_cast<char*>(host_.c_str()));
        }
        if (context_->verify()) {
            // The certificate must name what was dialled: a DNS name against its DNS
            // subjectAltNames, an address against its IP subjectAltNames.
            const int named =
                ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host_.c_str())
                   : SSL_set1_host(ssl_, host_.c_str());
            if (named != 1) {
                throw TlsException("cannot check the certificate against '" + host_ +
                                   "': " + openssl_errors());
            }
            SSL_set_hostflags(ssl_, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        }
        for (;;) {
            ERR_clear_error();
            errno = 0;
            const int rc = SSL_connect(ssl_);
            if (rc == 1) {
                return;
            }
            const int err = errno;
            const int code = SSL_get_error(ssl_, rc);
            const long verified = SSL_get_verify_result(ssl_);
            if (context_->verify() && verified != X509_V_OK) {
                const std::string reason = X509_verify_cert_error_string(verified);
                ERR_clear_error();
                if (verified == X509_V_ERR_HOSTNAME_MISMATCH ||
                    verified == X509_V_ERR_IP_ADDRESS_MISMATCH) {
                    throw TlsNameMismatch(reason + ": the certificate does not name " + host_);
                }
                throw TlsCertificateRejected("certificate verify failed: " + reason);
            }
            switch (code) {
                case SSL_ERROR_WANT_READ:
                case SSL_ERROR_WANT_WRITE:
                    if (err == EINTR) {
                        continue;
                    }
                    throw Poco::TimeoutException("TLS handshake");
                case SSL_ERROR_SYSCALL:
                    if (ERR_peek_error() == 0) {
                        if (err == 0) {
                            throw TlsException(
                                "handshake failed: the server closed the connection");
                        }
                        throw TlsException(std::string("handshake failed: ") + std::strerror(err));
                    }
                    throw TlsException("handshake failed: " + openssl_errors());
                default: throw TlsException("handshake failed: " + openssl_errors());
            }
        }
    }

    std::shared_ptr<const TlsContext> context_;
    std::string host_;
    std::function<void(int)> on_connected_;
    SSL* ssl_ = nullptr;
};

}  // namespace

TlsContext::TlsContext(const ClusterConfig& config) : verify_(!config.insecure) {
    const std::string& server = config.server;
    ERR_clear_error();
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (ctx_ == nullptr) {
        throw Error("TLS setup for " + server + ": " + openssl_errors());
    }
    try {
        SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
        // A peer that closes without close_notify ends the stream like a plain socket's end.
        SSL_CTX_set_options(ctx_, SSL_OP_IGNORE_UNEXPECTED_EOF);
        SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_OFF);  // one request per connection
        SSL_CTX_set_verify(ctx_, verify_ ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
        if (verify_) {
            if (!config.ca_file.empty()) {
                if (!std::filesystem::exists(config.ca_file)) {
                    throw Error("CA file " + config.ca_file + " for " + server + " does not exist");
                }
                if (SSL_CTX_load_verify_locations(ctx_, config.ca_file.c_str(), nullptr) != 1) {
                    throw Error("TLS setup for " + server + ": cannot load CA file " +
                                config.ca_file + ": " + openssl_errors());
                }
            }
            if (!config.ca_data.empty()) {
                const std::string what = "certificate-authority-data for " + server;
                auto cas =
                    pem_certificates(config.ca_data, "TLS setup for " + server + ": " + what);
                if (cas.empty()) {
                    throw Error(what + " holds no PEM certificate");
                }
                X509_STORE* store = SSL_CTX_get_cert_store(ctx_);
                for (const auto& ca : cas) {
                    if (X509_STORE_add_cert(store, ca.get()) != 1) {
                        throw Error("TLS setup for " + server + ": " + what + ": " +
                                    openssl_errors());
                    }
                }
            }
            // The system's CA bundle (some 140 certificates, ~0.5 MiB of heap per client and
            // the libcrypto code that parses them) only when no CA was given, and never when
            // the server is not verified.
            if (config.ca_file.empty() && config.ca_data.empty() &&
                SSL_CTX_set_default_verify_paths(ctx_) != 1) {
                throw Error("TLS setup for " + server +
                            ": cannot load the system CAs: " + openssl_errors());
            }
        }
        if (!config.client_cert_file.empty() || !config.client_cert_data.empty()) {
            const bool cert_inline = !config.client_cert_data.empty();
            const std::string cert_what = cert_inline
                                              ? "client-certificate-data"
                                              : "client certificate " + config.client_cert_file;
            const std::string prefix = "TLS setup for " + server + ": ";
            const std::string cert_text =
                cert_inline
                    ? config.client_cert_data
                    : read_pem_file(config.client_cert_file, prefix, "the client certificate");
            auto chain = pem_certificates(cert_text, prefix + cert_what);
            if (chain.empty()) {
                throw Error(prefix + cert_what + " holds no PEM certificate");
            }
            if (SSL_CTX_use_certificate(ctx_, chain.front().get()) != 1) {
                throw Error(prefix + cert_what + ": " + openssl_errors());
            }
            for (std::size_t i = 1; i < chain.size(); ++i) {  // intermediates, sent along
                if (SSL_CTX_add1_chain_cert(ctx_, chain[i].get()) != 1) {
                    throw Error(prefix + cert_what + ": " + openssl_errors());
                }
            }
            if (config.client_key_data.empty() && config.client_key_file.empty()) {
                throw Error("a client certificate for " + server + " needs a client key");
            }
            const bool key_inline = !config.client_key_data.empty();
            const std::string key_what =
                key_inline ? "client-key-data" : "client key " + config.client_key_file;
            const std::string key_text =
                key_inline ? config.client_key_data
                           : read_pem_file(config.client_key_file, prefix, "the client key");
            auto bio = memory_bio(key_text);
            std::unique_ptr<EVP_PKEY, PkeyFree> key(
                PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
            if (!key) {
                throw Error(prefix + key_what +
                            " holds no readable PEM private key: " + openssl_errors());
            }
            if (SSL_CTX_use_PrivateKey(ctx_, key.get()) != 1 ||
                SSL_CTX_check_private_key(ctx_) != 1) {
                throw Error(prefix + key_what + " does not match " + cert_what + ": " +
                            openssl_errors());
            }
        }
    } catch (...) {
        SSL_CTX_free(ctx_);
        ctx_ = nullptr;
        throw;
    }
}

TlsContext::~TlsContext() {
    SSL_CTX_free(ctx_);
}

Poco::Net::StreamSocket tls_stream_socket(std::shared_ptr<const TlsContext> context,
                                          std::string host, std::function<void(int)> on_connected) {
    return Poco::Net::StreamSocket(
        new TlsSocketImpl(std::move(context), std::move(host), std::move(on_connected)));
}

}  // namespace crossover::kube
