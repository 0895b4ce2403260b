// The Kubernetes client over TLS against the test API server, with server certificates made
// by openssl for each case: which names and addresses are accepted, CA and client certificate
// from files and from kubeconfig data, bad PEM text, timeouts and interruption.
#define BOOST_TEST_MODULE common_kube_client_tls
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <vector>

#include <Poco/Base64Encoder.h>

#include "crossover/status.h"
#include "crossover_kube/client.h"
#include "crossover_kube/config.h"
#include "kube_test_support.h"
#include "process.h"

using namespace kube_test;
using crossover::Error;
using crossover::kube::Client;
using crossover::kube::ClusterConfig;
using crossover::kube::Interrupted;
using crossover::kube::ReadTimeout;
using crossover::kube::Response;
using crossover::kube::Timeouts;
using crossover::test::read_text;

namespace {

const std::string kPath = "/api/v1/namespaces/test/configmaps";

void run_shell(const std::string& script) {
    const std::string command = "sh -c '" + script + "' >/dev/null 2>&1";
    if (std::system(command.c_str()) != 0) {
        throw std::runtime_error("failed: " + script);
    }
}

FakeApiServer::Options server_options(const TempDir& work) {
    FakeApiServer::Options o;
    o.state_file = work.path() + "/state.json";  // restart() keeps the certificates in dir()
    return o;
}

// The test API server, whose certificate each test can replace, and a CA that did not sign
// anything of it.
struct Fixture {
    TempDir work;
    FakeApiServer server{server_options(work)};
    std::vector<std::string> warnings;

    Fixture() {
        run_shell("set -e; cd " + work.path() +
                  "; openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                  "-keyout other-ca.key -out other-ca.crt -days 1 -subj /CN=other-ca; "
                  "openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:prime256v1 "
                  "-out other.key");
    }

    // Serves a certificate whose subjectAltName is `san` (openssl's syntax), signed by the
    // server's test CA.
    void serve_certificate(const std::string& san) {
        run_shell("set -e; cd " + server.dir() + "; printf \"subjectAltName=" + san +
                  "\\n\" > server.ext; openssl req -newkey ec -pkeyopt "
                  "ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr "
                  "-subj /CN=kube-apiserver; openssl x509 -req -in server.csr -CA ca.crt -CAkey "
                  "ca.key -CAcreateserial -out server.crt -days 1 -extfile server.ext");
        server.restart();
    }

    std::string port() const { return server.url().substr(server.url().rfind(':')); }

    // The server's CA and token, at `host` (as dialled).
    ClusterConfig config(const std::string& host = "127.0.0.1") const {
        ClusterConfig c;
        c.server = "https://" + host + port();
        c.ca_file = server.ca_file();
        c.token_file = server.token_file();
        return c;
    }

    std::unique_ptr<Client> client(ClusterConfig c) {
        return std::make_unique<Client>(std::move(c), Timeouts{},
                                        [this](crossover::LogLevel level, std::string_view m) {
                                            if (level == crossover::LogLevel::Warn) {
                                                warnings.emplace_back(m);
                                            }
                                        });
    }

    int status(ClusterConfig c) { return client(std::move(c))->request("GET", kPath).status; }
};

// The message of the Error that `f` throws ("" when it throws none).
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        BOOST_TEST_MESSAGE(e.what());
        return e.what();
    }
    return "";
}

std::string base64(const std::string& text) {
    std::ostringstream out;
    Poco::Base64Encoder enc(out);
    enc.rdbuf()->setLineLength(0);
    enc << text;
    enc.close();
    return out.str();
}

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(client_tls, Fixture)

BOOST_AUTO_TEST_CASE(the_test_servers_certificate_is_accepted_by_name_and_address) {
    BOOST_TEST(status(config("127.0.0.1")) == 200);
    BOOST_TEST(status(config("localhost")) == 200);
    BOOST_TEST(warnings.empty());
}

BOOST_AUTO_TEST_CASE(an_ip_address_san_is_accepted_and_a_host_name_it_lacks_is_refused) {
    serve_certificate("IP:127.0.0.1");
    BOOST_TEST(status(config("127.0.0.1")) == 200);
    auto c = config("localhost");
    const std::string e = error_of([&] { status(c); });
    BOOST_TEST(has(e, "TLS certificate of " + c.server + " rejected"));
    BOOST_TEST(has(e, "hostname mismatch"));
    BOOST_TEST(has(e, "localhost"));
    BOOST_TEST(has(e, "subjectAltName"));
}

BOOST_AUTO_TEST_CASE(a_host_name_san_is_accepted_and_an_address_it_lacks_is_refused) {
    serve_certificate("DNS:localhost");
    BOOST_TEST(status(config("localhost")) == 200);
    auto c = config("127.0.0.1");
    const std::string e = error_of([&] { status(c); });
    BOOST_TEST(has(e, "TLS certificate of " + c.server + " rejected"));
    BOOST_TEST(has(e, "IP address mismatch"));
    BOOST_TEST(has(e, "127.0.0.1"));
}

BOOST_AUTO_TEST_CASE(insecure_checks_neither_the_ca_nor_the_name) {
    serve_certificate("DNS:elsewhere.example");
    auto c = config("localhost");
    c.ca_file.clear();
    c.insecure = true;
    BOOST_TEST(status(c) == 200);
    BOOST_REQUIRE(warnings.size() == 1u);
    BOOST_TEST(has(warnings[0], "DISABLED (insecure)"));
    BOOST_TEST(has(warnings[0], c.server));
}

BOOST_AUTO_TEST_CASE(without_a_ca_the_system_cas_are_used_and_refuse_the_test_ca) {
    auto c = config();
    c.ca_file.clear();
    const std::string e = error_of([&] { status(c); });
    BOOST_TEST(has(e, "TLS handshake with " + c.server + " failed"));
    BOOST_TEST(has(e, "certificate verify failed"));
    BOOST_TEST(has(e, "system CAs"));
}

BOOST_AUTO_TEST_CASE(a_wrong_ca_file_is_refused_naming_it) {
    auto c = config();
    c.ca_file = work.path() + "/other-ca.crt";
    const std::string e = error_of([&] { status(c); });
    BOOST_TEST(has(e, "certificate verify failed"));
    BOOST_TEST(has(e, "CA " + c.ca_file));
    c.ca_file = work.path() + "/missing.crt";
    BOOST_TEST(has(error_of([&] { client(c); }),
                   "CA file " + c.ca_file + " for " + c.server + " does not exist"));
    c.ca_file = server.token_file();  // not PEM
    BOOST_TEST(has(error_of([&] { client(c); }), "cannot load CA file " + c.ca_file));
}

BOOST_AUTO_TEST_CASE(ca_data_with_several_certificates_is_trusted) {
    auto c = config();
    c.ca_file.clear();
    c.ca_data = read_text(work.path() + "/other-ca.crt") + read_text(server.ca_file());
    BOOST_TEST(status(c) == 200);

    c.ca_data = read_text(work.path() + "/other-ca.crt");
    const std::string e = error_of([&] { status(c); });
    BOOST_TEST(has(e, "certificate verify failed"));
    BOOST_TEST(has(e, "certificate-authority-data"));
}

BOOST_AUTO_TEST_CASE(bad_ca_data_is_a_clear_error) {
    auto c = config();
    c.ca_file.clear();
    c.ca_data = "not a certificate";
    BOOST_TEST(error_of([&] { client(c); }) ==
               "certificate-authority-data for " + c.server + " holds no PEM certificate");
    c.ca_data =
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n";
    const std::string e = error_of([&] { client(c); });
    BOOST_TEST(has(e, "TLS setup for " + c.server));
    BOOST_TEST(has(e, "certificate-authority-data"));
    BOOST_TEST(has(e, "cannot be read"));
}

BOOST_AUTO_TEST_CASE(a_client_certificate_from_files_or_data_authenticates) {
    auto anonymous = config();
    anonymous.token_file.clear();
    BOOST_TEST(status(anonymous) == 401);  // what the certificate changes

    auto files = anonymous;
    files.client_cert_file = server.client_cert_file();
    files.client_key_file = server.client_key_file();
    BOOST_TEST(status(files) == 200);

    auto data = anonymous;
    data.client_cert_data = read_text(server.client_cert_file());
    data.client_key_data = read_text(server.client_key_file());
    BOOST_TEST(status(data) == 200);
}

BOOST_AUTO_TEST_CASE(a_kubeconfig_with_inline_ca_and_client_certificate_works) {
    const std::string path = work.path() + "/kubeconfig";
    std::ofstream(path) << "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
                        << "contexts:\n- name: test\n  context: {cluster: c, user: u}\n"
                        << "clusters:\n- name: c\n  cluster:\n    server: " << server.url()
                        << "\n    certificate-authority-data: "
                        << base64(read_text(server.ca_file()))
                        << "\nusers:\n- name: u\n  user:\n    client-certificate-data: "
                        << base64(read_text(server.client_cert_file()))
                        << "\n    client-key-data: " << base64(read_text(server.client_key_file()))
                        << "\n";
    ClusterConfig c;
    std::string ns;
    crossover::kube::load_kubeconfig(path, c, ns);
    BOOST_REQUIRE(!c.ca_data.empty());
    BOOST_REQUIRE(c.token.empty() && c.token_file.empty());
    BOOST_TEST(status(c) == 200);
}

BOOST_AUTO_TEST_CASE(client_certificate_errors_are_clear) {
    auto c = config();
    c.client_cert_data = read_text(server.client_cert_file());
    BOOST_TEST(error_of([&] { client(c); }) ==
               "a client certificate for " + c.server + " needs a client key");

    c.client_key_data = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n";
    std::string e = error_of([&] { client(c); });
    BOOST_TEST(has(e, "TLS setup for " + c.server + ": client-key-data holds no readable PEM"));

    c.client_key_file = work.path() + "/other.key";  // a key, but not the certificate's
    c.client_key_data.clear();
    e = error_of([&] { client(c); });
    BOOST_TEST(has(e, "client key " + c.client_key_file + " does not match"));

    c.client_cert_data = "no PEM here";
    e = error_of([&] { client(c); });
    BOOST_TEST(has(e, "client-certificate-data holds no PEM certificate"));

    c.client_cert_data.clear();
    c.client_cert_file = work.path() + "/missing.crt";
    e = error_of([&] { client(c); });
    BOOST_TEST(has(e, "cannot read the client certificate " + c.client_cert_file));
}

BOOST_AUTO_TEST_CASE(a_silent_watch_times_out_after_the_whole_read_timeout) {
    auto cl = client(config());
    const auto rv = server.resource_version();
    const auto start = std::chrono::steady_clock::now();
    Response err;
    auto stream = cl->stream(kPath + "?watch=1&timeoutSeconds=60&resourceVersion=" + rv, 1s, err);
    BOOST_REQUIRE(stream);
    std::string line;
    BOOST_CHECK_THROW(stream->next_line(line), ReadTimeout);
    // Waited once for the whole timeout (not half of it, not twice).
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    BOOST_TEST(waited.count() >= 1000);
}

BOOST_AUTO_TEST_CASE(interrupt_ends_a_blocked_tls_read) {
    auto cl = client(config());
    Response err;
    auto stream = cl->stream(
        kPath + "?watch=1&timeoutSeconds=60&resourceVersion=" + server.resource_version(), 60s,
        err);
    BOOST_REQUIRE(stream);
    auto reading = std::async(std::launch::async, [&] {
        std::string line;
        try {
            stream->next_line(line);
        } catch (const Interrupted&) {
            return true;
        }
        return false;
    });
    BOOST_REQUIRE(eventually([&] { return server.open_watches() > 0; }));
    cl->interrupt();
    BOOST_REQUIRE(reading.wait_for(30s) == std::future_status::ready);
    BOOST_TEST(reading.get());
    BOOST_CHECK_THROW(cl->request("GET", kPath), Interrupted);
    cl->reset_interrupt();
    BOOST_TEST(cl->request("GET", kPath).status == 200);
}

BOOST_AUTO_TEST_SUITE_END()
