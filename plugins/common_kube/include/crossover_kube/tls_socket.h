// TLS for the Kubernetes client with OpenSSL, under Poco's HTTP client.
//
// Poco NetSSL would also do it, but it brings Poco Crypto, Util, XML and expat into every
// process that talks to an API server (about 1.5 MiB of resident code for configuration
// classes that are never used). Here a Poco::Net::StreamSocket gets an implementation that
// makes the TLS handshake right after the TCP connect and reads and writes through an SSL
// object, so Poco::Net::HTTPClientSession runs unchanged over it.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <Poco/Net/NetException.h>
#include <Poco/Net/StreamSocket.h>

#include "crossover_kube/config.h"

struct ssl_ctx_st;

namespace crossover::kube {

// A failure of TLS below HTTP (handshake, record layer); the message holds OpenSSL's reason.
POCO_DECLARE_EXCEPTION(, TlsException, Poco::Net::NetException)
// The server's certificate is not signed by a trusted CA (or is otherwise invalid).
POCO_DECLARE_EXCEPTION(, TlsCertificateRejected, TlsException)
// The server's certificate is valid but names neither the host name nor the IP address dialled.
POCO_DECLARE_EXCEPTION(, TlsNameMismatch, TlsException)

// The client side of TLS to one API server: which CAs are trusted, whether the server is
// verified at all, and the client certificate. Built once per client; shared by its
// connections.
class TlsContext {
public:
    // Throws crossover::Error naming the server and what is wrong (a missing CA file, PEM
    // text that holds no certificate or key, a certificate without a key).
    explicit TlsContext(const ClusterConfig& config);
    ~TlsContext();
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;
    TlsContext(TlsContext&&) = delete;
    TlsContext& operator=(TlsContext&&) = delete;

    [[nodiscard]] bool verify() const { return verify_; }
    [[nodiscard]] ssl_ctx_st* native() const { return ctx_; }

private:
    ssl_ctx_st* ctx_ = nullptr;
    bool verify_ = true;
};

// A stream socket whose connect() also makes the TLS handshake with `host` (a DNS name, or an
// IPv4/IPv6 address as the URL gave it): SNI for names, and, when the context verifies, the
// certificate checked against the name or the address. `on_connected` gets the file
// descriptor between the TCP connect and the handshake (it may throw to abandon the
// connection). The handshake is bounded by the connect timeout; reads and writes by the
// socket's receive and send timeouts (Poco::TimeoutException).
Poco::Net::StreamSocket tls_stream_socket(std::shared_ptr<const TlsContext> context,
                                          std::string host, std::function<void(int)> on_connected);

}  // namespace crossover::kube
