// Delta xDS over gRPC, driven by a client written for the tests: only what
// changed travels, removals are announced, a reconnect with
// initial_resource_versions gets only what differs.
#define BOOST_TEST_MODULE sink_xds_server_delta_grpc
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "test_support.h"

using namespace crossover::xds_server;
using namespace crossover::xds_server::test;
using namespace std::chrono_literals;

namespace {

const std::string kCds(kClusterType);
const std::string kEds(kEndpointType);
const std::string kRds(kRouteType);
constexpr auto kQuiet = 300ms;

using Names = std::vector<std::string>;

// ACKs and waits until the server has counted it, so that a change published
// next cannot overtake the ACK (which would then be stale).
void ack_and_wait(ServerFixture& f, DeltaClient& c, const DeltaResponse& r) {
    const auto acks = f.server().counters().acks.load();
    BOOST_REQUIRE(c.ack(r));
    BOOST_REQUIRE(eventually([&] { return f.server().counters().acks.load() > acks; }));
}

Names names_of(const DeltaResponse& r) {
    Names out;
    for (const auto& [name, version] : r.versions) {
        out.push_back(name);
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(wildcard_delta_sends_only_changes_and_announces_removals) {
    const auto* api = api_or_skip();
    if (api == nullptr) {
        return;
    }
    ServerFixture f(*api);
    f.publish(90, 10);
    auto c = f.delta_client();
    BOOST_REQUIRE(c->send({kCds, {}, {}, {}, {}, {}}));  // no names: wildcard for CDS
    auto r1 = c->receive();
    BOOST_REQUIRE(r1);
    BOOST_TEST((names_of(*r1) == Names{"podinfo-canary", "podinfo-primary"}));
    BOOST_TEST(r1->removed.empty());
    BOOST_TEST(!r1->versions.at("podinfo-primary").empty());
    ack_and_wait(f, *c, *r1);

    f.publish(90, 10, "podinfo-extra");
    auto r2 = c->receive();
    BOOST_REQUIRE(r2);
    BOOST_TEST(names_of(*r2) == Names{"podinfo-extra"});  // the others did not change
    BOOST_TEST(r2->system_version != r1->system_version);
    ack_and_wait(f, *c, *r2);

    f.publish(50, 50);  // routes change (not subscribed), podinfo-extra goes
    auto r3 = c->receive();
    BOOST_REQUIRE(r3);
    BOOST_TEST(r3->versions.empty());
    BOOST_TEST(r3->removed == Names{"podinfo-extra"});
    BOOST_REQUIRE(c->ack(*r3));
    BOOST_TEST(!c->receive(kQuiet));
    BOOST_TEST(eventually([&] { return f.server().counters().acks.load() == 3; }));
}

BOOST_AUTO_TEST_CASE(named_delta_subscribe_and_unsubscribe) {
    const auto* api = api_or_skip();
    if (api == nullptr) {
        return;
    }
    ServerFixture f(*api);
    f.publish(90, 10);
    auto c = f.delta_client();
    BOOST_REQUIRE(c->send({kRds, {"podinfo", "absent"}, {}, {}, {}, {}}));
    auto r1 = c->receive();
    BOOST_REQUIRE(r1);
    BOOST_TEST(names_of(*r1) == Names{"podinfo"});
    BOOST_TEST(r1->removed == Names{"absent"});  // told at once that it does not exist
    ack_and_wait(f, *c, *r1);

    f.publish(50, 50);
    auto r2 = c->receive();
    BOOST_REQUIRE(r2);
    BOOST_TEST(names_of(*r2) == Names{"podinfo"});
    BOOST_TEST(r2->versions.at("podinfo") != r1->versions.at("podinfo"));
    ack_and_wait(f, *c, *r2);

    const auto handled = f.server().counters().requests.load();
    BOOST_REQUIRE(c->send({kRds, {}, {"podinfo"}, {}, {}, {}}));
    BOOST_TEST(eventually([&] { return f.server().counters().requests.load() > handled; }));
    f.publish(20, 80);
    BOOST_TEST(!c->receive(kQuiet));  // unsubscribed: no update, no removal
}

BOOST_AUTO_TEST_CASE(a_reconnect_with_initial_versions_gets_only_what_differs) {
    const auto* api = api_or_skip();
    if (api == nullptr) {
        return;
    }
    ServerFixture f(*api);
    f.publish(90, 10, "podinfo-extra");
    std::map<std::string, std::string> held;
    {
        auto c = f.delta_client();
        BOOST_REQUIRE(c->send({kCds, {"*"}, {}, {}, {}, {}}));
        auto r = c->receive();
        BOOST_REQUIRE(r);
        BOOST_TEST(r->versions.size() == 3U);
        held = r->versions;
    }  // the stream ends (a crossover restart, a lost connection)

    // While the client was away: podinfo-extra goes. It reconnects, holding
    // the three clusters, one of them at a version it made up.
    f.publish(90, 10);
    held["podinfo-canary"] = "stale";
    auto c = f.delta_client();
    BOOST_REQUIRE(c->send({kCds, {"*"}, {}, held, {}, {}}));
    auto r = c->receive();
    BOOST_REQUIRE(r);
    BOOST_TEST(names_of(*r) == Names{"podinfo-canary"});
    BOOST_TEST(r->removed == Names{"podinfo-extra"});
    BOOST_REQUIRE(c->ack(*r));
    BOOST_TEST(!c->receive(kQuiet));
}

BOOST_AUTO_TEST_CASE(a_nacked_delta_is_not_resent_and_per_type_delta_services_work) {
    const auto* api = api_or_skip();
    if (api == nullptr) {
        return;
    }
    ServerFixture f(*api);
    f.publish(90, 10);
    auto c = f.delta_client("/envoy.service.endpoint.v3.EndpointDiscoveryService/DeltaEndpoints");
    BOOST_REQUIRE(c->send({"", {"podinfo-primary"}, {}, {}, {}, {}}));
    auto r1 = c->receive();
    BOOST_REQUIRE(r1);
    BOOST_TEST(r1->type_url == kEds);
    BOOST_TEST(names_of(*r1) == Names{"podinfo-primary"});
    BOOST_REQUIRE(c->send({kEds, {}, {}, {}, r1->nonce, "endpoint refused"}));
    BOOST_TEST(eventually([&] { return f.server().counters().nacks.load() == 1; }));
    f.publish(90, 10);
    BOOST_TEST(!c->receive(kQuiet));
}
