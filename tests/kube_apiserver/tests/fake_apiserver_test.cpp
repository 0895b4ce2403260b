// Exercises the test API server through the C++ helper and a Poco HTTPS client,
// checking the wire format the Kubernetes client relies on.
#define BOOST_TEST_MODULE fake_apiserver
#include <boost/test/unit_test.hpp>

#include "fake_apiserver.h"

#include <Poco/Dynamic/Var.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/AcceptCertificateHandler.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/RejectCertificateHandler.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/StreamCopier.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

using crossover::testing::FakeApiServer;
using Poco::JSON::Object;

namespace {

struct SslInit {
    SslInit() {
        Poco::Net::initializeSSL();
        // Certificate errors must surface as exceptions, never as a prompt.
        Poco::Net::SSLManager::InvalidCertificateHandlerPtr reject(
            new Poco::Net::RejectCertificateHandler(false));
        Poco::Net::Context::Ptr none;
        Poco::Net::SSLManager::instance().initializeClient(nullptr, reject, none);
    }
    ~SslInit() { Poco::Net::uninitializeSSL(); }
};
BOOST_TEST_GLOBAL_FIXTURE(SslInit);

std::string read_file(const std::string& path) {
    std::ifstream f(path);
    std::string s;
    std::getline(f, s);
    return s;
}

Object::Ptr parse(const std::string& text) {
    Poco::JSON::Parser p;
    return p.parse(text).extract<Object::Ptr>();
}

struct Response {
    int status = 0;
    std::string body;
    Object::Ptr json() const { return parse(body); }
};

// One HTTPS (or HTTP) client bound to a server; token read from the token file per request.
class Client {
public:
    explicit Client(const FakeApiServer& api, std::string ca_file = {})
        : api_(api), ca_(ca_file.empty() ? api.ca_file() : std::move(ca_file)) {
        if (!ca_.empty())
            ctx_ = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", ca_,
                                          Poco::Net::Context::VERIFY_RELAXED, 9, false);
    }

    std::string token() const { return read_file(api_.token_file()); }

    std::unique_ptr<Poco::Net::HTTPClientSession> session() const {
        std::unique_ptr<Poco::Net::HTTPClientSession> s;
        // "localhost" is in the certificate's subjectAltName.
        if (ctx_)
            s = std::make_unique<Poco::Net::HTTPSClientSession>("localhost", api_.port(), ctx_);
        else
            s = std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1", api_.port());
        s->setTimeout(Poco::Timespan(20, 0));
        return s;
    }

    Poco::Net::HTTPRequest request(const std::string& method, const std::string& path,
                                   const std::string& token) const {
        Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
        req.set("Accept", "application/json");
        if (!token.empty()) req.set("Authorization", "Bearer " + token);
        return req;
    }

    Response call(const std::string& method, const std::string& path, const std::string& body = {},
                  const std::string& content_type = "application/json",
                  const std::string* token = nullptr) const {
        auto s = session();
        auto req = request(method, path, token ? *token : this->token());
        if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
            req.setContentType(content_type);
            req.setContentLength(static_cast<std::streamsize>(body.size()));
        }
        s->sendRequest(req) << body;
        Poco::Net::HTTPResponse resp;
        std::istream& in = s->receiveResponse(resp);
        Response r;
        r.status = static_cast<int>(resp.getStatus());
        std::ostringstream out;
        Poco::StreamCopier::copyStream(in, out);
        r.body = out.str();
        return r;
    }

private:
    const FakeApiServer& api_;
    std::string ca_;
    Poco::Net::Context::Ptr ctx_;
};

// An open watch stream, read line by line.
class Watch {
public:
    Watch(const Client& c, const std::string& path, int read_timeout_s = 20)
        : session_(c.session()) {
        session_->setTimeout(Poco::Timespan(read_timeout_s, 0));
        auto req = c.request("GET", path, c.token());
        session_->sendRequest(req);
        in_ = &session_->receiveResponse(resp_);
        in_->exceptions(std::ios::badbit);  // read errors and timeouts surface as exceptions
    }
    int status() const { return static_cast<int>(resp_.getStatus()); }
    bool chunked() const { return resp_.getChunkedTransferEncoding(); }
    // Next event line as JSON; nullptr at end of stream.
    Object::Ptr next() {
        std::string line;
        if (!std::getline(*in_, line)) return nullptr;
        return parse(line);
    }
    std::string rest() {
        std::ostringstream out;
        Poco::StreamCopier::copyStream(*in_, out);
        return out.str();
    }
    void set_timeout(int seconds) { session_->setTimeout(Poco::Timespan(seconds, 0)); }

private:
    std::unique_ptr<Poco::Net::HTTPClientSession> session_;
    Poco::Net::HTTPResponse resp_;
    std::istream* in_ = nullptr;
};

const char* kConfigMap = R"({"apiVersion":"v1","kind":"ConfigMap",
  "metadata":{"name":"envoy","namespace":"test","labels":{"app":"envoy","tier":"edge"}},
  "data":{"rds.yaml":"version_info: \"1\"\n"}})";

struct Fixture {
    FakeApiServer api;
    Client client{api};
};

std::string rv_of(const Object::Ptr& obj) {
    return obj->getObject("metadata")->getValue<std::string>("resourceVersion");
}

// Polls `pred` for up to 30 s (a bound against hangs, not a timing assertion).
template <class Pred>
bool eventually(Pred pred) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

int hung_requests(FakeApiServer& api) {
    return parse(api.state_json())->getValue<int>("hungRequests");
}

std::string cm_path(const std::string& ns = "test") {
    return "/api/v1/namespaces/" + ns + "/configmaps";
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(fake_apiserver, Fixture)

BOOST_AUTO_TEST_CASE(create_get_list_with_resource_versions) {
    auto created = client.call("POST", cm_path(), kConfigMap);
    BOOST_TEST_REQUIRE(created.status == 201, created.body);
    auto obj = created.json();
    const auto meta = obj->getObject("metadata");
    BOOST_TEST(!meta->getValue<std::string>("uid").empty());
    BOOST_TEST(!meta->getValue<std::string>("creationTimestamp").empty());
    const std::string rv = rv_of(obj);

    auto got = client.call("GET", cm_path() + "/envoy");
    BOOST_TEST_REQUIRE(got.status == 200);
    BOOST_TEST(rv_of(got.json()) == rv);
    BOOST_TEST(got.json()->getObject("data")->getValue<std::string>("rds.yaml") ==
               "version_info: \"1\"\n");

    auto list = client.call("GET", cm_path());
    BOOST_TEST_REQUIRE(list.status == 200);
    auto l = list.json();
    BOOST_TEST(l->getValue<std::string>("kind") == "ConfigMapList");
    BOOST_TEST(rv_of(l) == api.resource_version());
    BOOST_TEST(l->getArray("items")->size() == 1U);

    // all-namespace list, selectors
    BOOST_TEST(client.call("GET", "/api/v1/configmaps").json()->getArray("items")->size() == 1U);
    BOOST_TEST(client.call("GET", cm_path() + "?labelSelector=app%3Denvoy,tier+in+(edge,core)")
                   .json()
                   ->getArray("items")
                   ->size() == 1U);
    BOOST_TEST(client.call("GET", cm_path() + "?labelSelector=app!%3Denvoy")
                   .json()
                   ->getArray("items")
                   ->size() == 0U);
    BOOST_TEST(
        client.call("GET", cm_path() + "?labelSelector=!tier").json()->getArray("items")->size() ==
        0U);
    BOOST_TEST(client.call("GET", cm_path() + "?fieldSelector=metadata.name%3Dother")
                   .json()
                   ->getArray("items")
                   ->size() == 0U);
    BOOST_TEST(client.call("GET", cm_path("other")).json()->getArray("items")->size() == 0U);

    auto missing = client.call("GET", cm_path() + "/nope");
    BOOST_TEST(missing.status == 404);
    BOOST_TEST(missing.json()->getValue<std::string>("kind") == "Status");
    BOOST_TEST(missing.json()->getValue<std::string>("reason") == "NotFound");
    BOOST_TEST(missing.json()->getValue<int>("code") == 404);
}

BOOST_AUTO_TEST_CASE(create_twice_and_stale_update_conflict) {
    auto first = client.call("POST", cm_path(), kConfigMap);
    BOOST_TEST_REQUIRE(first.status == 201);
    auto again = client.call("POST", cm_path(), kConfigMap);
    BOOST_TEST(again.status == 409);
    BOOST_TEST(again.json()->getValue<std::string>("reason") == "AlreadyExists");

    auto obj = first.json();
    const std::string old_rv = rv_of(obj);
    // someone else changes it
    api.apply(
        R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"envoy","namespace":"test"},"data":{"k":"x"}})");

    obj->getObject("data")->set("k", "mine");
    std::ostringstream body;
    obj->stringify(body);
    auto stale = client.call("PUT", cm_path() + "/envoy", body.str());
    BOOST_TEST(stale.status == 409);
    BOOST_TEST(stale.json()->getValue<std::string>("status") == "Failure");
    BOOST_TEST(stale.json()->getValue<std::string>("reason") == "Conflict");

    auto current = client.call("GET", cm_path() + "/envoy").json();
    BOOST_TEST(rv_of(current) != old_rv);
    current->getObject("data")->set("k", "mine");
    std::ostringstream body2;
    current->stringify(body2);
    auto ok = client.call("PUT", cm_path() + "/envoy", body2.str());
    BOOST_TEST_REQUIRE(ok.status == 200, ok.body);
    BOOST_TEST(ok.json()->getObject("data")->getValue<std::string>("k") == "mine");
    BOOST_TEST(std::stol(rv_of(ok.json())) > std::stol(rv_of(current)));

    // unchanged update: no new resourceVersion
    std::ostringstream body3;
    ok.json()->stringify(body3);
    auto same = client.call("PUT", cm_path() + "/envoy", body3.str());
    BOOST_TEST(rv_of(same.json()) == rv_of(ok.json()));

    auto missing =
        client.call("PUT", cm_path() + "/ghost",
                    R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ghost"}})");
    BOOST_TEST(missing.status == 404);

    auto patched = client.call("PATCH", cm_path() + "/envoy", R"({"data":{"k":null,"p":"q"}})",
                               "application/merge-patch+json");
    BOOST_TEST_REQUIRE(patched.status == 200, patched.body);
    BOOST_TEST(!patched.json()->getObject("data")->has("k"));
    BOOST_TEST(patched.json()->getObject("data")->getValue<std::string>("p") == "q");

    BOOST_TEST(client.call("DELETE", cm_path() + "/envoy").status == 200);
    BOOST_TEST(client.call("DELETE", cm_path() + "/envoy").status == 404);
}

BOOST_AUTO_TEST_CASE(paginated_list_json_patch_and_bad_requests) {
    for (const char* name : {"a", "b", "c"})
        api.apply(std::string(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")") +
                  name + R"(","namespace":"test"}})");
    auto page1 = client.call("GET", cm_path() + "?limit=2").json();
    BOOST_TEST(page1->getArray("items")->size() == 2U);
    const auto token = page1->getObject("metadata")->getValue<std::string>("continue");
    BOOST_TEST(!token.empty());
    auto page2 = client.call("GET", cm_path() + "?limit=2&continue=" + token).json();
    BOOST_TEST_REQUIRE(page2->getArray("items")->size() == 1U);
    BOOST_TEST(page2->getArray("items")
                   ->getObject(0)
                   ->getObject("metadata")
                   ->getValue<std::string>("name") == "c");
    BOOST_TEST(!page2->getObject("metadata")->has("continue"));

    auto patched =
        client.call("PATCH", cm_path() + "/a", R"([{"op":"add","path":"/data","value":{"k":"v"}}])",
                    "application/json-patch+json");
    BOOST_TEST_REQUIRE(patched.status == 200, patched.body);
    BOOST_TEST(patched.json()->getObject("data")->getValue<std::string>("k") == "v");
    BOOST_TEST(client.call("PATCH", cm_path() + "/a", "{}", "text/plain").status == 415);

    auto future = client.call("GET", cm_path() + "?resourceVersion=999999");
    BOOST_TEST(future.status == 504);
    BOOST_TEST(future.json()->getValue<std::string>("reason") == "Timeout");
    BOOST_TEST(client.call("GET", cm_path() + "?labelSelector=a+in+b").status == 400);
    BOOST_TEST(client.call("GET", cm_path() + "?fieldSelector=spec.x%3D1").status == 400);
    auto wrong_ns = client.call(
        "POST", cm_path(),
        R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"other"}})");
    BOOST_TEST(wrong_ns.status == 400);
    auto not_string = client.call(
        "POST", cm_path(),
        R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"n":1}})");
    BOOST_TEST(not_string.status == 400);
}

BOOST_AUTO_TEST_CASE(list_then_watch_gets_chunked_events) {
    BOOST_TEST_REQUIRE(client.call("POST", cm_path(), kConfigMap).status == 201);
    const std::string list_rv = rv_of(client.call("GET", cm_path()).json());
    // a change between list and watch is replayed from history
    api.apply(
        R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"envoy","namespace":"test",
                "labels":{"app":"envoy"}},"data":{"v":"2"}})");

    Watch w(client, cm_path() + "?watch=1&resourceVersion=" + list_rv + "&timeoutSeconds=30");
    BOOST_TEST_REQUIRE(w.status() == 200);
    BOOST_TEST(w.chunked());
    auto ev = w.next();
    BOOST_TEST_REQUIRE(ev);
    BOOST_TEST(ev->getValue<std::string>("type") == "MODIFIED");
    BOOST_TEST(ev->getObject("object")->getObject("data")->getValue<std::string>("v") == "2");

    api.apply(
        R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"second","namespace":"test"},"data":{}})");
    ev = w.next();
    BOOST_TEST_REQUIRE(ev);
    BOOST_TEST(ev->getValue<std::string>("type") == "ADDED");
    BOOST_TEST(ev->getObject("object")->getObject("metadata")->getValue<std::string>("name") ==
               "second");

    // objects in other namespaces are not seen
    api.apply(
        R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"elsewhere","namespace":"other"}})");
    api.remove("ConfigMap", "test", "second");
    ev = w.next();
    BOOST_TEST_REQUIRE(ev);
    BOOST_TEST(ev->getValue<std::string>("type") == "DELETED");
    BOOST_TEST(ev->getObject("object")->getObject("metadata")->getValue<std::string>("name") ==
               "second");
    BOOST_TEST(std::stol(rv_of(ev->getObject("object"))) == std::stol(api.resource_version()));
}

BOOST_AUTO_TEST_CASE(watch_with_label_selector_sees_objects_leave) {
    Watch w(client, cm_path() + "?watch=true&resourceVersion=" + api.resource_version() +
                        "&labelSelector=app%3Denvoy&timeoutSeconds=30");
    api.apply(kConfigMap);
    auto ev = w.next();
    BOOST_TEST_REQUIRE(ev);
    BOOST_TEST(ev->getValue<std::string>("type") == "ADDED");
    api.apply(
        R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"envoy","namespace":"test",
                "labels":{"app":"other"}}})");
    ev = w.next();
    BOOST_TEST_REQUIRE(ev);
    BOOST_TEST(ev->getValue<std::string>("type") == "DELETED");
}

BOOST_AUTO_TEST_CASE(watch_ends_cleanly_after_timeout_seconds) {
    Watch w(client,
            cm_path() + "?watch=1&resourceVersion=" + api.resource_version() + "&timeoutSeconds=1");
    BOOST_TEST(w.status() == 200);
    BOOST_TEST(w.rest().empty());
    // the server records how a stream ended just after its last byte is sent
    BOOST_TEST(eventually(
        [&] { return api.requests_json().find("\"end\": \"clean\"") != std::string::npos; }));
}

BOOST_AUTO_TEST_CASE(too_old_resource_version_as_error_event) {
    api.apply(kConfigMap);
    const std::string old_rv = api.resource_version();
    api.apply(
        R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"envoy","namespace":"test"},"data":{"a":"b"}})");
    BOOST_TEST(api.compact() == api.resource_version());
    Watch w(client, cm_path() + "?watch=1&resourceVersion=" + old_rv);
    BOOST_TEST_REQUIRE(w.status() == 200);
    auto ev = w.next();
    BOOST_TEST_REQUIRE(ev);
    BOOST_TEST(ev->getValue<std::string>("type") == "ERROR");
    BOOST_TEST(ev->getObject("object")->getValue<std::string>("kind") == "Status");
    BOOST_TEST(ev->getObject("object")->getValue<int>("code") == 410);
    BOOST_TEST(ev->getObject("object")->getValue<std::string>("reason") == "Expired");
    BOOST_TEST(!w.next());

    // the current resourceVersion is still fine
    Watch ok(client,
             cm_path() + "?watch=1&timeoutSeconds=1&resourceVersion=" + api.resource_version());
    BOOST_TEST(ok.status() == 200);
    BOOST_TEST(ok.rest().empty());
}

BOOST_AUTO_TEST_CASE(too_old_resource_version_as_http_410) {
    api.set_gone_mode("http");
    api.apply(kConfigMap);
    const std::string old_rv = api.resource_version();
    api.apply(
        R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"envoy","namespace":"test"},"data":{"a":"b"}})");
    api.compact();
    auto r = client.call("GET", cm_path() + "?watch=1&resourceVersion=" + old_rv);
    BOOST_TEST(r.status == 410);
    BOOST_TEST(r.json()->getValue<std::string>("reason") == "Expired");
    BOOST_TEST(r.json()->getValue<int>("code") == 410);
}

BOOST_AUTO_TEST_CASE(bookmarks_on_demand_carry_the_current_resource_version) {
    api.apply(kConfigMap);
    Watch plain(client,
                cm_path() + "?watch=1&timeoutSeconds=30&resourceVersion=" + api.resource_version());
    Watch w(client, cm_path() +
                        "?watch=1&allowWatchBookmarks=true&timeoutSeconds=30&resourceVersion=" +
                        api.resource_version());
    // an unrelated change moves the global resourceVersion
    api.apply(
        R"({"apiVersion":"split.smi-spec.io/v1alpha2","kind":"TrafficSplit","metadata":{"name":"t"},
                "spec":{"service":"s","backends":[{"service":"a","weight":1}]}})");
    BOOST_TEST_REQUIRE(eventually([&] { return api.open_watches() >= 2; }));
    BOOST_TEST(api.bookmark() == 1);  // only the stream that asked for bookmarks
    auto ev = w.next();
    BOOST_TEST_REQUIRE(ev);
    BOOST_TEST(ev->getValue<std::string>("type") == "BOOKMARK");
    auto obj = ev->getObject("object");
    BOOST_TEST(obj->getValue<std::string>("kind") == "ConfigMap");
    BOOST_TEST(obj->getValue<std::string>("apiVersion") == "v1");
    BOOST_TEST(rv_of(obj) == api.resource_version());
    BOOST_TEST(obj->size() == 3U);
    BOOST_TEST(obj->getObject("metadata")->size() == 1U);
    // the stream without bookmarks sees only the next real event
    api.apply(
        R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"envoy","namespace":"test"},"data":{"x":"y"}})");
    auto pev = plain.next();
    BOOST_TEST_REQUIRE(pev);
    BOOST_TEST(pev->getValue<std::string>("type") == "MODIFIED");
}

BOOST_AUTO_TEST_CASE(streaming_list_with_send_initial_events) {
    api.apply(kConfigMap);
    const std::string rv = api.resource_version();
    Watch w(client, cm_path() +
                        "?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
                        "&allowWatchBookmarks=true&timeoutSeconds=30");
    auto added = w.next();
    BOOST_TEST_REQUIRE(added);
    BOOST_TEST(added->getValue<std::string>("type") == "ADDED");
    auto end = w.next();
    BOOST_TEST_REQUIRE(end);
    BOOST_TEST(end->getValue<std::string>("type") == "BOOKMARK");
    BOOST_TEST(rv_of(end->getObject("object")) == rv);
    BOOST_TEST(end->getObject("object")
                   ->getObject("metadata")
                   ->getObject("annotations")
                   ->getValue<std::string>("k8s.io/initial-events-end") == "true");
}

BOOST_AUTO_TEST_CASE(periodic_bookmarks) {
    FakeApiServer::Options o;
    o.bookmark_interval = 0.2;
    FakeApiServer api2(o);
    Client c2(api2);
    Watch w(c2,
            cm_path() + "?watch=1&allowWatchBookmarks=true&timeoutSeconds=30&resourceVersion=1");
    auto ev = w.next();
    BOOST_TEST_REQUIRE(ev);
    BOOST_TEST(ev->getValue<std::string>("type") == "BOOKMARK");
}

BOOST_AUTO_TEST_CASE(token_rotation_and_revocation) {
    const std::string old_token = api.token();
    BOOST_TEST(client.call("GET", cm_path()).status == 200);
    const std::string empty;
    auto anon = client.call("GET", cm_path(), {}, "application/json", &empty);
    BOOST_TEST(anon.status == 401);
    BOOST_TEST(anon.json()->getValue<std::string>("kind") == "Status");
    BOOST_TEST(anon.json()->getValue<std::string>("reason") == "Unauthorized");

    api.rotate_token("second-token", false);  // overlap: both accepted
    BOOST_TEST(read_file(api.token_file()) == "second-token");
    BOOST_TEST(client.call("GET", cm_path(), {}, "application/json", &old_token).status == 200);
    BOOST_TEST(client.call("GET", cm_path()).status == 200);

    api.rotate_token("third-token", true);  // old ones revoked
    BOOST_TEST(client.call("GET", cm_path(), {}, "application/json", &old_token).status == 401);
    const std::string second = "second-token";
    BOOST_TEST(client.call("GET", cm_path(), {}, "application/json", &second).status == 401);
    BOOST_TEST(client.call("GET", cm_path()).status == 200);
}

BOOST_AUTO_TEST_CASE(client_certificate_authenticates) {
    Poco::Net::Context::Ptr ctx = new Poco::Net::Context(
        Poco::Net::Context::TLS_CLIENT_USE, api.client_key_file(), api.client_cert_file(),
        api.ca_file(), Poco::Net::Context::VERIFY_RELAXED, 9, false);
    Poco::Net::HTTPSClientSession s("localhost", api.port(), ctx);
    Poco::Net::HTTPRequest req("GET", cm_path(), Poco::Net::HTTPMessage::HTTP_1_1);
    s.sendRequest(req);
    Poco::Net::HTTPResponse resp;
    std::istream& in = s.receiveResponse(resp);
    std::ostringstream body;
    Poco::StreamCopier::copyStream(in, body);
    BOOST_TEST(static_cast<int>(resp.getStatus()) == 200);
    BOOST_TEST(parse(body.str())->getValue<std::string>("kind") == "ConfigMapList");
}

BOOST_AUTO_TEST_CASE(wrong_ca_is_refused) {
    FakeApiServer other;
    Client wrong(api, other.ca_file());
    BOOST_CHECK_THROW(wrong.call("GET", cm_path()), Poco::Exception);
}

BOOST_AUTO_TEST_CASE(fail_next_requests_then_recover_and_count) {
    api.reset_counts();
    api.fail_next(2, 503, "/configmaps", "GET");
    auto r1 = client.call("GET", cm_path());
    BOOST_TEST(r1.status == 503);
    BOOST_TEST(r1.json()->getValue<std::string>("reason") == "ServiceUnavailable");
    BOOST_TEST(client.call("GET", "/version").status == 200);  // does not match the path
    BOOST_TEST(client.call("GET", cm_path()).status == 503);
    BOOST_TEST(client.call("GET", cm_path()).status == 200);
    BOOST_TEST(api.request_count("GET", "/configmaps") == 3);
    BOOST_TEST(api.request_count("", "/version") == 1);
    BOOST_TEST(api.request_count("POST", "/configmaps") == 0);
    Watch w(client,
            cm_path() + "?watch=1&timeoutSeconds=1&resourceVersion=" + api.resource_version());
    w.rest();
    BOOST_TEST(api.watch_count("/configmaps") == 1);
    BOOST_TEST(api.list_count("/configmaps") == 3);
    BOOST_TEST(api.request_count("GET", "/configmaps") == 4);

    api.fail_next(1, 429, "", "", 1);
    auto r429 = client.call("GET", cm_path());
    BOOST_TEST(r429.status == 429);
    BOOST_TEST(client.call("GET", cm_path()).status == 200);
}

BOOST_AUTO_TEST_CASE(drop_streams_ends_them_abruptly) {
    Watch w(client,
            cm_path() + "?watch=1&timeoutSeconds=60&resourceVersion=" + api.resource_version());
    BOOST_TEST_REQUIRE(eventually([&] { return api.open_watches() >= 1; }));
    BOOST_TEST(api.drop_streams() == 1);
    try {
        w.rest();
    } catch (const Poco::Exception&) {
        // a torn-down connection may also surface as an error
    }
    BOOST_TEST(eventually([&] { return api.open_watches() == 0; }));
    BOOST_TEST(eventually(
        [&] { return api.requests_json().find("\"end\": \"dropped\"") != std::string::npos; }));
}

BOOST_AUTO_TEST_CASE(stalled_stream_sends_nothing_until_released) {
    Watch w(client,
            cm_path() + "?watch=1&timeoutSeconds=60&resourceVersion=" + api.resource_version(), 1);
    BOOST_TEST_REQUIRE(eventually([&] { return api.open_watches() >= 1; }));
    BOOST_TEST(api.stall_streams(true) == 1);
    api.apply(kConfigMap);
    BOOST_CHECK_THROW(w.next(), Poco::TimeoutException);
    BOOST_TEST(api.open_watches() == 1);  // connection kept open
    api.stall_streams(false);
    // new streams are not stalled unless asked
    Watch fresh(client, cm_path() + "?watch=1&timeoutSeconds=60&resourceVersion=1", 20);
    auto ev = fresh.next();
    BOOST_TEST_REQUIRE(ev);
    BOOST_TEST(ev->getValue<std::string>("type") == "ADDED");
}

BOOST_AUTO_TEST_CASE(stream_error_ends_open_streams) {
    Watch w(client,
            cm_path() + "?watch=1&timeoutSeconds=60&resourceVersion=" + api.resource_version());
    BOOST_TEST_REQUIRE(eventually([&] { return api.open_watches() >= 1; }));
    BOOST_TEST(api.stream_error(410) == 1);
    auto ev = w.next();
    BOOST_TEST_REQUIRE(ev);
    BOOST_TEST(ev->getValue<std::string>("type") == "ERROR");
    BOOST_TEST(ev->getObject("object")->getValue<int>("code") == 410);
    BOOST_TEST(!w.next());
    BOOST_TEST(eventually([&] { return api.open_watches() == 0; }));
}

BOOST_AUTO_TEST_CASE(end_streams_ends_them_cleanly) {
    Watch w(client,
            cm_path() + "?watch=1&timeoutSeconds=60&resourceVersion=" + api.resource_version());
    BOOST_TEST_REQUIRE(eventually([&] { return api.open_watches() >= 1; }));
    BOOST_TEST(api.end_streams() == 1);
    BOOST_TEST(w.rest().empty());
    // the server records how a stream ended just after its last byte is sent
    BOOST_TEST(eventually(
        [&] { return api.requests_json().find("\"end\": \"clean\"") != std::string::npos; }));
}

BOOST_AUTO_TEST_CASE(injected_connection_reset_and_unlimited_failures) {
    api.fail_next(1, 0, "/configmaps");
    BOOST_CHECK_THROW(client.call("GET", cm_path()), Poco::Exception);
    BOOST_TEST(client.call("GET", cm_path()).status == 200);

    api.fail_next(-1, 500, "/configmaps");
    for (int i = 0; i < 5; ++i) BOOST_TEST(client.call("GET", cm_path()).status == 500);
    api.clear_failures();
    BOOST_TEST(client.call("GET", cm_path()).status == 200);
}

BOOST_AUTO_TEST_CASE(injected_hang_until_released) {
    api.fail_next(1, -1, "/configmaps");
    bool threw = false;
    std::thread t([&] {
        try {
            client.call("GET", cm_path());
        } catch (const Poco::Exception&) {
            threw = true;
        }
    });
    const bool held = eventually([&] { return hung_requests(api) >= 1; });
    const int released = api.release_hung();
    t.join();
    BOOST_TEST(held);
    BOOST_TEST(released == 1);
    BOOST_TEST(threw);
    BOOST_TEST(client.call("GET", cm_path()).status == 200);
}

BOOST_AUTO_TEST_CASE(outage_refuses_connections_and_keeps_state) {
    api.apply(kConfigMap);
    const std::string rv = api.resource_version();
    Watch w(client, cm_path() + "?watch=1&timeoutSeconds=60&resourceVersion=" + rv);
    BOOST_TEST_REQUIRE(eventually([&] { return api.open_watches() >= 1; }));
    api.set_outage(true);
    try {
        w.rest();
    } catch (const Poco::Exception&) {
        // a torn-down connection may also surface as an error
    }
    BOOST_CHECK_THROW(client.call("GET", cm_path()), Poco::Net::NetException);
    api.set_outage(false);
    auto back = client.call("GET", cm_path() + "/envoy");
    BOOST_TEST(back.status == 200);
    BOOST_TEST(rv_of(back.json()) == rv);
    // timed outage: comes back by itself
    api.set_outage(true, 0.5);
    BOOST_TEST(eventually([&] {
        try {
            return client.call("GET", cm_path()).status == 200;
        } catch (const Poco::Exception&) {
            return false;
        }
    }));
}

BOOST_AUTO_TEST_CASE(five_mib_configmap_over_a_watch) {
    Watch w(client,
            cm_path() + "?watch=1&timeoutSeconds=60&resourceVersion=" + api.resource_version());
    std::string big(5U << 20U, 'x');
    for (std::size_t i = 0; i < big.size(); i += 97) big[i] = '\n';
    Object cm;
    Poco::JSON::Object::Ptr meta = new Object;
    meta->set("name", "big");
    meta->set("namespace", "test");
    Poco::JSON::Object::Ptr data = new Object;
    data->set("routes.yaml", big);
    cm.set("apiVersion", "v1");
    cm.set("kind", "ConfigMap");
    cm.set("metadata", meta);
    cm.set("data", data);
    std::ostringstream body;
    cm.stringify(body);
    BOOST_TEST_REQUIRE(client.call("POST", cm_path(), body.str()).status == 201);
    auto ev = w.next();
    BOOST_TEST_REQUIRE(ev);
    BOOST_TEST(ev->getObject("object")->getObject("data")->getValue<std::string>("routes.yaml") ==
               big);
}

BOOST_AUTO_TEST_CASE(trafficsplit_versions_share_storage) {
    const std::string ts_v1 = R"({"apiVersion":"split.smi-spec.io/v1alpha1","kind":"TrafficSplit",
    "metadata":{"name":"podinfo","namespace":"test"},
    "spec":{"service":"podinfo","backends":[{"service":"a","weight":"500m"},{"service":"b","weight":"500m"}]}})";
    auto created = client.call(
        "POST", "/apis/split.smi-spec.io/v1alpha1/namespaces/test/trafficsplits", ts_v1);
    BOOST_TEST_REQUIRE(created.status == 201, created.body);
    auto v3 = client.call("GET",
                          "/apis/split.smi-spec.io/v1alpha3/namespaces/test/trafficsplits/podinfo");
    BOOST_TEST_REQUIRE(v3.status == 200);
    BOOST_TEST(v3.json()->getValue<std::string>("apiVersion") == "split.smi-spec.io/v1alpha3");
    auto list = client.call("GET", "/apis/split.smi-spec.io/v1alpha4/trafficsplits");
    BOOST_TEST(list.json()->getValue<std::string>("kind") == "TrafficSplitList");
    BOOST_TEST(list.json()->getArray("items")->size() == 1U);
    BOOST_TEST(client.call("GET", "/apis/split.smi-spec.io/v1beta1/namespaces/test/trafficsplits")
                   .status == 404);

    Watch w(
        client,
        "/apis/split.smi-spec.io/v1alpha4/namespaces/test/trafficsplits?watch=1&timeoutSeconds=30"
        "&resourceVersion=" +
            api.resource_version());
    api.apply(R"({"apiVersion":"split.smi-spec.io/v1alpha2","kind":"TrafficSplit",
    "metadata":{"name":"podinfo","namespace":"test"},
    "spec":{"service":"podinfo","backends":[{"service":"a","weight":10},{"service":"b","weight":90}]}})");
    auto ev = w.next();
    BOOST_TEST_REQUIRE(ev);
    BOOST_TEST(ev->getValue<std::string>("type") == "MODIFIED");
    BOOST_TEST(ev->getObject("object")->getValue<std::string>("apiVersion") ==
               "split.smi-spec.io/v1alpha4");
    BOOST_TEST(ev->getObject("object")->getObject("metadata")->getValue<int>("generation") == 2);

    auto group = client.call("GET", "/apis/split.smi-spec.io").json();
    BOOST_TEST(group->getObject("preferredVersion")->getValue<std::string>("version") ==
               "v1alpha2");
    api.set_preferred_version("v1alpha4");
    auto groups = client.call("GET", "/apis").json();
    BOOST_TEST(groups->getArray("groups")
                   ->getObject(0)
                   ->getObject("preferredVersion")
                   ->getValue<std::string>("version") == "v1alpha4");
    auto resources = client.call("GET", "/apis/split.smi-spec.io/v1alpha4").json();
    BOOST_TEST(resources->getArray("resources")->getObject(0)->getValue<std::string>("name") ==
               "trafficsplits");
    BOOST_TEST(client.call("GET", "/openapi/v2").status == 404);
    BOOST_TEST(client.call("GET", "/version").json()->getValue<std::string>("major") == "1");
}

BOOST_AUTO_TEST_CASE(endpointslices_and_httproutes) {
    const std::string slice = R"({"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice",
    "metadata":{"name":"podinfo-abc12","namespace":"test","labels":{"kubernetes.io/service-name":"podinfo"}},
    "addressType":"IPv4","ports":[{"name":"http","protocol":"TCP","port":9898}],
    "endpoints":[{"addresses":["10.1.2.3"],"conditions":{"ready":false}}]})";
    const std::string path = "/apis/discovery.k8s.io/v1/namespaces/test/endpointslices";
    BOOST_TEST_REQUIRE(client.call("POST", path, slice).status == 201);
    std::string bad = slice;
    bad.replace(bad.find("IPv4"), 4, "IPv5");
    bad.replace(bad.find("podinfo-abc12"), 13, "podinfo-bad");
    const auto refused = client.call("POST", path, bad);
    BOOST_TEST(refused.status == 422);
    BOOST_TEST(refused.body.find("addressType") != std::string::npos, refused.body);

    Watch w(client, path +
                        "?watch=1&timeoutSeconds=30&labelSelector=kubernetes.io%2Fservice-name"
                        "%3Dpodinfo&resourceVersion=" +
                        api.resource_version());
    std::string ready = slice;
    ready.replace(ready.find("\"ready\":false"), 13, "\"ready\":true");
    api.apply(ready);
    auto ev = w.next();
    BOOST_TEST_REQUIRE(ev);
    BOOST_TEST(ev->getValue<std::string>("type") == "MODIFIED");
    const auto obj = ev->getObject("object");
    BOOST_TEST(obj->getValue<std::string>("apiVersion") == "discovery.k8s.io/v1");
    BOOST_TEST(
        obj->getArray("endpoints")->getObject(0)->getObject("conditions")->getValue<bool>("ready"));
    BOOST_TEST(obj->getObject("metadata")->getValue<int>("generation") == 2);

    api.apply(R"({"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute",
    "metadata":{"name":"podinfo","namespace":"test"},
    "spec":{"hostnames":["podinfo"],"rules":[{"backendRefs":[{"name":"podinfo-primary","port":9898,"weight":100}]}]}})");
    const auto beta = client.call(
        "GET", "/apis/gateway.networking.k8s.io/v1beta1/namespaces/test/httproutes/podinfo");
    BOOST_TEST_REQUIRE(beta.status == 200);
    BOOST_TEST(beta.json()->getValue<std::string>("apiVersion") ==
               "gateway.networking.k8s.io/v1beta1");
    BOOST_TEST(
        client.call("GET", "/apis/gateway.networking.k8s.io/v1alpha1/namespaces/test/httproutes")
            .status == 404);
    const auto group = client.call("GET", "/apis/gateway.networking.k8s.io").json();
    BOOST_TEST(group->getObject("preferredVersion")->getValue<std::string>("version") == "v1");
    const auto groups = client.call("GET", "/apis").json()->getArray("groups");
    std::vector<std::string> names;
    for (std::size_t i = 0; i < groups->size(); ++i) {
        names.push_back(groups->getObject(static_cast<unsigned>(i))->getValue<std::string>("name"));
    }
    BOOST_TEST((names == std::vector<std::string>{"split.smi-spec.io", "discovery.k8s.io",
                                                  "gateway.networking.k8s.io", "crossover.io"}));
    const auto resources = client.call("GET", "/apis/discovery.k8s.io/v1").json();
    BOOST_TEST(resources->getArray("resources")->getObject(0)->getValue<std::string>("kind") ==
               "EndpointSlice");
}

// `group_versions` on the control port: a group serves only some of its versions (preferred
// first), or none, for the sources' API discovery.
BOOST_AUTO_TEST_CASE(group_versions_serve_some_versions) {
    const std::string g = "/apis/gateway.networking.k8s.io";
    BOOST_TEST(
        api.control("POST", "/config",
                    R"({"group_versions": {"gateway.networking.k8s.io": ["v1beta1", "v1"]}})")
            .first == 200);
    auto group = client.call("GET", g).json();
    BOOST_TEST(group->getObject("preferredVersion")->getValue<std::string>("version") == "v1beta1");
    BOOST_TEST(group->getArray("versions")->size() == 2U);

    api.control("POST", "/config",
                R"({"group_versions": {"gateway.networking.k8s.io": ["v1beta1"]}})");
    group = client.call("GET", g).json();
    BOOST_TEST(group->getArray("versions")->size() == 1U);
    BOOST_TEST(client.call("GET", g + "/v1").status == 404);
    BOOST_TEST(client.call("GET", g + "/v1/namespaces/test/httproutes").status == 404);
    BOOST_TEST(client.call("GET", g + "/v1beta1/namespaces/test/httproutes").status == 200);

    api.control("POST", "/config", R"({"group_versions": {"gateway.networking.k8s.io": []}})");
    BOOST_TEST(client.call("GET", g).status == 404);
    BOOST_TEST(client.call("GET", "/apis").body.find("gateway.networking.k8s.io") ==
               std::string::npos);
    BOOST_TEST(client.call("GET", "/apis/discovery.k8s.io").status == 200);  // others unchanged
    BOOST_TEST(api.control("POST", "/config",
                           R"({"group_versions": {"gateway.networking.k8s.io": ["v2"]}})")
                   .first == 400);
}

BOOST_AUTO_TEST_CASE(apply_yaml_documents) {
    api.apply(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: test\ndata:\n  n: "
        "\"1\"\n"
        "---\napiVersion: split.smi-spec.io/v1alpha2\nkind: TrafficSplit\nmetadata: {name: t, "
        "namespace: test}\n"
        "spec: {service: s, backends: [{service: x, weight: 25}]}\n");
    auto cm = client.call("GET", cm_path() + "/a").json();
    BOOST_TEST(cm->getObject("data")->getValue<std::string>("n") == "1");
    auto ts = client.call("GET", "/apis/split.smi-spec.io/v1alpha2/namespaces/test/trafficsplits/t")
                  .json();
    BOOST_TEST(
        ts->getObject("spec")->getArray("backends")->getObject(0)->get("weight").isInteger());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(plain_http_mode) {
    FakeApiServer::Options o;
    o.plain_http = true;
    FakeApiServer api(o);
    BOOST_TEST(api.url().rfind("http://", 0) == 0U);
    BOOST_TEST(api.ca_file().empty());
    Client c(api);
    BOOST_TEST(c.call("GET", "/api/v1/namespaces/x/configmaps").status == 200);
}
