// The HTTP API in process: routes, aliases, versions and preconditions,
// errors naming the field, authentication, size limit, concurrent clients.
#define BOOST_TEST_MODULE route_registry_api
#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <boost/test/unit_test.hpp>

#include "api.h"
#include "http_client.h"
#include "http_server.h"
#include "process.h"

using namespace crossover::route_registry;
using crossover::test::HttpClient;
using crossover::test::HttpReply;
using crossover::test::TempDir;

namespace {

const std::string kWriter = "writer-token-0123456789";
const std::string kReader = "reader-token-0123456789";

struct Server {
    TempDir dir;
    std::mutex log_mutex;
    std::vector<std::string> log;
    std::shared_ptr<Registry> registry;
    std::shared_ptr<TokenFile> tokens;
    std::shared_ptr<Api> api;
    std::unique_ptr<HttpServer> http;

    Server() {
        crossover::test::write_text(
            dir / "tokens", kWriter + " pod-manager write\n" + kReader + " dashboard read\n");
        const auto log_fn = [this](crossover::LogLevel, std::string_view m) {
            const std::lock_guard<std::mutex> lock(log_mutex);
            log.emplace_back(m);
        };
        registry = std::make_shared<Registry>(Registry::Options{dir / "state", 1000}, log_fn);
        tokens = std::make_shared<TokenFile>(dir / "tokens", log_fn);
        api = std::make_shared<Api>(*registry, *tokens, RouteLimits{}, 4096, log_fn);
        http = std::make_unique<HttpServer>(api, "127.0.0.1:0", 16);
    }
    ~Server() { http.reset(); }

    HttpClient client(const std::string& token = kWriter) const {
        return HttpClient(http->address(), token);
    }
    bool logged(const std::string& text) {
        const std::lock_guard<std::mutex> lock(log_mutex);
        for (const auto& l : log) {
            if (l.find(text) != std::string::npos) {
                return true;
            }
        }
        return false;
    }
};

std::string body(const std::string& domain, int port = 50051) {
    return R"({"domains": [")" + domain + R"("], "endpoints": [{"address": "10.1.2.3", "port": )" +
           std::to_string(port) + R"(}], "protocol": "grpc"})";
}

Poco::JSON::Object::Ptr json(const HttpReply& r) {
    Poco::JSON::Parser parser;
    return parser.parse(r.body).extract<Poco::JSON::Object::Ptr>();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api)

BOOST_AUTO_TEST_CASE(register_read_replace_remove) {
    Server s;
    HttpClient c = s.client();
    HttpReply r = c.call("PUT", "/v1/routes/user-123", body("session-123.example.org"));
    BOOST_CHECK_EQUAL(r.status, 201);
    BOOST_CHECK_EQUAL(r.etag, "\"1\"");
    BOOST_CHECK_EQUAL(json(r)->getValue<std::string>("version"), "1");
    BOOST_CHECK(s.logged("route 'user-123' created (version 1) by pod-manager from 127.0.0.1"));

    // The same body again: idempotent, no new version.
    r = c.call("PUT", "/v1/routes/user-123", body("session-123.example.org"));
    BOOST_CHECK_EQUAL(r.status, 200);
    BOOST_CHECK_EQUAL(r.etag, "\"1\"");

    r = c.call("GET", "/v1/routes/user-123");
    BOOST_CHECK_EQUAL(r.status, 200);
    BOOST_CHECK_EQUAL(json(r)->getArray("domains")->getElement<std::string>(0),
                      "session-123.example.org");
    BOOST_CHECK_EQUAL(json(r)->getValue<std::string>("protocol"), "grpc");

    r = c.call("PUT", "/v1/routes/user-123", body("session-123.example.org", 50052));
    BOOST_CHECK_EQUAL(r.status, 200);
    BOOST_CHECK_EQUAL(r.etag, "\"2\"");

    r = c.call("GET", "/v1/routes");
    BOOST_CHECK_EQUAL(r.status, 200);
    BOOST_CHECK_EQUAL(json(r)->getValue<std::string>("version"), "2");
    BOOST_CHECK_EQUAL(json(r)->getArray("routes")->size(), 1U);

    BOOST_CHECK_EQUAL(c.call("DELETE", "/v1/routes/user-123").status, 204);
    BOOST_CHECK(s.logged("route 'user-123' removed (registry version 3) by pod-manager"));
    BOOST_CHECK_EQUAL(c.call("GET", "/v1/routes/user-123").status, 404);
    BOOST_CHECK_EQUAL(c.call("DELETE", "/v1/routes/user-123").status, 404);
    BOOST_CHECK_EQUAL(json(c.call("GET", "/v1/routes"))->getValue<std::string>("version"), "3");
}

BOOST_AUTO_TEST_CASE(task_aliases) {
    Server s;
    HttpClient c = s.client();
    const std::string task = R"({"id": "user-7", "domains": ["s7.example.org"],
                                 "endpoints": [{"address": "10.1.2.7", "port": 50051}]})";
    BOOST_CHECK_EQUAL(c.call("POST", "/xds/tasks", task).status, 201);
    BOOST_CHECK_EQUAL(c.call("GET", "/v1/routes/user-7").status, 200);
    BOOST_CHECK_EQUAL(c.call("POST", "/xds/tasks", task).status, 200);
    const HttpReply nameless = c.call("POST", "/xds/tasks", body("x.example.org"));
    BOOST_CHECK_EQUAL(nameless.status, 400);
    BOOST_CHECK_EQUAL(json(nameless)->getValue<std::string>("field"), "name");
    BOOST_CHECK_EQUAL(c.call("DELETE", "/xds/tasks/user-7").status, 204);
    BOOST_CHECK_EQUAL(c.call("GET", "/v1/routes/user-7").status, 404);
}

BOOST_AUTO_TEST_CASE(stale_writes_get_412) {
    Server s;
    HttpClient c = s.client();
    const HttpReply created = c.call("PUT", "/v1/routes/a", body("a.org"));
    const HttpReply second =
        c.call("PUT", "/v1/routes/a", body("a.org", 2), {{"If-Match", created.etag}});
    BOOST_CHECK_EQUAL(second.status, 200);
    // Another writer still holding the first version loses.
    HttpReply stale = c.call("PUT", "/v1/routes/a", body("a.org", 3), {{"If-Match", created.etag}});
    BOOST_CHECK_EQUAL(stale.status, 412);
    stale = c.call("DELETE", "/v1/routes/a", "", {{"If-Match", created.etag}});
    BOOST_CHECK_EQUAL(stale.status, 412);
    BOOST_CHECK_EQUAL(c.call("PUT", "/v1/routes/b", body("b.org"), {{"If-Match", "*"}}).status,
                      412);
    BOOST_CHECK_EQUAL(c.call("PUT", "/v1/routes/a", body("a.org"), {{"If-None-Match", "*"}}).status,
                      412);
    BOOST_CHECK_EQUAL(c.call("DELETE", "/v1/routes/a", "", {{"If-Match", second.etag}}).status,
                      204);
}

BOOST_AUTO_TEST_CASE(errors_name_the_field) {
    Server s;
    HttpClient c = s.client();
    HttpReply r =
        c.call("PUT", "/v1/routes/a",
               R"({"domains": ["a.org"], "endpoints": [{"address": "10.1.2.3", "port": 0}]})");
    BOOST_CHECK_EQUAL(r.status, 400);
    BOOST_CHECK_EQUAL(json(r)->getValue<std::string>("field"), "endpoints[0].port");
    BOOST_CHECK_MESSAGE(r.body.find("out of range 1 to 65535") != std::string::npos, r.body);
    r = c.call("PUT", "/v1/routes/Bad_Name", body("a.org"));
    BOOST_CHECK_EQUAL(r.status, 400);
    BOOST_CHECK_EQUAL(json(r)->getValue<std::string>("field"), "name");
    // A domain owned by another route: 409 naming the owner.
    BOOST_CHECK_EQUAL(c.call("PUT", "/v1/routes/owner", body("shared.example.org")).status, 201);
    r = c.call("PUT", "/v1/routes/thief", body("shared.example.org"));
    BOOST_CHECK_EQUAL(r.status, 409);
    BOOST_CHECK_MESSAGE(r.body.find("belongs to route 'owner'") != std::string::npos, r.body);
    BOOST_CHECK(s.logged("PUT /v1/routes/thief: refused (409) for pod-manager from 127.0.0.1"));
    BOOST_CHECK_EQUAL(c.call("PATCH", "/v1/routes/a", "{}").status, 405);
    BOOST_CHECK_EQUAL(c.call("GET", "/v2/things").status, 404);
}

BOOST_AUTO_TEST_CASE(bodies_above_the_limit_are_refused) {
    Server s;
    HttpClient c = s.client();
    std::string big = R"({"domains": ["a.org"], "endpoints": [{"address": "10.1.2.3", "port": 1}],
                          "labels": {"a": ")" +
                      std::string(5000, 'x') + "\"}}";
    BOOST_CHECK_EQUAL(c.call("PUT", "/v1/routes/a", big).status, 413);
    BOOST_CHECK_EQUAL(s.client().call("GET", "/v1/routes/a").status, 404);
}

BOOST_AUTO_TEST_CASE(authentication) {
    Server s;
    // No token, an unknown token: 401, and nothing more is said.
    HttpReply r = s.client("").call("GET", "/v1/routes");
    BOOST_CHECK_EQUAL(r.status, 401);
    BOOST_CHECK_EQUAL(json(r)->getValue<std::string>("error"), "unauthorized");
    r = s.client("wrong-token-0123456789").call("PUT", "/v1/routes/a", body("a.org"));
    BOOST_CHECK_EQUAL(r.status, 401);
    BOOST_CHECK(r.body.find("a.org") == std::string::npos);
    // A read token reads but may not write.
    BOOST_CHECK_EQUAL(s.client(kReader).call("GET", "/v1/routes").status, 200);
    r = s.client(kReader).call("PUT", "/v1/routes/a", body("a.org"));
    BOOST_CHECK_EQUAL(r.status, 403);
    BOOST_CHECK_EQUAL(json(r)->getValue<std::string>("error"), "forbidden");
    BOOST_CHECK_EQUAL(s.client(kReader).call("DELETE", "/xds/tasks/a").status, 403);
    // A new token file takes effect without a restart.
    crossover::test::write_text(s.dir / "tokens", "rotated-token-0123456789 pod-manager\n");
    BOOST_CHECK_EQUAL(s.client().call("GET", "/v1/routes").status, 401);
    BOOST_CHECK_EQUAL(s.client("rotated-token-0123456789").call("GET", "/v1/routes").status, 200);
}

BOOST_AUTO_TEST_CASE(a_hundred_concurrent_clients) {
    Server s;
    constexpr int kClients = 100;
    constexpr int kEach = 5;
    std::atomic<int> created{0};
    std::atomic<int> conflicts{0};
    std::atomic<int> other{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kClients; ++i) {
        threads.emplace_back([&, i] {
            try {
                HttpClient c = s.client();
                for (int j = 0; j < kEach; ++j) {
                    const std::string name = "c" + std::to_string(i) + "-" + std::to_string(j);
                    // Every client also tries to take one shared domain: one wins.
                    const std::string domain =
                        j == 0 ? "contended.example.org" : name + ".example.org";
                    const int status = c.call("PUT", "/v1/routes/" + name, body(domain)).status;
                    if (status == 201) {
                        ++created;
                    } else if (status == 409) {
                        ++conflicts;
                    } else {
                        ++other;
                    }
                }
            } catch (...) {
                ++other;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    BOOST_CHECK_EQUAL(other.load(), 0);
    BOOST_CHECK_EQUAL(conflicts.load(), kClients - 1);
    BOOST_CHECK_EQUAL(created.load(), kClients * kEach - (kClients - 1));
    const auto list = json(s.client().call("GET", "/v1/routes"));
    BOOST_CHECK_EQUAL(list->getArray("routes")->size(), static_cast<std::size_t>(created.load()));
    BOOST_CHECK_EQUAL(list->getValue<std::string>("version"), std::to_string(created.load()));
}

BOOST_AUTO_TEST_SUITE_END()
