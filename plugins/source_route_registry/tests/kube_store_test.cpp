// store: kubernetes against the test API server: the same API behaviour as
// the file store; two replicas on one API server sharing routes, conflicting
// conditional writes (one 2xx, one 412), a restarted replica losing nothing;
// Routes written by other means checked like API requests.
#define BOOST_TEST_MODULE route_registry_kube
#include <atomic>
#include <memory>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "api.h"
#include "http_client.h"
#include "http_server.h"
#include "kube_store.h"
#include "kube_test_support.h"
#include "render.h"

using namespace crossover::route_registry;
using crossover::test::HttpClient;
using crossover::test::HttpReply;
namespace kt = kube_test;
using namespace std::chrono_literals;

namespace {

const std::string kWriter = "writer-token-0123456789";

std::string body(const std::string& domain, int port = 50051) {
    return R"({"domains": [")" + domain + R"("], "endpoints": [{"address": "10.1.2.3", "port": )" +
           std::to_string(port) + R"(}], "protocol": "grpc"})";
}

std::string write_tokens(const kt::TempDir& dir) {
    const std::string path = dir / "tokens";
    kt::write_file(path, kWriter + " pod-manager write\n");
    return path;
}

Poco::JSON::Object::Ptr json(const HttpReply& r) {
    return kt::parse(r.body);
}

// One replica of the registry: a Kubernetes store with its informer on a
// thread of its own, behind the HTTP API.
struct Replica {
    kt::TestContext context;
    kt::CaptureLogger logger;
    std::shared_ptr<KubeStore> store;
    std::shared_ptr<TokenFile> tokens;
    std::shared_ptr<Api> api;
    std::unique_ptr<HttpServer> http;
    std::thread informer;

    Replica(const kt::FakeApiServer& server, const std::string& token_file) {
        crossover::kube::ConnectionOptions connection;
        connection.apiserver = server.url();
        connection.ca_file = server.ca_file();
        connection.token_file = server.token_file();
        connection.ns = "test";
        KubeStore::Options options;
        options.cluster =
            crossover::kube::resolve_config(connection, crossover::kube::Environment::system());
        options.ns = "test";
        const auto log = [this](crossover::LogLevel level, std::string_view m) {
            logger.log(level, "registry", m);
        };
        store = std::make_shared<KubeStore>(options, log);
        informer = std::thread([this] { store->run(context); });
        tokens = std::make_shared<TokenFile>(token_file, log);
        api = std::make_shared<Api>(*store, *tokens, RouteLimits{}, 65536, log);
        http = std::make_unique<HttpServer>(api, "127.0.0.1:0", 8);
    }
    ~Replica() {
        http.reset();
        context.stop();
        store->stop();
        informer.join();
    }
    Replica(const Replica&) = delete;
    Replica& operator=(const Replica&) = delete;

    // True once the informer listed the Routes.
    bool synced() {
        return kt::eventually([&] {
            try {
                store->view();
                return true;
            } catch (const Refused&) {
                return false;
            }
        });
    }
    [[nodiscard]] HttpClient client() const { return HttpClient(http->address(), kWriter); }
    // This replica's CDS document.
    std::string cds() {
        Renderer renderer(RenderOptions{});
        for (const auto& d : renderer.render(store->view())) {
            if (d->name == "cds.yaml") {
                return d->content;
            }
        }
        return {};
    }
};

// Two replicas on one API server.
struct TwoReplicas {
    kt::FakeApiServer server;
    kt::TempDir dir;
    std::string tokens = write_tokens(dir);
    Replica a{server, tokens};
    Replica b{server, tokens};
};

// The file store behind the same API.
struct FileReplica {
    kt::TempDir dir;
    std::shared_ptr<Registry> registry;
    std::shared_ptr<TokenFile> tokens;
    std::shared_ptr<Api> api;
    std::unique_ptr<HttpServer> http;

    FileReplica() {
        const auto log = [](crossover::LogLevel, std::string_view) {};
        registry = std::make_shared<Registry>(Registry::Options{dir / "state", 3}, log);
        tokens = std::make_shared<TokenFile>(write_tokens(dir), log);
        api = std::make_shared<Api>(*registry, *tokens, RouteLimits{}, 65536, log);
        http = std::make_unique<HttpServer>(api, "127.0.0.1:0", 8);
    }
    [[nodiscard]] HttpClient client() const { return HttpClient(http->address(), kWriter); }
};

std::uint64_t etag_number(const std::string& etag) {
    return parse_etag(etag).value_or(0);
}

// The API's behaviour, whichever store keeps the routes. Versions differ
// between stores (one counter, or resourceVersions), so only their order and
// equality are checked.
void api_behaviour(HttpClient c) {
    HttpReply r = c.call("PUT", "/v1/routes/user-1", body("s1.example.org"));
    BOOST_CHECK_EQUAL(r.status, 201);
    const std::string e1 = r.etag;
    BOOST_REQUIRE(parse_etag(e1));
    BOOST_CHECK_EQUAL(json(r)->getValue<std::string>("version"), std::to_string(etag_number(e1)));

    r = c.call("PUT", "/v1/routes/user-1", body("s1.example.org"));  // the same: unchanged
    BOOST_CHECK_EQUAL(r.status, 200);
    BOOST_CHECK_EQUAL(r.etag, e1);
    r = c.call("GET", "/v1/routes/user-1");
    BOOST_CHECK_EQUAL(r.status, 200);
    BOOST_CHECK_EQUAL(r.etag, e1);
    BOOST_CHECK_EQUAL(json(r)->getArray("domains")->getElement<std::string>(0), "s1.example.org");

    r = c.call("PUT", "/v1/routes/user-1", body("s1.example.org", 50052));
    BOOST_CHECK_EQUAL(r.status, 200);
    const std::string e2 = r.etag;
    BOOST_CHECK_GT(etag_number(e2), etag_number(e1));
    r = c.call("GET", "/v1/routes");
    BOOST_CHECK_EQUAL(r.status, 200);
    BOOST_CHECK_GE(std::stoull(json(r)->getValue<std::string>("version")), etag_number(e2));
    BOOST_CHECK_EQUAL(json(r)->getArray("routes")->size(), 1U);

    // Optimistic concurrency.
    BOOST_CHECK_EQUAL(
        c.call("PUT", "/v1/routes/user-1", body("s1.example.org", 3), {{"If-Match", e1}}).status,
        412);
    BOOST_CHECK_EQUAL(c.call("DELETE", "/v1/routes/user-1", "", {{"If-Match", e1}}).status, 412);
    BOOST_CHECK_EQUAL(c.call("PUT", "/v1/routes/b", body("b.org"), {{"If-Match", "*"}}).status,
                      412);
    BOOST_CHECK_EQUAL(c.call("DELETE", "/v1/routes/b", "", {{"If-Match", "*"}}).status, 412);
    BOOST_CHECK_EQUAL(
        c.call("PUT", "/v1/routes/user-1", body("s1.example.org"), {{"If-None-Match", "*"}}).status,
        412);
    r = c.call("PUT", "/v1/routes/user-1", body("s1.example.org", 4), {{"If-Match", e2}});
    BOOST_CHECK_EQUAL(r.status, 200);
    const std::string e3 = r.etag;
    r = c.call("PUT", "/v1/routes/user-1", body("s1.example.org", 5), {{"If-Match", "*"}});
    BOOST_CHECK_EQUAL(r.status, 200);
    const std::string e4 = r.etag;
    BOOST_CHECK_GT(etag_number(e4), etag_number(e3));
    BOOST_CHECK_EQUAL(
        c.call("PUT", "/v1/routes/new-one", body("n.org"), {{"If-None-Match", "*"}}).status, 201);

    // A domain belongs to one route.
    r = c.call("PUT", "/v1/routes/thief", body("s1.example.org"));
    BOOST_CHECK_EQUAL(r.status, 409);
    BOOST_CHECK_MESSAGE(r.body.find("belongs to route 'user-1'") != std::string::npos, r.body);

    // The task-shaped aliases.
    const std::string task = R"({"id": "task-7", "domains": ["t7.example.org"],
                                 "endpoints": [{"address": "10.1.2.7", "port": 50051}]})";
    BOOST_CHECK_EQUAL(c.call("POST", "/xds/tasks", task).status, 201);
    BOOST_CHECK_EQUAL(c.call("POST", "/xds/tasks", task).status, 200);
    BOOST_CHECK_EQUAL(c.call("DELETE", "/xds/tasks/task-7").status, 204);
    BOOST_CHECK_EQUAL(c.call("GET", "/v1/routes/task-7").status, 404);

    BOOST_CHECK_EQUAL(c.call("DELETE", "/v1/routes/user-1", "", {{"If-Match", e4}}).status, 204);
    BOOST_CHECK_EQUAL(c.call("GET", "/v1/routes/user-1").status, 404);
    BOOST_CHECK_EQUAL(c.call("DELETE", "/v1/routes/user-1").status, 404);
    BOOST_CHECK_EQUAL(c.call("DELETE", "/v1/routes/new-one", "", {{"If-Match", "*"}}).status, 204);
    r = c.call("GET", "/v1/routes");
    BOOST_CHECK_EQUAL(json(r)->getArray("routes")->size(), 0U);
    // The freed domain can be taken.
    BOOST_CHECK_EQUAL(c.call("PUT", "/v1/routes/thief", body("s1.example.org")).status, 201);
}

std::string route_object(const std::string& name, const std::string& domain, int port) {
    return R"({"apiVersion": "crossover.io/v1alpha1", "kind": "Route", "metadata": {"name": ")" +
           name + R"(", "namespace": "test"}, "spec": {"domains": [")" + domain +
           R"("], "endpoints": [{"address": "10.0.0.9", "port": )" + std::to_string(port) + "}]}}";
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_api_behaves_the_same_over_the_file_store) {
    FileReplica file;
    api_behaviour(file.client());
}

BOOST_AUTO_TEST_CASE(the_api_behaves_the_same_over_the_kubernetes_store) {
    kt::FakeApiServer server;
    kt::TempDir dir;
    Replica replica(server, write_tokens(dir));
    BOOST_REQUIRE(replica.synced());
    api_behaviour(replica.client());
    // Every write went through the API server: the routes are Route objects.
    const auto thief = kt::stored_object(server, "Route", "test", "thief");
    BOOST_CHECK_EQUAL(thief->getObject("spec")->getArray("domains")->getElement<std::string>(0),
                      "s1.example.org");
    BOOST_CHECK_EQUAL(thief->getValue<std::string>("apiVersion"), "crossover.io/v1alpha1");
    BOOST_CHECK_GE(kt::count(server, "PUT", "/apis/crossover.io/v1alpha1/namespaces/test/routes/"),
                   4);
}

BOOST_FIXTURE_TEST_CASE(a_write_on_one_replica_is_served_by_the_other, TwoReplicas) {
    BOOST_REQUIRE(a.synced());
    BOOST_REQUIRE(b.synced());

    const HttpReply created = a.client().call("PUT", "/v1/routes/user-123", body("s123.org"));
    BOOST_REQUIRE_EQUAL(created.status, 201);
    HttpClient bc = b.client();
    BOOST_CHECK(
        kt::eventually([&] { return bc.call("GET", "/v1/routes/user-123").etag == created.etag; }));
    BOOST_CHECK(kt::eventually([&] { return b.cds().find("user-123") != std::string::npos; }));

    // A replace on b reaches a; a delete on b too.
    const HttpReply replaced = bc.call("PUT", "/v1/routes/user-123", body("s123.org", 50060),
                                       {{"If-Match", created.etag}});
    BOOST_REQUIRE_EQUAL(replaced.status, 200);
    HttpClient ac = a.client();
    BOOST_CHECK(kt::eventually(
        [&] { return ac.call("GET", "/v1/routes/user-123").etag == replaced.etag; }));
    BOOST_CHECK(kt::eventually([&] { return a.cds().find("50060") != std::string::npos; }));
    BOOST_CHECK_EQUAL(bc.call("DELETE", "/v1/routes/user-123").status, 204);
    BOOST_CHECK(
        kt::eventually([&] { return ac.call("GET", "/v1/routes/user-123").status == 404; }));
    BOOST_CHECK(kt::eventually([&] { return a.cds().find("user-123") == std::string::npos; }));

    // A domain taken through one replica is refused by the other once it saw it.
    BOOST_REQUIRE_EQUAL(ac.call("PUT", "/v1/routes/owner", body("shared.org")).status, 201);
    BOOST_CHECK(kt::eventually([&] { return bc.call("GET", "/v1/routes/owner").status == 200; }));
    const HttpReply thief = bc.call("PUT", "/v1/routes/thief", body("shared.org"));
    BOOST_CHECK_EQUAL(thief.status, 409);
    BOOST_CHECK_MESSAGE(thief.body.find("belongs to route 'owner'") != std::string::npos,
                        thief.body);
}

BOOST_FIXTURE_TEST_CASE(conflicting_conditional_writes_on_two_replicas_give_one_2xx_and_one_412,
                        TwoReplicas) {
    BOOST_REQUIRE(a.synced());
    BOOST_REQUIRE(b.synced());
    for (int round = 0; round < 3; ++round) {
        const HttpReply created =
            a.client().call("PUT", "/v1/routes/contended", body("c.org", 100));
        BOOST_REQUIRE(created.status == 201 || created.status == 200);
        BOOST_REQUIRE(kt::eventually(
            [&] { return b.client().call("GET", "/v1/routes/contended").etag == created.etag; }));
        // Both hold the same version and write at once: the API server takes one.
        std::atomic<int> ok{0};
        std::atomic<int> stale{0};
        std::atomic<int> other{0};
        const auto write = [&](const Replica& r, int port, bool remove) {
            HttpClient c = r.client();
            const HttpReply reply =
                remove ? c.call("DELETE", "/v1/routes/contended", "", {{"If-Match", created.etag}})
                       : c.call("PUT", "/v1/routes/contended", body("c.org", port),
                                {{"If-Match", created.etag}});
            (reply.status / 100 == 2 ? ok : reply.status == 412 ? stale : other)++;
        };
        std::thread ta([&] { write(a, 1000 + round, false); });
        std::thread tb([&] { write(b, 2000 + round, round == 2); });
        ta.join();
        tb.join();
        BOOST_CHECK_EQUAL(ok.load(), 1);
        BOOST_CHECK_EQUAL(stale.load(), 1);
        BOOST_CHECK_EQUAL(other.load(), 0);
        // Both replicas end with the winner's state.
        BOOST_CHECK(kt::eventually([&] {
            const HttpReply ra = a.client().call("GET", "/v1/routes/contended");
            const HttpReply rb = b.client().call("GET", "/v1/routes/contended");
            return ra.status == rb.status && ra.etag == rb.etag && ra.body == rb.body;
        }));
    }
}

BOOST_AUTO_TEST_CASE(a_restarted_replica_loses_nothing) {
    kt::FakeApiServer server;
    kt::TempDir dir;
    const std::string tokens = write_tokens(dir);
    std::string etag;
    {
        Replica a(server, tokens);
        BOOST_REQUIRE(a.synced());
        HttpClient c = a.client();
        for (int i = 0; i < 3; ++i) {
            const std::string name = "r" + std::to_string(i);
            BOOST_REQUIRE_EQUAL(c.call("PUT", "/v1/routes/" + name, body(name + ".org")).status,
                                201);
        }
        etag = c.call("GET", "/v1/routes/r2").etag;
    }
    Replica again(server, tokens);
    BOOST_REQUIRE(again.synced());
    BOOST_CHECK_EQUAL(again.store->view().routes.size(), 3U);
    BOOST_CHECK_EQUAL(again.client().call("GET", "/v1/routes/r2").etag, etag);
}

BOOST_AUTO_TEST_CASE(routes_written_by_other_means_are_checked) {
    kt::FakeApiServer server;
    kt::TempDir dir;
    Replica a(server, write_tokens(dir));
    BOOST_REQUIRE(a.synced());
    HttpClient c = a.client();
    server.apply(route_object("by-kubectl", "k.org", 8080));
    BOOST_CHECK(
        kt::eventually([&] { return c.call("GET", "/v1/routes/by-kubectl").status == 200; }));
    const std::string good = c.call("GET", "/v1/routes/by-kubectl").etag;

    // Invalid: a new one is left out, a changed one keeps its last valid version.
    server.apply(route_object("broken", "b.org", 0));
    server.apply(route_object("by-kubectl", "k.org", 70000));
    BOOST_CHECK(kt::eventually(
        [&] { return a.logger.contains("Route test/broken: spec.endpoints[0].port"); }));
    BOOST_CHECK(kt::eventually([&] {
        return a.logger.contains("Route test/by-kubectl: spec.endpoints[0].port") &&
               a.logger.contains("keeping the last valid version");
    }));
    BOOST_CHECK_EQUAL(c.call("GET", "/v1/routes/broken").status, 404);
    BOOST_CHECK_EQUAL(c.call("GET", "/v1/routes/by-kubectl").etag, good);

    // Two Routes claiming one domain: one is served, the other left out.
    server.apply(route_object("claim-a", "same.org", 1));
    server.apply(route_object("claim-b", "same.org", 2));
    BOOST_CHECK(kt::eventually([&] { return a.logger.contains("; left out"); }));
    const int a_status = c.call("GET", "/v1/routes/claim-a").status;
    const int b_status = c.call("GET", "/v1/routes/claim-b").status;
    BOOST_CHECK_EQUAL(a_status + b_status, 200 + 404);
}

BOOST_AUTO_TEST_CASE(api_server_failures_answer_503_and_change_nothing) {
    kt::FakeApiServer server;
    kt::TempDir dir;
    Replica a(server, write_tokens(dir));
    BOOST_REQUIRE(a.synced());
    HttpClient c = a.client();
    kt::control(server, "/fail",
                R"({"count": 1, "status": 500, "path": "/routes", "method": "POST"})");
    const HttpReply r = c.call("PUT", "/v1/routes/x", body("x.org"));
    BOOST_CHECK_EQUAL(r.status, 503);
    BOOST_CHECK(r.body.find("HTTP 500") != std::string::npos);
    BOOST_CHECK_EQUAL(c.call("GET", "/v1/routes/x").status, 404);
    BOOST_CHECK_EQUAL(c.call("PUT", "/v1/routes/x", body("x.org")).status, 201);
}

BOOST_AUTO_TEST_CASE(the_crd_schema_declares_every_field_of_a_route) {
    const YAML::Node crd =
        YAML::LoadFile(kt::env_or("CROSSOVER_SOURCE_DIR", CROSSOVER_TEST_SOURCE_DIR) +
                       "/packaging/helm/crossover/files/crd-route.yaml");
    BOOST_CHECK_EQUAL(crd["spec"]["group"].as<std::string>(), kRouteGroup);
    BOOST_CHECK_EQUAL(crd["spec"]["names"]["kind"].as<std::string>(), kRouteKind);
    const YAML::Node version = crd["spec"]["versions"][0];
    BOOST_CHECK_EQUAL(
        crd["spec"]["group"].as<std::string>() + "/" + version["name"].as<std::string>(),
        kRouteApiVersion);
    const YAML::Node spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"];
    // A route with every field: the schema must declare each one the store writes.
    const Route route = parse_route(
        R"({"domains": ["a.org"], "endpoints": [{"address": "10.0.0.1", "port": 80, "weight": 2}],
            "protocol": "grpc", "prefix": "/x", "timeout": "15s", "tls": {"sni": "a.internal"},
            "labels": {"team": "games"}})",
        "full");
    const Poco::JSON::Object::Ptr json = route_to_json(route);
    for (const auto& [key, value] : *json) {
        if (key == "name") {
            continue;  // metadata.name
        }
        BOOST_CHECK_MESSAGE(spec["properties"][key], "spec." + key + " is not in the CRD schema");
    }
    const YAML::Node endpoint = spec["properties"]["endpoints"]["items"]["properties"];
    for (const char* key : {"address", "port", "weight"}) {
        BOOST_CHECK_MESSAGE(endpoint[key],
                            std::string("endpoints[].") + key + " is not in the CRD");
    }
}

BOOST_AUTO_TEST_CASE(the_test_api_server_treats_routes_as_a_custom_resource) {
    kt::FakeApiServer server;
    crossover::kube::ConnectionOptions connection;
    connection.apiserver = server.url();
    connection.ca_file = server.ca_file();
    connection.token_file = server.token_file();
    crossover::kube::Client client(
        crossover::kube::resolve_config(connection, crossover::kube::Environment::system()), {},
        nullptr);
    const std::string path = "/apis/crossover.io/v1alpha1/namespaces/test/routes";
    const std::string object = route_object("r", "r.org", 80);
    BOOST_CHECK_EQUAL(client.request("POST", path, &object).status, 201);
    // No unconditional update of a custom resource; a stale resourceVersion is a conflict.
    crossover::kube::Response r = client.request("PUT", path + "/r", &object);
    BOOST_CHECK_EQUAL(r.status, 422);
    BOOST_CHECK(r.body.find("must be specified for an update") != std::string::npos);
    const auto stored = kt::parse(client.request("GET", path + "/r").body);
    stored->getObject("metadata")->set("resourceVersion", "1");
    const std::string stale = kt::stringify(stored);
    r = client.request("PUT", path + "/r", &stale);
    BOOST_CHECK_EQUAL(r.status, 409);
    BOOST_CHECK(r.body.find("\"reason\":\"Conflict\"") != std::string::npos);
}
