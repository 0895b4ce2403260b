// Serves an Api over HTTP with Poco's HTTPServer: a pool of threads, keep-alive,
// bodies read up to the API's limit (a larger body is refused with 413
// without reading it all).
#pragma once

#include <memory>
#include <string>

#include "api.h"

namespace Poco {
class ThreadPool;
namespace Net {
class HTTPServer;
}
}  // namespace Poco

namespace crossover::route_registry {

// TLS for the API: a certificate and key (PEM) make it HTTPS; a client CA
// makes it mutual TLS (a client without a certificate signed by that CA is
// refused during the handshake). Bearer tokens are required either way.
struct TlsFiles {
    std::string cert_file;
    std::string key_file;
    std::string client_ca_file;
    [[nodiscard]] bool enabled() const { return !cert_file.empty(); }
};

class HttpServer {
public:
    // Binds `listen` ("127.0.0.1:8091", ":8091", "[::1]:0") and starts
    // serving. Throws Error when the address cannot be bound or the TLS
    // files cannot be read.
    HttpServer(std::shared_ptr<Api> api, const std::string& listen, int threads,
               const TlsFiles& tls = {});
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;
    HttpServer(HttpServer&&) = delete;
    HttpServer& operator=(HttpServer&&) = delete;

    // The bound address ("127.0.0.1:40123").
    [[nodiscard]] const std::string& address() const { return address_; }

private:
    std::unique_ptr<Poco::ThreadPool> pool_;  // outlives server_
    std::unique_ptr<Poco::Net::HTTPServer> server_;
    std::string address_;
};

}  // namespace crossover::route_registry
