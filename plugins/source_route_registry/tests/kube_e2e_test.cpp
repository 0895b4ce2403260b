// Two crossover processes with `store: kubernetes` on one test API server:
// a route registered through one replica appears in the other's Envoy files,
// a removal too, and a replica started later serves what is already there.
#define BOOST_TEST_MODULE route_registry_kube_e2e
#include <csignal>
#include <filesystem>
#include <memory>

#include <boost/test/unit_test.hpp>

#include "fake_apiserver.h"
#include "http_client.h"
#include "process.h"

using namespace crossover::test;
using crossover::testing::FakeApiServer;
namespace fs = std::filesystem;

namespace {

const std::string kToken = "e2e-token-0123456789abcdef";

// A pipeline: route_registry with store: kubernetes on `api` -> symlink sink in out/.
void write_pipeline(const TempDir& dir, const FakeApiServer& api) {
    write_text(dir / "tokens", kToken + " e2e-client write\n");
    write_text(dir / "p.yaml",
               "engine: {debounce: 1ms, max_delay: 20ms}\n"
               "sources:\n"
               "  registry:\n"
               "    type: route_registry\n"
               "    listen: 127.0.0.1:0\n"
               "    token_file: tokens\n"
               "    store: kubernetes\n"
               "    kube_apiserver: " +
                   api.url() + "\n    kube_ca_file: " + api.ca_file() +
                   "\n    kube_token_file: " + api.token_file() +
                   "\n    kube_namespace: routing\n"
                   "sinks:\n"
                   "  envoy: {type: symlink, inputs: [registry], dir: out, fsync: false}\n");
}

// One replica: its own pipeline directory and output, the shared API server.
struct Replica {
    TempDir dir;
    std::unique_ptr<Process> process;
    std::string address;

    explicit Replica(const FakeApiServer& api) {
        write_pipeline(dir, api);
        process = std::make_unique<Process>(
            std::vector<std::string>{crossover_bin(), "run", dir / "p.yaml", "--listen", "off"},
            dir.path());
        const std::string marker = "route registry listening on ";
        eventually(
            [&] {
                const std::string err = process->err();
                const auto at = err.find(marker);
                if (at == std::string::npos) {
                    return !process->running();
                }
                const auto start = at + marker.size();
                address = err.substr(start, err.find(';', start) - start);
                return true;
            },
            std::chrono::seconds(60));
    }
    ~Replica() {
        process->signal(SIGTERM);
        process->wait();
    }
    Replica(const Replica&) = delete;
    Replica& operator=(const Replica&) = delete;

    [[nodiscard]] std::string cds() const { return read_text(dir / "out/current/cds.yaml"); }
    [[nodiscard]] HttpClient client() const { return HttpClient(address, kToken); }
};

std::string route_body(const std::string& domain, int port) {
    return R"({"domains": [")" + domain + R"("], "endpoints": [{"address": "10.1.2.3", "port": )" +
           std::to_string(port) + R"(}], "protocol": "grpc"})";
}

}  // namespace

BOOST_AUTO_TEST_CASE(two_processes_serve_one_registry) {
    FakeApiServer api;
    Replica a(api);
    Replica b(api);
    BOOST_REQUIRE_MESSAGE(!a.address.empty(), a.process->err());
    BOOST_REQUIRE_MESSAGE(!b.address.empty(), b.process->err());
    BOOST_REQUIRE_MESSAGE(eventually([&] { return fs::exists(a.dir / "out/current/cds.yaml"); }),
                          a.process->err());
    BOOST_REQUIRE_MESSAGE(eventually([&] { return fs::exists(b.dir / "out/current/cds.yaml"); }),
                          b.process->err());

    HttpClient ac = a.client();
    BOOST_CHECK_EQUAL(ac.call("PUT", "/v1/routes/user-123", route_body("s123.org", 50051)).status,
                      201);
    // The route is a Route object, and the other replica's Envoy files have it.
    BOOST_CHECK(api.get_object("Route", "routing", "user-123").find("s123.org") !=
                std::string::npos);
    BOOST_CHECK_MESSAGE(eventually([&] { return b.cds().find("user-123") != std::string::npos; }),
                        b.process->err());

    // A replica started now serves it too.
    Replica c(api);
    BOOST_REQUIRE_MESSAGE(!c.address.empty(), c.process->err());
    BOOST_CHECK_MESSAGE(eventually([&] {
                            return fs::exists(c.dir / "out/current/cds.yaml") &&
                                   c.cds().find("user-123") != std::string::npos;
                        }),
                        c.process->err());

    // Removed through b: gone from a's and c's files.
    BOOST_CHECK_EQUAL(b.client().call("DELETE", "/v1/routes/user-123").status, 204);
    BOOST_CHECK(eventually([&] { return a.cds().find("user-123") == std::string::npos; }));
    BOOST_CHECK(eventually([&] { return c.cds().find("user-123") == std::string::npos; }));
    BOOST_CHECK_MESSAGE(a.process->err().find(" error ") == std::string::npos, a.process->err());
}

BOOST_AUTO_TEST_CASE(onetime_mode_writes_the_routes_the_api_server_holds) {
    FakeApiServer api;
    api.apply(R"({"apiVersion": "crossover.io/v1alpha1", "kind": "Route",
                  "metadata": {"name": "user-7", "namespace": "routing"},
                  "spec": {"domains": ["s7.org"], "endpoints": [{"address": "10.1.2.7", "port": 80}]}})");
    TempDir dir;
    write_pipeline(dir, api);
    const Result r = run({crossover_bin(), "run", dir / "p.yaml", "--onetime"}, dir.path());
    BOOST_CHECK_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK(read_text(dir / "out/current/rds.yaml").find("\"s7.org\"") != std::string::npos);
}
