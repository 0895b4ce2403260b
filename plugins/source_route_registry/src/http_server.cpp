#include "http_server.h"

#include <istream>
#include <mutex>

#include <Poco/Exception.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/ThreadPool.h>

namespace crossover::route_registry {

namespace {

using Poco::Net::HTTPRequestHandler;
using Poco::Net::HTTPServerRequest;
using Poco::Net::HTTPServerResponse;

class Handler final : public HTTPRequestHandler {
public:
    explicit Handler(std::shared_ptr<Api> api) : api_(std::move(api)) {}

    void handleRequest(HTTPServerRequest& in, HTTPServerResponse& out) override {
        Request request;
        request.method = in.getMethod();
        const std::string& uri = in.getURI();
        request.path = uri.substr(0, uri.find('?'));
        request.authorization = in.get("Authorization", "");
        request.if_match = in.get("If-Match", "");
        request.if_none_match = in.get("If-None-Match", "");
        request.peer = in.clientAddress().toString();
        read_body(in, request);
        Reply reply = api_->handle(request);
        if (request.body_too_large) {
            out.setKeepAlive(false);  // the rest of the body is never read
        }
        out.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(reply.status));
        for (const auto& [k, v] : reply.headers) {
            out.set(k, v);
        }
        if (reply.body.empty()) {
            out.setContentLength(0);
            out.send();
            return;
        }
        out.setContentType("application/json");
        reply.body += '\n';
        out.setContentLength(static_cast<std::streamsize>(reply.body.size()));
        out.send() << reply.body;
    }

private:
    void read_body(HTTPServerRequest& in, Request& request) const {
        const std::size_t limit = api_->max_body();
        if (in.hasContentLength() && in.getContentLength64() > static_cast<std::int64_t>(limit)) {
            request.body_too_large = true;
            return;
        }
        std::istream& body = in.stream();
        char buf[8192];
        while (body) {
            body.read(buf, sizeof buf);
            const auto n = static_cast<std::size_t>(body.gcount());
            if (request.body.size() + n > limit) {
                request.body_too_large = true;
                request.body.clear();
                return;
            }
            request.body.append(buf, n);
        }
    }

    std::shared_ptr<Api> api_;
};

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
public:
    explicit Factory(std::shared_ptr<Api> api) : api_(std::move(api)) {}
    HTTPRequestHandler* createRequestHandler(const HTTPServerRequest&) override {
        return new Handler(api_);
    }

private:
    std::shared_ptr<Api> api_;
};

Poco::Net::SocketAddress parse_listen(const std::string& listen) {
    std::string text = listen;
    if (!text.empty() && text[0] == ':') {
        text = "0.0.0.0" + text;
    }
    return Poco::Net::SocketAddress(text);
}

Poco::Net::ServerSocket make_socket(const TlsFiles& tls) {
    if (!tls.enabled()) {
        return Poco::Net::ServerSocket();
    }
    static std::once_flag once;
    std::call_once(once, [] { Poco::Net::initializeSSL(); });
    Poco::Net::Context::Params params;
    params.certificateFile = tls.cert_file;
    params.privateKeyFile = tls.key_file;
    params.loadDefaultCAs = false;
    if (tls.client_ca_file.empty()) {
        params.verificationMode = Poco::Net::Context::VERIFY_NONE;
    } else {
        params.caLocation = tls.client_ca_file;
        params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
    }
    Poco::Net::Context::Ptr context =
        new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
    // Poco would also match a client certificate's name against the client's
    // address; client certificates name programs, not hosts.
    context->enableExtendedCertificateVerification(false);
    return Poco::Net::SecureServerSocket(context);
}

}  // namespace

HttpServer::HttpServer(std::shared_ptr<Api> api, const std::string& listen, int threads,
                       const TlsFiles& tls) {
    try {
        Poco::Net::ServerSocket socket = make_socket(tls);
        socket.bind(parse_listen(listen), true);
        socket.listen(256);
        auto* params = new Poco::Net::HTTPServerParams;
        params->setMaxThreads(threads);
        params->setMaxQueued(1024);
        params->setKeepAlive(true);
        params->setMaxKeepAliveRequests(0);
        params->setTimeout(Poco::Timespan(30, 0));
        // An idle keep-alive connection holds a thread: let it go soon.
        params->setKeepAliveTimeout(Poco::Timespan(2, 0));
        pool_ = std::make_unique<Poco::ThreadPool>(2, threads);
        server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(std::move(api)), *pool_,
                                                          socket, params);
        server_->start();
        address_ = socket.address().toString();
    } catch (const Poco::Exception& e) {
        throw Error("listen " + listen + ": " + e.displayText());
    }
}

HttpServer::~HttpServer() {
    if (server_) {
        try {
            server_->stopAll(true);
            server_.reset();
            pool_->joinAll();
        } catch (...) {
            // Shutting down: nothing more to do.
        }
    }
}

}  // namespace crossover::route_registry
