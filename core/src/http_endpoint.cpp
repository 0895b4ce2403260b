#include "http_endpoint.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/ThreadPool.h>

namespace crossover::core {

namespace {

constexpr int kBacklog = 64;
constexpr int kThreads = 8;
constexpr int kMaxQueued = 64;
const Poco::Timespan kRequestTimeout(1, 0);

using Poco::Net::HTTPResponse;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

class Handler final : public Poco::Net::HTTPRequestHandler {
public:
    explicit Handler(const HealthProbe& probe) : probe_(probe) {}

    void handleRequest(HTTPServerRequest& request, HTTPServerResponse& response) override {
        std::string path = request.getURI();
        if (const auto q = path.find('?'); q != std::string::npos) {
            path.resize(q);
        }
        std::string body;
        std::string type = "text/plain; charset=utf-8";
        HTTPResponse::HTTPStatus status = HTTPResponse::HTTP_OK;
        if (request.getMethod() != "GET" && request.getMethod() != "HEAD") {
            status = HTTPResponse::HTTP_METHOD_NOT_ALLOWED;
            body = "method not allowed\n";
        } else if (path == "/healthz") {
            const bool alive = probe_.alive();
            status = alive ? HTTPResponse::HTTP_OK : HTTPResponse::HTTP_SERVICE_UNAVAILABLE;
            body = alive ? "ok\n" : "engine loop is not responding\n";
        } else if (path == "/readyz") {
            std::vector<std::string> why;
            const bool ready = probe_.ready(why);
            status = ready ? HTTPResponse::HTTP_OK : HTTPResponse::HTTP_SERVICE_UNAVAILABLE;
            body = ready ? "ok\n" : "not ready:\n";
            for (const auto& w : why) {
                body += "- " + w + "\n";
            }
        } else if (path == "/metrics") {
            body = probe_.metrics();
            type = "text/plain; version=0.0.4; charset=utf-8";
        } else if (path == "/status" && probe_.status) {
            body = probe_.status();
            type = "application/json";
        } else {
            status = HTTPResponse::HTTP_NOT_FOUND;
            body = "not found; try /healthz, /readyz, /metrics or /status\n";
        }
        response.setStatus(status);
        response.setContentType(type);
        response.setContentLength(static_cast<std::streamsize>(body.size()));
        auto& out = response.send();
        if (request.getMethod() != "HEAD") {
            out << body;
        }
    }

private:
    const HealthProbe& probe_;
};

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
public:
    explicit Factory(const HealthProbe& probe) : probe_(probe) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override {
        return new Handler(probe_);
    }

private:
    const HealthProbe& probe_;
};

}  // namespace

HttpEndpoint::HttpEndpoint(HealthProbe probe)
    : probe_(std::move(probe)), threads_(std::make_unique<Poco::ThreadPool>(1, kThreads)) {}

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
        auto params = Poco::makeAuto<Poco::Net::HTTPServerParams>();
        // A client holds a thread only while it sends its request (one per
        // connection, no keep-alive), and one that stays silent is dropped
        // after kRequestTimeout: idle or slow clients can delay a probe by
        // that much at worst, and only when they hold every thread.
        params->setMaxThreads(kThreads);
        params->setMaxQueued(kMaxQueued);
        params->setKeepAlive(false);
        params->setTimeout(kRequestTimeout);
        server_ = std::make_unique<Poco::Net::HTTPServer>(Poco::makeShared<Factory>(probe_),
                                                          *threads_, socket, params);
        server_->start();
        return true;
    } catch (const Poco::Exception& e) {
        error = "cannot listen on " + address + ": " + e.displayText();
    } catch (const std::exception& e) {
        error = "cannot listen on " + address + ": " + e.what();
    }
    return false;
}

void HttpEndpoint::stop() {
    if (server_) {
        server_->stopAll(true);
        server_.reset();
    }
    if (threads_) {
        threads_->joinAll();
    }
}

}  // namespace crossover::core
