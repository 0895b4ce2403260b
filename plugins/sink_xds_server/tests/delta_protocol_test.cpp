// The Delta protocol of one stream, without a transport.
#define BOOST_TEST_MODULE sink_xds_server_delta_protocol
#include <boost/test/unit_test.hpp>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "delta_protocol.h"
#include "resources.h"

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

std::vector<std::string> names(const DueDelta& d) {
    std::vector<std::string> out;
    for (const auto& r : d.changed) {
        out.push_back(r->name);
    }
    return out;
}

Request delta(std::string_view type, std::vector<std::string> subscribe,
              std::vector<std::string> unsubscribe = {}, const std::string& nonce = {}) {
    Request r;
    r.type_url = std::string(type);
    r.subscribe = std::move(subscribe);
    r.unsubscribe = std::move(unsubscribe);
    r.response_nonce = nonce;
    return r;
}

using Strings = std::vector<std::string>;

}  // namespace

BOOST_AUTO_TEST_CASE(wildcard_sends_each_resource_once_then_only_changes_and_removals) {
    DeltaProtocol p;
    p.on_request(delta(kClusterType, {}));
    const ResourceSet s1({make(kClusterType, "a", "1"), make(kClusterType, "b", "1")});
    auto d = p.next(s1);
    BOOST_REQUIRE(d);
    BOOST_TEST((names(*d) == Strings{"a", "b"}));
    BOOST_TEST(d->removed.empty());
    BOOST_TEST(d->system_version == s1.type(kClusterType).version);
    BOOST_TEST(!p.next(s1));
    BOOST_TEST(p.client_version(std::string(kClusterType), "a") == content_version("1"));

    const ResourceSet s2({make(kClusterType, "a", "2"), make(kClusterType, "c", "1")});
    auto d2 = p.next(s2);
    BOOST_REQUIRE(d2);
    BOOST_TEST((names(*d2) == Strings{"a", "c"}));  // b unchanged would not be sent; it is gone
    BOOST_TEST(d2->removed == Strings{"b"});
    BOOST_TEST(d2->nonce != d->nonce);
    BOOST_TEST(!p.next(s2));
}

BOOST_AUTO_TEST_CASE(named_subscriptions_and_missing_names) {
    DeltaProtocol p;
    p.on_request(delta(kEndpointType, {"a", "missing"}));
    const ResourceSet s1({make(kEndpointType, "a", "1"), make(kEndpointType, "z", "1")});
    auto d = p.next(s1);
    BOOST_REQUIRE(d);
    BOOST_TEST(names(*d) == Strings{"a"});
    BOOST_TEST(d->removed == Strings{"missing"});  // told once that it does not exist
    BOOST_TEST(!p.next(s1));

    const ResourceSet s2({make(kEndpointType, "a", "1"), make(kEndpointType, "missing", "1"),
                          make(kEndpointType, "z", "2")});
    auto d2 = p.next(s2);
    BOOST_REQUIRE(d2);
    BOOST_TEST(names(*d2) == Strings{"missing"});  // z is not subscribed
    BOOST_TEST(d2->removed.empty());

    // Unsubscribed: forgotten, no removal, no further updates.
    p.on_request(delta(kEndpointType, {}, {"a"}, d2->nonce));
    BOOST_TEST(!p.next(s2));
    const ResourceSet s3({make(kEndpointType, "a", "9"), make(kEndpointType, "missing", "1")});
    BOOST_TEST(!p.next(s3));
    // Subscribed again: sent again.
    p.on_request(delta(kEndpointType, {"a"}));
    auto d3 = p.next(s3);
    BOOST_REQUIRE(d3);
    BOOST_TEST(names(*d3) == Strings{"a"});
}

BOOST_AUTO_TEST_CASE(reconnect_with_initial_versions_sends_only_what_differs) {
    const ResourceSet s(
        {make(kClusterType, "a", "1"), make(kClusterType, "b", "2"), make(kClusterType, "c", "3")});
    DeltaProtocol p;
    Request r = delta(kClusterType, {"*"});
    r.initial_versions = {{"a", content_version("1")},  // current
                          {"b", content_version("old")},
                          {"gone", content_version("x")}};
    p.on_request(r);
    auto d = p.next(s);
    BOOST_REQUIRE(d);
    BOOST_TEST((names(*d) == Strings{"b", "c"}));
    BOOST_TEST(d->removed == Strings{"gone"});
}

BOOST_AUTO_TEST_CASE(a_reconnect_holding_everything_still_gets_one_answer) {
    const ResourceSet s({make(kRouteType, "r", "1")});
    DeltaProtocol p;
    Request r = delta(kRouteType, {"r"});
    r.initial_versions = {{"r", content_version("1")}};
    p.on_request(r);
    auto d = p.next(s);
    BOOST_REQUIRE(d);
    BOOST_TEST(d->changed.empty());
    BOOST_TEST(d->removed.empty());
    BOOST_TEST(!p.next(s));
}

BOOST_AUTO_TEST_CASE(nacked_versions_are_not_resent_until_they_change) {
    DeltaProtocol p;
    p.on_request(delta(kClusterType, {}));
    const ResourceSet s1({make(kClusterType, "a", "1")});
    auto d = p.next(s1);
    BOOST_REQUIRE(d);
    Request nack = delta(kClusterType, {}, {}, d->nonce);
    nack.has_error = true;
    BOOST_TEST(static_cast<int>(p.on_request(nack).kind) == static_cast<int>(RequestKind::Nack));
    BOOST_TEST(!p.next(s1));
    const ResourceSet s2({make(kClusterType, "a", "2")});
    auto d2 = p.next(s2);
    BOOST_REQUIRE(d2);
    BOOST_TEST(names(*d2) == Strings{"a"});
    BOOST_TEST(static_cast<int>(p.on_request(delta(kClusterType, {}, {}, d2->nonce)).kind) ==
               static_cast<int>(RequestKind::Ack));
}

BOOST_AUTO_TEST_CASE(stale_nonces_do_not_ack_but_subscriptions_apply) {
    DeltaProtocol p;
    p.on_request(delta(kRouteType, {"a"}));
    const ResourceSet s1({make(kRouteType, "a", "1"), make(kRouteType, "b", "1")});
    auto d1 = p.next(s1);
    BOOST_REQUIRE(d1);
    const ResourceSet s2({make(kRouteType, "a", "2"), make(kRouteType, "b", "1")});
    auto d2 = p.next(s2);
    BOOST_REQUIRE(d2);
    const auto r = p.on_request(delta(kRouteType, {"b"}, {}, d1->nonce));
    BOOST_TEST(static_cast<int>(r.kind) == static_cast<int>(RequestKind::Stale));
    auto d3 = p.next(s2);
    BOOST_REQUIRE(d3);
    BOOST_TEST(names(*d3) == Strings{"b"});
}

BOOST_AUTO_TEST_CASE(delta_responses_follow_the_ads_order) {
    DeltaProtocol p;
    p.on_request(delta(kRouteType, {"r"}));
    p.on_request(delta(kListenerType, {}));
    p.on_request(delta(kEndpointType, {"a"}));
    p.on_request(delta(kClusterType, {}));
    const ResourceSet s({make(kRouteType, "r", "1"), make(kListenerType, "l", "1"),
                         make(kEndpointType, "a", "1"), make(kClusterType, "a", "1")});
    Strings order;
    while (auto d = p.next(s)) {
        order.push_back(d->type_url);
    }
    BOOST_TEST((order == Strings{std::string(kClusterType), std::string(kEndpointType),
                                 std::string(kListenerType), std::string(kRouteType)}));
}
