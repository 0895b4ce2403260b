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

class HttpServer {
public:
    // Binds `listen` ("127.0.0.1:8091", ":8091", "[::1]:0") and starts
    // serving. Throws Error when the address cannot be bound.
    HttpServer(std::shared_ptr<Api> api, const std::string& listen, int threads);
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
