// /healthz, /readyz, /metrics and /status over HTTP (one request per
// connection; see http_endpoint.cpp for how idle clients are kept apart).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace crossover::core {

struct HealthProbe {
    // Engine loop alive (ticked recently).
    std::function<bool()> alive;
    // Ready, and if not, why.
    std::function<bool(std::vector<std::string>&)> ready;
    // Prometheus text.
    std::function<std::string()> metrics;
    // JSON: each component's state and last error.
    std::function<std::string()> status;
};

class HttpEndpoint {
public:
    explicit HttpEndpoint(HealthProbe probe);
    ~HttpEndpoint();
    HttpEndpoint(const HttpEndpoint&) = delete;
    HttpEndpoint& operator=(const HttpEndpoint&) = delete;

    // Binds `address` ("host:port"; port 0 picks one) exclusively and starts
    // serving. Returns false and sets `error` when it cannot bind (the port
    // is taken, say).
    bool start(const std::string& address, std::string& error);
    void stop();
    [[nodiscard]] std::string bound_address() const { return bound_; }

private:
    struct Server;
    HealthProbe probe_;
    std::unique_ptr<Server> server_;
    std::string bound_;
};

}  // namespace crossover::core
