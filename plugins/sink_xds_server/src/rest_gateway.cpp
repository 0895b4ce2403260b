#include "rest_gateway.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/StreamCopier.h>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>

#include <istream>
#include <map>
#include <utility>

#include "crossover/status.h"
#include "fetch.h"

namespace crossover::xds_server {

namespace pb = google::protobuf;

namespace {

constexpr std::size_t kMaxBody = 1U << 20U;

const std::map<std::string, std::string_view, std::less<>>& paths() {
    static const std::map<std::string, std::string_view, std::less<>> m{
        {"/v3/discovery:clusters", kClusterType},
        {"/v3/discovery:endpoints", kEndpointType},
        {"/v3/discovery:listeners", kListenerType},
        {"/v3/discovery:routes", kRouteType},
    };
    return m;
}

RestAnswer error(int status, const std::string& message) {
    RestAnswer a;
    a.status = status;
    a.content_type = "text/plain; charset=utf-8";
    a.body = message + "\n";
    return a;
}

class Handler final : public Poco::Net::HTTPRequestHandler {
public:
    explicit Handler(const RestGateway& gateway) : gateway_(gateway) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request,
                       Poco::Net::HTTPServerResponse& response) override {
        std::string body;
        RestAnswer a;
        if (request.getContentLength() > static_cast<std::streamsize>(kMaxBody)) {
            a = error(413, "request body above 1 MiB");
        } else {
            Poco::StreamCopier::copyToString(request.stream(), body, 8192);
            a = body.size() > kMaxBody
                    ? error(413, "request body above 1 MiB")
                    : gateway_.answer(request.getMethod(), request.getURI(), body);
        }
        response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(a.status));
        if (a.status == 304) {
            response.setContentLength(0);
            response.send();
            return;
        }
        response.setContentType(a.content_type);
        response.setContentLength(static_cast<std::streamsize>(a.body.size()));
        response.send() << a.body;
    }

private:
    const RestGateway& gateway_;
};

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
public:
    explicit Factory(const RestGateway& gateway) : gateway_(gateway) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(
        const Poco::Net::HTTPServerRequest& /*request*/) override {
        return new Handler(gateway_);
    }

private:
    const RestGateway& gateway_;
};

}  // namespace

RestGateway::RestGateway(const std::string& listen, std::shared_ptr<const DiscoveryCodec> codec,
                         CurrentFn current, LogFn log)
    : codec_(std::move(codec)), current_(std::move(current)), log_(std::move(log)) {
    try {
        Poco::Net::ServerSocket socket;
        socket.bind(Poco::Net::SocketAddress(listen), true);
        socket.listen(64);
        port_ = socket.address().port();
        auto* params = new Poco::Net::HTTPServerParams;
        params->setMaxThreads(4);
        params->setKeepAlive(true);
        server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), socket, params);
        server_->start();
    } catch (const Poco::Exception& e) {
        throw Error("cannot serve REST on '" + listen + "': " + e.displayText());
    }
}

RestGateway::~RestGateway() {
    if (server_) {
        server_->stopAll(true);
    }
}

RestAnswer RestGateway::answer(const std::string& method, const std::string& path,
                               const std::string& body) const {
    const auto type = paths().find(path);
    if (type == paths().end()) {
        return error(404, "no xDS resource type at " + path +
                              " (POST /v3/discovery:clusters, :endpoints, :listeners or :routes)");
    }
    if (method != "POST") {
        return error(405, "use POST with a JSON DiscoveryRequest");
    }
    const std::string type_url(type->second);
    const pb::Descriptor* request_type = codec_->sotw_request_type();
    pb::DynamicMessageFactory factory(request_type->file()->pool());
    std::unique_ptr<pb::Message> json_request(factory.GetPrototype(request_type)->New());
    pb::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    const auto parsed =
        pb::util::JsonStringToMessage(body.empty() ? "{}" : body, json_request.get(), options);
    if (!parsed.ok()) {
        return error(400, "not a JSON DiscoveryRequest: " + std::string(parsed.message()));
    }
    const Request request = codec_->parse_sotw_request(json_request->SerializeAsString());
    if (!request.type_url.empty() && request.type_url != type_url) {
        return error(400, "type_url " + request.type_url + " posted to " + path);
    }
    const ResourceSetPtr set = current_(request.node);
    if (!set) {
        return error(503, "no resources yet: the pipeline has not produced an output");
    }
    const TypeResources& resources = set->type(type_url);
    if (!request.version_info.empty() && request.version_info == resources.version) {
        RestAnswer a;
        a.status = 304;
        return a;
    }
    const std::string bytes = fetch_response(*codec_, set, type_url, request).flatten();
    const pb::Descriptor* response_type = codec_->sotw_response_type();
    std::unique_ptr<pb::Message> response(factory.GetPrototype(response_type)->New());
    if (!response->ParseFromString(bytes)) {
        return error(500, "internal error: a response that does not parse");
    }
    RestAnswer a;
    pb::util::JsonPrintOptions print;
    print.preserve_proto_field_names = true;
    const auto printed = pb::util::MessageToJsonString(*response, &a.body, print);
    if (!printed.ok()) {
        return error(500, "cannot print the response as JSON: " + std::string(printed.message()));
    }
    a.body += '\n';
    return a;
}

}  // namespace crossover::xds_server
