// xDS over REST-JSON, as Envoy's REST subscriptions (`api_type: REST`) and
// go-control-plane's gateway speak it: `POST /v3/discovery:<type>` with a
// JSON DiscoveryRequest answers a JSON DiscoveryResponse (the proto3 JSON
// mapping, resources as `@type` objects), or `304 Not Modified` when the
// request's version_info is the current version. Served from the same
// resources as the gRPC streams; one request, one answer, no state.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "discovery_codec.h"
#include "grpc_server.h"
#include "resources.h"

namespace Poco::Net {
class HTTPServer;
}  // namespace Poco::Net

namespace crossover::xds_server {

struct RestAnswer {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
};

class RestGateway {
public:
    // The resources a node is served.
    using CurrentFn = std::function<ResourceSetPtr(const NodeInfo&)>;

    // Binds `listen` ("host:port", port 0 picks one) and starts serving;
    // throws crossover::Error when it cannot.
    RestGateway(const std::string& listen, std::shared_ptr<const DiscoveryCodec> codec,
                CurrentFn current, LogFn log);
    ~RestGateway();
    RestGateway(const RestGateway&) = delete;
    RestGateway& operator=(const RestGateway&) = delete;
    RestGateway(RestGateway&&) = delete;
    RestGateway& operator=(RestGateway&&) = delete;

    [[nodiscard]] int port() const { return port_; }

    // The answer to one request (the HTTP layer's logic, testable alone).
    [[nodiscard]] RestAnswer answer(const std::string& method, const std::string& path,
                                    const std::string& body) const;

private:
    std::shared_ptr<const DiscoveryCodec> codec_;
    CurrentFn current_;
    LogFn log_;
    std::unique_ptr<Poco::Net::HTTPServer> server_;
    int port_ = 0;
};

}  // namespace crossover::xds_server
