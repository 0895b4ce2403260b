// gRPC over TLS and mTLS, with certificates made by openssl for the test.
#define BOOST_TEST_MODULE sink_xds_server_tls
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <memory>
#include <string>

#include "test_support.h"

using namespace crossover::xds_server;
using namespace crossover::xds_server::test;
using crossover::test::read_text;
using crossover::test::TempDir;
using namespace std::chrono_literals;

namespace {

// A CA, a server certificate for "xds.test" and a client certificate, all signed by the CA.
struct Certificates {
    TempDir dir;
    std::string ca;
    std::string server_cert;
    std::string server_key;
    std::string client_cert;
    std::string client_key;

    Certificates() {
        const std::string d = dir.path();
        const std::string script =
            "set -e; cd '" + d +
            "'; key='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'\n"
            "openssl req -x509 $key -keyout ca.key -out ca.pem -days 1 -subj /CN=test-ca "
            "2>/dev/null\n"
            "printf 'subjectAltName=DNS:xds.test\\n' > server.ext\n"
            "printf 'subjectAltName=DNS:client.test\\n' > client.ext\n"
            "for who in server client; do\n"
            "  openssl req $key -keyout $who.key -out $who.csr -subj /CN=$who.test 2>/dev/null\n"
            "  openssl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
            "-out $who.pem -days 1 -extfile $who.ext 2>/dev/null\n"
            "done\n";
        crossover::test::write_text(d + "/make-certs.sh", script);
        if (std::system(("sh '" + d + "/make-certs.sh'").c_str()) != 0) {
            throw std::runtime_error("openssl could not make the test certificates");
        }
        ca = read_text(d + "/ca.pem");
        server_cert = read_text(d + "/server.pem");
        server_key = read_text(d + "/server.key");
        client_cert = read_text(d + "/client.pem");
        client_key = read_text(d + "/client.key");
    }
};

std::shared_ptr<grpc::Channel> tls_channel(int port, const Certificates& c, bool with_cert) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = c.ca;
    if (with_cert) {
        ssl.pem_private_key = c.client_key;
        ssl.pem_cert_chain = c.client_cert;
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("xds.test");
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port), grpc::SslCredentials(ssl),
                                     args);
}

// True when a stream on `channel` gets the clusters.
bool served(const std::shared_ptr<grpc::Channel>& channel, const Messages& messages) {
    SotwClient c(channel, messages);
    c.send({std::string(kClusterType), {}});
    const auto r = c.receive(10s);
    return r && r->names.size() == 2U;
}

}  // namespace

BOOST_AUTO_TEST_CASE(tls_serves_tls_clients_only) {
    const auto* api = api_or_skip();
    if (api == nullptr) {
        return;
    }
    const Certificates certs;
    ServerOptions o = ServerFixture::options();
    o.tls_cert_pem = certs.server_cert;
    o.tls_key_pem = certs.server_key;
    ServerFixture f(*api, o);
    f.publish(90, 10);
    BOOST_TEST(served(tls_channel(f.server().port(), certs, false), f.messages()));
    BOOST_TEST(!served(channel_to(f.server().port()), f.messages()));  // plaintext
}

BOOST_AUTO_TEST_CASE(mtls_requires_a_client_certificate_signed_by_the_client_ca) {
    const auto* api = api_or_skip();
    if (api == nullptr) {
        return;
    }
    const Certificates certs;
    ServerOptions o = ServerFixture::options();
    o.tls_cert_pem = certs.server_cert;
    o.tls_key_pem = certs.server_key;
    o.tls_client_ca_pem = certs.ca;
    ServerFixture f(*api, o);
    f.publish(90, 10);
    BOOST_TEST(served(tls_channel(f.server().port(), certs, true), f.messages()));
    BOOST_TEST(!served(tls_channel(f.server().port(), certs, false), f.messages()));
}
