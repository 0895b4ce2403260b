// The API over TLS and mutual TLS, with certificates made by the openssl
// command for the test.
#define BOOST_TEST_MODULE route_registry_tls
#include <cstdlib>
#include <memory>

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/SSLManager.h>
#include <boost/test/unit_test.hpp>

#include "api.h"
#include "http_server.h"
#include "process.h"

using namespace crossover::route_registry;
using crossover::test::TempDir;

namespace {

const std::string kToken = "tls-token-0123456789abcdef";

bool sh(const std::string& command) {
    return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

// A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA.
bool make_certificates(const TempDir& t) {
    const std::string d = t.path();
    return sh("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=test-ca -keyout " + d +
              "/ca.key -out " + d + "/ca.crt") &&
           sh("openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout " + d +
              "/server.key -out " + d + "/server.csr") &&
           sh("printf 'subjectAltName=IP:127.0.0.1\\n' > " + d + "/san.ext") &&
           sh("openssl x509 -req -days 1 -in " + d + "/server.csr -CA " + d + "/ca.crt -CAkey " +
              d + "/ca.key -CAcreateserial -extfile " + d + "/san.ext -out " + d + "/server.crt") &&
           sh("openssl req -newkey rsa:2048 -nodes -subj /CN=pod-manager -keyout " + d +
              "/client.key -out " + d + "/client.csr") &&
           sh("openssl x509 -req -days 1 -in " + d + "/client.csr -CA " + d + "/ca.crt -CAkey " +
              d + "/ca.key -CAcreateserial -out " + d + "/client.crt");
}

struct Server {
    TempDir dir;
    std::shared_ptr<Registry> registry;
    std::shared_ptr<TokenFile> tokens;
    std::shared_ptr<Api> api;
    std::unique_ptr<HttpServer> http;

    Server(const TempDir& certs, bool mutual) {
        crossover::test::write_text(dir / "tokens", kToken + " pod-manager\n");
        const auto quiet = [](crossover::LogLevel, std::string_view) {};
        registry = std::make_shared<Registry>(Registry::Options{dir / "state", 1000}, quiet);
        tokens = std::make_shared<TokenFile>(dir / "tokens", quiet);
        api = std::make_shared<Api>(*registry, *tokens, RouteLimits{}, 4096, quiet);
        TlsFiles tls{certs / "server.crt", certs / "server.key",
                     mutual ? certs / "ca.crt" : std::string()};
        http = std::make_unique<HttpServer>(api, "127.0.0.1:0", 4, tls);
    }
    ~Server() { http.reset(); }
};

// GET /v1/routes over HTTPS; the status, or -1 when the connection failed.
int https_get(const std::string& address, const TempDir& certs, bool with_client_cert) {
    Poco::Net::Context::Params params;
    params.caLocation = certs / "ca.crt";
    params.loadDefaultCAs = false;
    params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
    if (with_client_cert) {
        params.certificateFile = certs / "client.crt";
        params.privateKeyFile = certs / "client.key";
    }
    const Poco::Net::Context::Ptr context =
        new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
    const auto colon = address.rfind(':');
    try {
        Poco::Net::HTTPSClientSession session(
            address.substr(0, colon),
            static_cast<Poco::UInt16>(std::stoi(address.substr(colon + 1))), context);
        session.setTimeout(Poco::Timespan(10, 0));
        Poco::Net::HTTPRequest request("GET", "/v1/routes", Poco::Net::HTTPMessage::HTTP_1_1);
        request.set("Authorization", "Bearer " + kToken);
        session.sendRequest(request);
        Poco::Net::HTTPResponse response;
        session.receiveResponse(response).ignore(1 << 20);
        return static_cast<int>(response.getStatus());
    } catch (const Poco::Exception& e) {
        BOOST_TEST_MESSAGE("HTTPS request failed: " << e.displayText());
        return -1;
    }
}

struct SslInit {
    SslInit() { Poco::Net::initializeSSL(); }
    ~SslInit() { Poco::Net::uninitializeSSL(); }
};
BOOST_TEST_GLOBAL_FIXTURE(SslInit);

}  // namespace

BOOST_AUTO_TEST_CASE(https_and_mutual_tls) {
    TempDir certs;
    BOOST_REQUIRE_MESSAGE(make_certificates(certs), "openssl could not make the certificates");
    {
        Server s(certs, false);
        BOOST_CHECK_EQUAL(https_get(s.http->address(), certs, false), 200);
    }
    {
        Server s(certs, true);
        BOOST_CHECK_EQUAL(https_get(s.http->address(), certs, true), 200);
        // Without a client certificate the handshake fails: no answer at all.
        BOOST_CHECK_EQUAL(https_get(s.http->address(), certs, false), -1);
    }
}

BOOST_AUTO_TEST_CASE(missing_tls_files_are_an_error_naming_the_address) {
    TempDir dir;
    crossover::test::write_text(dir / "tokens", kToken + " pod-manager\n");
    const auto quiet = [](crossover::LogLevel, std::string_view) {};
    Registry registry({dir / "state", 1000}, quiet);
    TokenFile tokens(dir / "tokens", quiet);
    auto api = std::make_shared<Api>(registry, tokens, RouteLimits{}, 4096, quiet);
    BOOST_CHECK_THROW(
        HttpServer(api, "127.0.0.1:0", 2, TlsFiles{dir / "none.crt", dir / "none.key", ""}),
        std::exception);
}
