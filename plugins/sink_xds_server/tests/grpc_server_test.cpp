// The xDS server over gRPC, driven by a client written for the tests: ACK and
// NACK, nonces, wildcard and named subscriptions, ADS order, bad clients.
#define BOOST_TEST_MODULE sink_xds_server_grpc
#include <boost/test/unit_test.hpp>

#include <chrono>
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
const std::string kLds(kListenerType);
const std::string kRds(kRouteType);

// How long a test waits to be sure that no response comes.
constexpr auto kQuiet = 300ms;

}  // namespace

BOOST_AUTO_TEST_CASE(wildcard_and_named_subscriptions_with_acks) {
    const auto* api = api_or_skip();
    if (api == nullptr) {
        return;
    }
    ServerFixture f(*api);
    f.publish(90, 10);
    auto c = f.client();
    BOOST_REQUIRE(c->send({kCds, {}}));
    auto cds = c->receive();
    BOOST_REQUIRE(cds);
    BOOST_TEST(cds->type_url == kCds);
    BOOST_TEST((cds->names == std::vector<std::string>{"podinfo-canary", "podinfo-primary"}));
    BOOST_TEST(!cds->nonce.empty());
    BOOST_TEST(!cds->version.empty());
    BOOST_REQUIRE(c->ack(*cds, {}));

    BOOST_REQUIRE(c->send({kEds, {"podinfo-canary"}}));
    auto eds = c->receive();
    BOOST_REQUIRE(eds);
    BOOST_TEST(eds->type_url == kEds);
    BOOST_TEST(eds->names == std::vector<std::string>{"podinfo-canary"});
    BOOST_TEST(eds->nonce != cds->nonce);
    BOOST_REQUIRE(c->ack(*eds, {"podinfo-canary"}));
    BOOST_TEST(!c->receive(kQuiet));  // ACKs are not answered
    BOOST_TEST(eventually([&] { return f.server().counters().acks.load() == 2; }));
}

BOOST_AUTO_TEST_CASE(version_changes_exactly_when_a_resource_changes) {
    const auto* api = api_or_skip();
    if (api == nullptr) {
        return;
    }
    ServerFixture f(*api);
    f.publish(90, 10);
    auto c = f.client();
    BOOST_REQUIRE(c->send({kRds, {"podinfo"}}));
    auto r1 = c->receive();
    BOOST_REQUIRE(r1);
    BOOST_REQUIRE(c->ack(*r1, {"podinfo"}));

    f.publish(90, 10);  // the same content again
    BOOST_TEST(!c->receive(kQuiet));

    f.publish(50, 50);  // a canary step
    auto r2 = c->receive();
    BOOST_REQUIRE(r2);
    BOOST_TEST(r2->version != r1->version);
    BOOST_TEST(r2->nonce != r1->nonce);
    BOOST_REQUIRE(c->ack(*r2, {"podinfo"}));

    f.publish(90, 10);  // back: the first version again, by content
    auto r3 = c->receive();
    BOOST_REQUIRE(r3);
    BOOST_TEST(r3->version == r1->version);
    BOOST_TEST(r3->nonce != r1->nonce);
}

BOOST_AUTO_TEST_CASE(a_nacked_version_is_not_resent_until_it_changes) {
    const auto* api = api_or_skip();
    if (api == nullptr) {
        return;
    }
    ServerFixture f(*api);
    f.publish(90, 10);
    auto c = f.client();
    SotwRequestSpec first{kCds, {}};
    first.node_id = "sidecar-7";
    BOOST_REQUIRE(c->send(first));
    auto r1 = c->receive();
    BOOST_REQUIRE(r1);
    // gRPC clients NACK with the new version: the error alone decides.
    SotwRequestSpec nack{kCds, {}, r1->version, r1->nonce};
    nack.node_id = "";  // the node of the stream's first request is the one named
    nack.error = "cluster podinfo-canary: unsupported";
    BOOST_REQUIRE(c->send(nack));
    BOOST_TEST(eventually([&] { return f.server().counters().nacks.load() == 1; }));
    BOOST_TEST(eventually(
        [&] { return f.logged("sidecar-7") && f.logged("cluster podinfo-canary: unsupported"); }));
    BOOST_TEST(f.server().counters().acks.load() == 0);
    f.publish(90, 10);
    BOOST_TEST(!c->receive(kQuiet));

    f.publish(90, 10, "podinfo-extra");  // clusters change
    auto r2 = c->receive();
    BOOST_REQUIRE(r2);
    BOOST_TEST(r2->version != r1->version);
    BOOST_TEST(r2->names.size() == 3U);
}

BOOST_AUTO_TEST_CASE(stale_nonces_are_ignored) {
    const auto* api = api_or_skip();
    if (api == nullptr) {
        return;
    }
    ServerFixture f(*api);
    f.publish(90, 10);
    auto c = f.client();
    BOOST_REQUIRE(c->send({kRds, {"podinfo"}}));
    auto r1 = c->receive();
    BOOST_REQUIRE(r1);
    f.publish(50, 50);
    auto r2 = c->receive();
    BOOST_REQUIRE(r2);
    // An answer to the first response, naming another route: stale, ignored.
    BOOST_REQUIRE(c->send({kRds, {"other"}, r1->version, r1->nonce}));
    BOOST_TEST(eventually([&] { return f.server().counters().stale.load() == 1; }));
    BOOST_TEST(!c->receive(kQuiet));
    // The answer to the latest one is taken.
    BOOST_REQUIRE(c->ack(*r2, {"podinfo"}));
    BOOST_TEST(eventually([&] { return f.server().counters().acks.load() == 1; }));
}

BOOST_AUTO_TEST_CASE(subscription_changes_mid_stream) {
    const auto* api = api_or_skip();
    if (api == nullptr) {
        return;
    }
    ServerFixture f(*api);
    f.publish(90, 10, {}, "other");
    auto c = f.client();
    BOOST_REQUIRE(c->send({kRds, {"podinfo"}}));
    auto r1 = c->receive();
    BOOST_REQUIRE(r1);
    BOOST_TEST(r1->names == std::vector<std::string>{"podinfo"});
    BOOST_REQUIRE(c->send({kRds, {"podinfo", "other"}, r1->version, r1->nonce}));
    auto r2 = c->receive();
    BOOST_REQUIRE(r2);
    BOOST_TEST((r2->names == std::vector<std::string>{"other", "podinfo"}));
    BOOST_REQUIRE(c->send({kRds, {"other"}, r2->version, r2->nonce}));
    auto r3 = c->receive();
    BOOST_REQUIRE(r3);
    BOOST_TEST(r3->names == std::vector<std::string>{"other"});
    // A change to the route it no longer watches is not sent.
    BOOST_REQUIRE(c->ack(*r3, {"other"}));
    f.publish(50, 50, {}, "other");
    BOOST_TEST(!c->receive(kQuiet));
}

BOOST_AUTO_TEST_CASE(ads_pushes_changes_in_cds_eds_lds_rds_order) {
    const auto* api = api_or_skip();
    if (api == nullptr) {
        return;
    }
    ServerFixture f(*api);
    auto c = f.client();
    // Subscribed before anything is published, in the reverse order.
    BOOST_REQUIRE(c->send({kRds, {"podinfo"}}));
    BOOST_REQUIRE(c->send({kLds, {}}));
    BOOST_REQUIRE(c->send({kEds, {"podinfo-primary", "podinfo-canary"}}));
    BOOST_REQUIRE(c->send({kCds, {}}));
    BOOST_TEST(eventually([&] { return f.server().counters().requests.load() == 4; }));
    BOOST_TEST(!c->receive(kQuiet));  // nothing to serve yet
    f.publish(90, 10);
    std::vector<std::string> order;
    for (int i = 0; i < 4; ++i) {
        auto r = c->receive();
        BOOST_REQUIRE(r);
        order.push_back(r->type_url);
    }
    BOOST_TEST((order == std::vector<std::string>{kCds, kEds, kLds, kRds}));
}

BOOST_AUTO_TEST_CASE(unknown_type_urls_are_ignored_and_the_stream_goes_on) {
    const auto* api = api_or_skip();
    if (api == nullptr) {
        return;
    }
    ServerFixture f(*api);
    f.publish(90, 10);
    auto c = f.client();
    BOOST_REQUIRE(c->send({"type.googleapis.com/example.Unknown", {}}));
    BOOST_REQUIRE(c->send({"type.googleapis.com/envoy.api.v2.Cluster", {}}));
    BOOST_TEST(eventually([&] { return f.server().counters().unknown_types.load() == 2; }));
    BOOST_TEST(f.logged("example.Unknown"));
    BOOST_REQUIRE(c->send({kCds, {}}));
    auto r = c->receive();
    BOOST_REQUIRE(r);
    BOOST_TEST(r->type_url == kCds);
}

BOOST_AUTO_TEST_CASE(garbage_ends_that_stream_only) {
    const auto* api = api_or_skip();
    if (api == nullptr) {
        return;
    }
    ServerFixture f(*api);
    f.publish(90, 10);
    auto good = f.client();
    BOOST_REQUIRE(good->send({kCds, {}}));
    BOOST_REQUIRE(good->receive());

    auto bad = f.client();
    BOOST_REQUIRE(bad->raw().send(std::string("\xff\xff\xff\xff garbage", 13)));
    BOOST_TEST(!bad->raw().read(10s));
    const grpc::Status status = bad->raw().finish();
    BOOST_TEST(static_cast<int>(status.error_code()) ==
               static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
    BOOST_TEST(f.server().counters().bad_requests.load() == 1);

    f.publish(50, 50, "podinfo-extra");
    auto r = good->receive();
    BOOST_REQUIRE(r);
    BOOST_TEST(r->names.size() == 3U);
}

BOOST_AUTO_TEST_CASE(a_client_that_never_reads_does_not_hold_up_the_others) {
    const auto* api = api_or_skip();
    if (api == nullptr) {
        return;
    }
    ServerFixture f(*api);
    f.publish(90, 10);
    // A client with a fixed 64 KiB window (no BDP probing), as a slow or
    // stuck peer has: its transport stops accepting data once that is full.
    grpc::ChannelArguments narrow;
    narrow.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    narrow.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    narrow.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 65536);
    narrow.SetMaxReceiveMessageSize(64 << 20);
    auto stuck = std::make_unique<SotwClient>(
        grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(f.server().port()),
                                  grpc::InsecureChannelCredentials(), narrow),
        f.messages());
    BOOST_REQUIRE(stuck->send({kCds, {}}));
    BOOST_REQUIRE(stuck->send({kRds, {"podinfo"}}));
    auto good = f.client();
    BOOST_REQUIRE(good->send({kRds, {"podinfo"}}));
    auto first = good->receive();
    BOOST_REQUIRE(first);
    BOOST_REQUIRE(good->ack(*first, {"podinfo"}));
    // Many changes with big clusters: the stuck stream's window fills, the
    // good client still sees every step (the last one at least).
    const std::string big(50000, 'x');
    for (int step = 1; step <= 60; ++step) {
        f.publish(100 - step, step, "big-" + big + std::to_string(step));
        auto r = good->receive();
        BOOST_REQUIRE(r);
        BOOST_REQUIRE(good->ack(*r, {"podinfo"}));
    }
    BOOST_TEST(f.server().counters().streams_open.load() == 2);
    // The stuck stream holds one response (its flow-control window is full),
    // not one per change: 60 changes of ~50 KB each went to the good client.
    BOOST_TEST(eventually([&] { return f.server().counters().writes_in_flight.load() == 1; }));
    BOOST_TEST(f.server().counters().responses.load() < 2 + 61 + 10);
}

BOOST_AUTO_TEST_CASE(streams_opened_and_closed_rapidly_leave_nothing_behind) {
    const auto* api = api_or_skip();
    if (api == nullptr) {
        return;
    }
    ServerFixture f(*api);
    f.publish(90, 10);
    auto channel = channel_to(f.server().port());  // one connection, many streams
    for (int round = 0; round < 10; ++round) {
        std::vector<std::unique_ptr<SotwClient>> clients;
        for (int i = 0; i < 20; ++i) {
            clients.push_back(std::make_unique<SotwClient>(channel, f.messages()));
            BOOST_REQUIRE(clients.back()->send({kCds, {}}));
        }
        for (std::size_t i = 0; i < clients.size(); i += 2) {
            BOOST_REQUIRE(clients[i]->receive());  // half read, half never do
        }
    }  // each client cancels its stream here
    BOOST_TEST(eventually([&] { return f.server().counters().streams_open.load() == 0; }));
    BOOST_TEST(f.server().counters().streams_total.load() == 200);
    // The server still serves.
    auto c = f.client();
    BOOST_REQUIRE(c->send({kCds, {}}));
    BOOST_REQUIRE(c->receive());
}

BOOST_AUTO_TEST_CASE(max_streams_refuses_the_stream_above_the_limit) {
    const auto* api = api_or_skip();
    if (api == nullptr) {
        return;
    }
    ServerFixture f(*api, 2);
    f.publish(90, 10);
    auto a = f.client();
    auto b = f.client();
    BOOST_REQUIRE(a->send({kCds, {}}));
    BOOST_REQUIRE(b->send({kCds, {}}));
    BOOST_REQUIRE(a->receive());
    BOOST_REQUIRE(b->receive());
    auto c = f.client();
    c->send({kCds, {}});
    BOOST_TEST(!c->receive(10s));
    const grpc::Status status = c->raw().finish();
    BOOST_TEST(static_cast<int>(status.error_code()) ==
               static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED));
    BOOST_TEST(f.server().counters().streams_refused.load() == 1);
}

BOOST_AUTO_TEST_CASE(per_type_services_serve_their_type) {
    const auto* api = api_or_skip();
    if (api == nullptr) {
        return;
    }
    ServerFixture f(*api);
    f.publish(90, 10);
    auto c = f.client("/envoy.service.cluster.v3.ClusterDiscoveryService/StreamClusters");
    BOOST_REQUIRE(c->send({"", {}}));  // the type is the service's
    auto r = c->receive();
    BOOST_REQUIRE(r);
    BOOST_TEST(r->type_url == kCds);
    BOOST_TEST(r->names.size() == 2U);
    BOOST_REQUIRE(c->send({kRds, {"podinfo"}}));  // another type on it: ignored
    BOOST_TEST(!c->receive(kQuiet));

    auto u = f.client("/envoy.service.discovery.v3.Unknown/Method");
    u->send({kCds, {}});
    BOOST_TEST(!u->receive(10s));
    BOOST_TEST(static_cast<int>(u->raw().finish().error_code()) ==
               static_cast<int>(grpc::StatusCode::UNIMPLEMENTED));
}

BOOST_AUTO_TEST_CASE(fetch_answers_one_request_with_the_current_resources) {
    const auto* api = api_or_skip();
    if (api == nullptr) {
        return;
    }
    ServerFixture f(*api);
    const std::string clusters = "/envoy.service.cluster.v3.ClusterDiscoveryService/FetchClusters";
    const std::string routes = "/envoy.service.route.v3.RouteDiscoveryService/FetchRoutes";
    const auto fetch = [&](const std::string& method, const SotwRequestSpec& spec) {
        return unary_call(f.channel(), method, f.messages().request(spec));
    };
    // Nothing published yet.
    const auto early = fetch(clusters, {"", {}});
    BOOST_TEST(static_cast<int>(early.status.error_code()) ==
               static_cast<int>(grpc::StatusCode::UNAVAILABLE));

    f.publish(90, 10);
    auto all = fetch(clusters, {"", {}});  // the type is the service's; CDS is wildcard
    BOOST_REQUIRE_MESSAGE(all.status.ok(), all.status.error_message());
    const auto cds = f.messages().response(all.response);
    BOOST_TEST(cds.type_url == kCds);
    BOOST_TEST(cds.names.size() == 2U);
    BOOST_TEST(!cds.version.empty());

    auto named = fetch(routes, {kRds, {"podinfo", "absent"}});
    BOOST_REQUIRE_MESSAGE(named.status.ok(), named.status.error_message());
    const auto rds = f.messages().response(named.response);
    BOOST_TEST(rds.names == std::vector<std::string>{"podinfo"});
    BOOST_TEST(rds.messages.at(0)->ShortDebugString().find("weight { value: 90 }") !=
               std::string::npos);

    // A change: the next fetch has it, with a new version.
    f.publish(50, 50);
    const auto rds2 = f.messages().response(fetch(routes, {kRds, {"podinfo"}}).response);
    BOOST_TEST(rds2.version != rds.version);
    BOOST_TEST(rds2.messages.at(0)->ShortDebugString().find("weight { value: 50 }") !=
               std::string::npos);

    // Another type on a service, and garbage: refused, the server goes on.
    const auto wrong = fetch(clusters, {kRds, {"podinfo"}});
    BOOST_TEST(static_cast<int>(wrong.status.error_code()) ==
               static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
    BOOST_TEST(wrong.status.error_message().find("on the service for") != std::string::npos);
    const auto garbage = unary_call(f.channel(), clusters, std::string("\xff\xff\xff\x0f", 4));
    BOOST_TEST(static_cast<int>(garbage.status.error_code()) ==
               static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
    BOOST_TEST(fetch(clusters, {"", {}}).status.ok());
    // Fetch calls are not streams.
    BOOST_TEST(f.server().counters().streams_total.load() == 0);
}
