// The state-of-the-world protocol of one stream, without a transport.
#define BOOST_TEST_MODULE sink_xds_server_protocol
#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "resources.h"
#include "sotw_protocol.h"

using namespace crossover::xds_server;

namespace {

ResourcePtr make(std::string_view type, const std::string& name, const std::string& value) {
    auto r = std::make_shared<Resource>();
    r->name = name;
    r->type_url = std::string(type);
    r->value = value;
    r->version = content_version(value);
    return r;
}

std::vector<std::string> names(const DueResponse& d) {
    std::vector<std::string> out;
    for (const auto& r : d.selected) {
        out.push_back(r->name);
    }
    return out;
}

Request request(std::string_view type, std::vector<std::string> resource_names,
                const std::string& nonce = {}) {
    Request r;
    r.type_url = std::string(type);
    r.resource_names = std::move(resource_names);
    r.response_nonce = nonce;
    return r;
}

Request nack(std::string_view type, std::vector<std::string> resource_names,
             const std::string& nonce) {
    Request r = request(type, std::move(resource_names), nonce);
    r.has_error = true;
    r.error_message = "bad";
    return r;
}

ResourceSet base(const std::string& weight = "90") {
    return ResourceSet({make(kClusterType, "a", "ca"), make(kClusterType, "b", "cb"),
                        make(kRouteType, "r1", "route " + weight), make(kRouteType, "r2", "r2"),
                        make(kListenerType, "l", "l"), make(kEndpointType, "a", "ea")});
}

}  // namespace

BOOST_AUTO_TEST_CASE(wildcard_cds_gets_everything_once_and_again_only_on_change) {
    SotwProtocol p;
    const ResourceSet s1 = base();
    BOOST_TEST(static_cast<int>(p.on_request(request(kClusterType, {})).kind) ==
               static_cast<int>(RequestKind::Subscribe));
    auto d = p.next(s1);
    BOOST_REQUIRE(d);
    BOOST_TEST(d->type_url == std::string(kClusterType));
    BOOST_TEST(d->all);
    BOOST_TEST(d->version == s1.type(kClusterType).version);
    BOOST_TEST(!p.next(s1));  // nothing else subscribed

    const auto ack = p.on_request(request(kClusterType, {}, d->nonce));
    BOOST_TEST(static_cast<int>(ack.kind) == static_cast<int>(RequestKind::Ack));
    BOOST_TEST(ack.version == d->version);
    BOOST_TEST(p.acked_version(std::string(kClusterType)) == d->version);
    BOOST_TEST(!p.next(s1));

    // The same content again (a new set object): same version, nothing sent.
    const ResourceSet same = base();
    BOOST_TEST(same.type(kClusterType).version == s1.type(kClusterType).version);
    BOOST_TEST(!p.next(same));

    // A cluster changes: a new version, a fresh nonce.
    const ResourceSet s2({make(kClusterType, "a", "ca2"), make(kClusterType, "b", "cb")});
    BOOST_TEST(s2.type(kClusterType).version != s1.type(kClusterType).version);
    auto d2 = p.next(s2);
    BOOST_REQUIRE(d2);
    BOOST_TEST(d2->version == s2.type(kClusterType).version);
    BOOST_TEST(d2->nonce != d->nonce);
}

BOOST_AUTO_TEST_CASE(named_subscription_gets_only_its_resources_and_ignores_others_changes) {
    SotwProtocol p;
    p.on_request(request(kRouteType, {"r1", "missing"}));
    auto d = p.next(base("90"));
    BOOST_REQUIRE(d);
    BOOST_TEST(!d->all);
    BOOST_TEST(names(*d) == std::vector<std::string>{"r1"});
    p.on_request(request(kRouteType, {"r1", "missing"}, d->nonce));

    // r2 changes: the type's version moves, but this stream's view does not.
    const ResourceSet other({make(kRouteType, "r1", "route 90"), make(kRouteType, "r2", "new")});
    BOOST_TEST(other.type(kRouteType).version != base("90").type(kRouteType).version);
    BOOST_TEST(!p.next(other));

    // r1 changes: pushed.
    auto d2 = p.next(base("50"));
    BOOST_REQUIRE(d2);
    BOOST_TEST(names(*d2) == std::vector<std::string>{"r1"});

    // Subscription change mid-stream (with the latest nonce): answered at once.
    p.on_request(request(kRouteType, {"r1", "r2"}, d2->nonce));
    auto d3 = p.next(base("50"));
    BOOST_REQUIRE(d3);
    BOOST_TEST((names(*d3) == std::vector<std::string>{"r1", "r2"}));
}

BOOST_AUTO_TEST_CASE(empty_names_for_routes_are_not_a_wildcard) {
    SotwProtocol p;
    p.on_request(request(kRouteType, {}));
    BOOST_TEST(!p.next(base()));
    p.on_request(request(kRouteType, {"*"}));
    auto d = p.next(base());
    BOOST_REQUIRE(d);
    BOOST_TEST(d->all);
}

BOOST_AUTO_TEST_CASE(nacked_version_is_not_resent_until_it_changes) {
    SotwProtocol p;
    const ResourceSet s1 = base("90");
    p.on_request(request(kRouteType, {"r1"}));
    auto d = p.next(s1);
    BOOST_REQUIRE(d);
    const auto n = p.on_request(nack(kRouteType, {"r1"}, d->nonce));
    BOOST_TEST(static_cast<int>(n.kind) == static_cast<int>(RequestKind::Nack));
    BOOST_TEST(n.version == d->version);
    BOOST_TEST(p.acked_version(std::string(kRouteType)).empty());
    BOOST_TEST(!p.next(s1));
    BOOST_TEST(!p.next(base("90")));  // republished unchanged
    auto d2 = p.next(base("10"));
    BOOST_REQUIRE(d2);
    BOOST_TEST(d2->version != d->version);
}

BOOST_AUTO_TEST_CASE(stale_nonces_are_ignored_entirely) {
    SotwProtocol p;
    p.on_request(request(kRouteType, {"r1"}));
    auto d1 = p.next(base("90"));
    BOOST_REQUIRE(d1);
    auto d2 = p.next(base("10"));
    BOOST_REQUIRE(d2);
    // The client answers the first response after the second was sent: stale,
    // its NACK and its new subscription are both ignored.
    const auto r = p.on_request(nack(kRouteType, {"r2"}, d1->nonce));
    BOOST_TEST(static_cast<int>(r.kind) == static_cast<int>(RequestKind::Stale));
    BOOST_TEST(!p.next(base("10")));
    // A nonce for a type never sent is stale too, and subscribes to nothing.
    const auto r2 = p.on_request(request(kListenerType, {}, "42"));
    BOOST_TEST(static_cast<int>(r2.kind) == static_cast<int>(RequestKind::Stale));
    BOOST_TEST(p.subscribed_types().size() == 1U);
    BOOST_TEST(!p.next(base("10")));
}

BOOST_AUTO_TEST_CASE(responses_go_out_in_ads_order) {
    SotwProtocol p;
    // Subscribed in the reverse order.
    p.on_request(request(kRouteType, {"r1"}));
    p.on_request(request(kListenerType, {}));
    p.on_request(request(kEndpointType, {"a"}));
    p.on_request(request(kClusterType, {}));
    std::vector<std::string> order;
    const ResourceSet s = base();
    while (auto d = p.next(s)) {
        order.push_back(d->type_url);
    }
    BOOST_TEST(
        (order == std::vector<std::string>{std::string(kClusterType), std::string(kEndpointType),
                                           std::string(kListenerType), std::string(kRouteType)}));
}

BOOST_AUTO_TEST_CASE(an_empty_list_after_names_unsubscribes_and_a_new_one_starts_afresh) {
    SotwProtocol p;
    const ResourceSet s = base();
    p.on_request(request(kListenerType, {"l"}));  // gRPC names listeners
    auto d = p.next(s);
    BOOST_REQUIRE(d);
    BOOST_TEST(names(*d) == std::vector<std::string>{"l"});
    p.on_request(request(kListenerType, {}, d->nonce));  // unsubscribe, not wildcard
    BOOST_TEST(!p.next(s));
    p.on_request(request(kListenerType, {"l"}, d->nonce));
    auto d2 = p.next(s);
    BOOST_REQUIRE(d2);
    BOOST_TEST(names(*d2) == std::vector<std::string>{"l"});
}

BOOST_AUTO_TEST_CASE(the_first_node_is_kept) {
    SotwProtocol p;
    Request r = request(kClusterType, {});
    r.has_node = true;
    r.node.id = "envoy-1";
    r.node.cluster = "ingress";
    p.on_request(r);
    p.on_request(request(kListenerType, {}));
    BOOST_TEST(p.has_node());
    BOOST_TEST(p.node().id == "envoy-1");
}
