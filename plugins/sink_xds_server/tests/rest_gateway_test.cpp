// REST-JSON xDS: POST /v3/discovery:<type>, JSON in and out, 304 when current.
#define BOOST_TEST_MODULE sink_xds_server_rest
#include <boost/test/unit_test.hpp>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <memory>
#include <regex>
#include <string>

#include "rest_gateway.h"
#include "test_support.h"

using namespace crossover::xds_server;
using namespace crossover::xds_server::test;

namespace {

struct Reply {
    int status = 0;
    std::string body;
};

Reply post(int port, const std::string& path, const std::string& body,
           const std::string& method = "POST") {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
    Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    request.setContentType("application/json");
    request.setContentLength(static_cast<std::streamsize>(body.size()));
    session.sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    Reply r;
    r.status = static_cast<int>(response.getStatus());
    Poco::StreamCopier::copyToString(in, r.body);
    return r;
}

std::string version_of(const std::string& json) {
    static const std::regex re("\"version_info\":\"([0-9a-f]+)\"");
    std::smatch m;
    return std::regex_search(json, m, re) ? std::string(m[1]) : std::string();
}

}  // namespace

BOOST_AUTO_TEST_CASE(rest_json_answers_discovery_requests_and_304_when_current) {
    const auto* api = api_or_skip();
    if (api == nullptr) {
        return;
    }
    ServerFixture f(*api);
    auto codec = std::make_shared<const DiscoveryCodec>(api->pool());
    RestGateway rest(
        "127.0.0.1:0", codec, [&](const NodeInfo& node) { return f.server().current(node); },
        [](crossover::LogLevel, std::string_view) {});
    const int port = rest.port();

    BOOST_TEST(post(port, "/v3/discovery:clusters", "{}").status == 503);  // nothing yet
    f.publish(90, 10);

    const Reply clusters = post(port, "/v3/discovery:clusters", R"({"node": {"id": "envoy-1"}})");
    BOOST_TEST(clusters.status == 200);
    BOOST_TEST(
        clusters.body.find(R"("@type":"type.googleapis.com/envoy.config.cluster.v3.Cluster")") !=
        std::string::npos);
    BOOST_TEST(clusters.body.find(R"("name":"podinfo-primary")") != std::string::npos);
    BOOST_TEST(clusters.body.find(R"("name":"podinfo-canary")") != std::string::npos);
    const std::string version = version_of(clusters.body);
    BOOST_REQUIRE(!version.empty());

    // Current: 304, empty body.
    const Reply same =
        post(port, "/v3/discovery:clusters", R"({"version_info": ")" + version + R"("})");
    BOOST_TEST(same.status == 304);
    BOOST_TEST(same.body.empty());

    // Named routes; a change gives a new version.
    const Reply routes =
        post(port, "/v3/discovery:routes", R"({"resource_names": ["podinfo", "absent"]})");
    BOOST_TEST(routes.status == 200);
    BOOST_TEST(routes.body.find(R"("name":"podinfo")") != std::string::npos);
    BOOST_TEST(routes.body.find(R"("weight":90)") != std::string::npos);
    f.publish(50, 50);
    const Reply routes2 = post(
        port, "/v3/discovery:routes",
        R"({"resource_names": ["podinfo"], "version_info": ")" + version_of(routes.body) + R"("})");
    BOOST_TEST(routes2.status == 200);
    BOOST_TEST(routes2.body.find(R"("weight":50)") != std::string::npos);

    // Errors.
    const Reply bad = post(port, "/v3/discovery:routes", R"({"resource_namez": []})");
    BOOST_TEST(bad.status == 400);
    BOOST_TEST(bad.body.find("resource_namez") != std::string::npos);
    BOOST_TEST(post(port, "/v3/discovery:routes", "{not json").status == 400);
    BOOST_TEST(post(port, "/v3/discovery:secrets", "{}").status == 404);
    BOOST_TEST(post(port, "/v3/discovery:routes", "", "GET").status == 405);
    BOOST_TEST(post(port, "/v3/discovery:routes",
                    R"({"type_url": "type.googleapis.com/envoy.config.cluster.v3.Cluster"})")
                   .status == 400);
}
