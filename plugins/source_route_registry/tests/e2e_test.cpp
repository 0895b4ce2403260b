// The real binary: route_registry -> envoy_validate -> symlink, the files
// Envoy reads following the API; and SIGKILL during a stream of writes.
#define BOOST_TEST_MODULE route_registry_e2e
#include <csignal>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <boost/test/unit_test.hpp>

#include "http_client.h"
#include "process.h"

using namespace crossover::test;
namespace fs = std::filesystem;

namespace {

const std::string kToken = "e2e-token-0123456789abcdef";

bool protos_available() {
    return fs::exists(fs::path(build_dir()) / "share/crossover/envoy-protos/VERSION");
}

// The address the registry logged, once it listens.
std::string wait_for_address(Process& p) {
    const std::string marker = "route registry listening on ";
    std::string address;
    eventually(
        [&] {
            const std::string err = p.err();
            const auto at = err.find(marker);
            if (at == std::string::npos) {
                return !p.running();
            }
            const auto start = at + marker.size();
            address = err.substr(start, err.find('\n', start) - start);
            return true;
        },
        std::chrono::seconds(60));
    return address;
}

void write_pipeline(const TempDir& t, const std::string& route_options, bool validate) {
    write_text(t / "tokens", kToken + " e2e-client write\n");
    std::string p =
        "engine: {debounce: 1ms, max_delay: 20ms}\n"
        "sources:\n"
        "  registry:\n"
        "    type: route_registry\n"
        "    listen: 127.0.0.1:0\n"
        "    token_file: tokens\n"
        "    state_dir: state\n" +
        route_options +
        "transforms:\n"
        "  checked: {type: envoy_validate, inputs: [registry]}\n"
        "sinks:\n"
        "  envoy: {type: symlink, inputs: [" +
        std::string(validate ? "checked" : "registry") + "], dir: out, fsync: false}\n";
    if (!validate) {
        p.replace(p.find("transforms:"), p.find("sinks:") - p.find("transforms:"), "");
    }
    write_text(t / "p.yaml", p);
}

std::string route_body(const std::string& domain, const std::string& address, int port,
                       const std::string& extra = {}) {
    return R"({"domains": [")" + domain + R"("], "endpoints": [{"address": ")" + address +
           R"(", "port": )" + std::to_string(port) + "}]" + extra + "}";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(e2e)

BOOST_AUTO_TEST_CASE(envoy_files_follow_the_api_and_pass_envoy_validate) {
    if (!protos_available()) {
        std::cout << "SKIPPED: Envoy protos absent; run `make envoy_protos`" << std::endl;
        return;
    }
    for (const std::string mode : {"inline", "eds"}) {
        BOOST_TEST_CONTEXT("endpoints_mode " << mode) {
            TempDir t;
            write_pipeline(t, "    endpoints_mode: " + mode + "\n", true);
            Process p({crossover_bin(), "run", t / "p.yaml", "--listen", "off"}, t.path());
            const std::string address = wait_for_address(p);
            BOOST_REQUIRE_MESSAGE(!address.empty(), p.err());
            HttpClient c(address, kToken);
            BOOST_REQUIRE(eventually([&] { return fs::exists(t / "out/current/rds.yaml"); }));

            BOOST_CHECK_EQUAL(c.call("PUT", "/v1/routes/user-123",
                                     route_body("session-123.example.org", "10.1.2.3", 50051,
                                                R"(, "protocol": "grpc", "timeout": "250ms",
                                     "tls": {"sni": "user-123.internal"})"))
                                  .status,
                              201);
            const std::string web_address = mode == "eds" ? "10.1.2.4" : "web.internal";
            BOOST_CHECK_EQUAL(
                c.call("PUT", "/v1/routes/web",
                       route_body("*.web.example.org", web_address, 8080, R"(, "prefix": "/app")"))
                    .status,
                201);
            BOOST_CHECK_MESSAGE(
                eventually([&] {
                    return read_text(t / "out/current/rds.yaml").find("*.web.example.org") !=
                           std::string::npos;
                }),
                p.err());
            const std::string cds = read_text(t / "out/current/cds.yaml");
            BOOST_CHECK(cds.find("http2_protocol_options") != std::string::npos);
            BOOST_CHECK(cds.find("user-123.internal") != std::string::npos);
            if (mode == "eds") {
                BOOST_CHECK(read_text(t / "out/current/eds.yaml").find("10.1.2.3") !=
                            std::string::npos);
            }
            BOOST_CHECK_EQUAL(c.call("DELETE", "/v1/routes/user-123").status, 204);
            BOOST_CHECK(eventually([&] {
                return read_text(t / "out/current/cds.yaml").find("user-123") == std::string::npos;
            }));
            // envoy_validate checked every version and refused none.
            BOOST_CHECK_MESSAGE(
                p.err().find("checking xDS documents against Envoy's API") != std::string::npos,
                p.err());
            BOOST_CHECK_MESSAGE(p.err().find(" error ") == std::string::npos, p.err());
            p.signal(SIGTERM);
            BOOST_CHECK_EQUAL(p.wait(), 0);
        }
    }
}

BOOST_AUTO_TEST_CASE(onetime_mode_writes_the_registered_routes) {
    TempDir t;
    write_pipeline(t, "", false);
    {
        Process p({crossover_bin(), "run", t / "p.yaml", "--listen", "off"}, t.path());
        const std::string address = wait_for_address(p);
        BOOST_REQUIRE_MESSAGE(!address.empty(), p.err());
        HttpClient c(address, kToken);
        BOOST_CHECK_EQUAL(c.call("PUT", "/v1/routes/a", route_body("a.org", "10.0.0.1", 80)).status,
                          201);
        p.signal(SIGTERM);
        BOOST_CHECK_EQUAL(p.wait(), 0);
    }
    fs::remove_all(t / "out");
    const Result r = run({crossover_bin(), "run", t / "p.yaml", "--onetime"}, t.path());
    BOOST_CHECK_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK(read_text(t / "out/current/rds.yaml").find("\"a.org\"") != std::string::npos);
}

// Round after round: writers stream registrations, the process is killed
// with SIGKILL at a random moment, and the next start must hold every route
// that was answered 2xx, each exactly as sent, and nothing that was not sent.
BOOST_AUTO_TEST_CASE(sigkill_during_a_stream_of_writes_loses_no_acknowledged_route) {
    TempDir t;
    write_pipeline(t, "    compact_after: 50\n", false);
    const int rounds = std::stoi(env_or("ROUTE_REGISTRY_KILL_ROUNDS", "100"));
    std::map<std::string, std::string> sent;  // route name -> domain sent
    std::set<std::string> acknowledged;
    std::mt19937 rng(42);
    const auto check_state = [&](const std::string& address) {
        HttpClient c(address, kToken);
        const HttpReply r = c.call("GET", "/v1/routes");
        BOOST_REQUIRE_EQUAL(r.status, 200);
        Poco::JSON::Parser parser;
        const auto list =
            parser.parse(r.body).extract<Poco::JSON::Object::Ptr>()->getArray("routes");
        std::set<std::string> present;
        for (std::size_t i = 0; i < list->size(); ++i) {
            const auto route = list->getObject(static_cast<unsigned>(i));
            const std::string name = route->getValue<std::string>("name");
            present.insert(name);
            const auto it = sent.find(name);
            BOOST_REQUIRE_MESSAGE(it != sent.end(), "route " << name << " was never sent");
            BOOST_CHECK_EQUAL(route->getArray("domains")->getElement<std::string>(0), it->second);
        }
        for (const auto& name : acknowledged) {
            BOOST_REQUIRE_MESSAGE(present.count(name) == 1,
                                  "acknowledged route " << name << " lost");
        }
        return present.size();
    };
    std::size_t last_count = 0;
    for (int round = 0; round <= rounds; ++round) {
        Process p({crossover_bin(), "run", t / "p.yaml", "--listen", "off"}, t.path());
        const std::string address = wait_for_address(p);
        BOOST_REQUIRE_MESSAGE(!address.empty(), "round " << round << ": " << p.err());
        last_count = check_state(address);
        if (round == rounds) {
            break;
        }
        std::mutex mutex;
        std::atomic<bool> stop{false};
        std::vector<std::thread> writers;
        for (int w = 0; w < 4; ++w) {
            writers.emplace_back([&, w] {
                try {
                    HttpClient c(address, kToken);
                    for (int i = 0; !stop.load(); ++i) {
                        const std::string name = "r" + std::to_string(round) + "-" +
                                                 std::to_string(w) + "-" + std::to_string(i);
                        const std::string domain = name + ".example.org";
                        {
                            const std::lock_guard<std::mutex> lock(mutex);
                            sent[name] = domain;
                        }
                        const int status = c.call("PUT", "/v1/routes/" + name,
                                                  route_body(domain, "10.0.0.1", 1000 + w))
                                               .status;
                        if (status == 201) {
                            const std::lock_guard<std::mutex> lock(mutex);
                            acknowledged.insert(name);
                        }
                    }
                } catch (...) {
                    // The connection dies with the process.
                }
            });
        }
        std::this_thread::sleep_for(
            std::chrono::milliseconds(std::uniform_int_distribution<int>(5, 60)(rng)));
        p.signal(SIGKILL);
        p.wait();
        stop = true;
        for (auto& w : writers) {
            w.join();
        }
    }
    BOOST_TEST_MESSAGE(rounds << " kills, " << acknowledged.size() << " acknowledged routes, "
                              << last_count << " present");
    BOOST_CHECK_GE(last_count, acknowledged.size());
}

BOOST_AUTO_TEST_SUITE_END()
