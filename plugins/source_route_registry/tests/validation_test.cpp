// Every validation rule of a route: each bad body is refused with an error
// naming the field at fault.
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "route.h"
#include "route_state.h"

using namespace crossover::route_registry;

namespace {

const std::string kGood =
    R"({"domains": ["session-123.example.org"],
        "endpoints": [{"address": "10.1.2.3", "port": 50051}]})";

// A body built from kGood with one member replaced or added.
std::string with(const std::string& member) {
    return R"({"domains": ["session-123.example.org"],
               "endpoints": [{"address": "10.1.2.3", "port": 50051}], )" +
           member + "}";
}

struct Bad {
    std::string body;
    std::string field;
    std::string problem;  // part of the message
};

}  // namespace

BOOST_AUTO_TEST_SUITE(validation)

BOOST_AUTO_TEST_CASE(a_complete_route_is_read_whole) {
    const Route r = parse_route(
        R"({"domains": ["a.example.org", "*.b.example.org", "c.*", "*", "d.example.org:8443",
                        "10.0.0.1", "[::1]:80"],
            "endpoints": [{"address": "10.1.2.3", "port": 50051, "weight": 3},
                          {"address": "fd00::1", "port": 1},
                          {"address": "backend.internal", "port": 65535}],
            "protocol": "grpc", "prefix": "/api/", "timeout": "1m30s",
            "tls": {"sni": "backend.internal"}, "labels": {"team": "games", "example.org/tier": ""}})",
        "user-123");
    BOOST_CHECK_EQUAL(r.name, "user-123");
    BOOST_CHECK_EQUAL(r.domains.size(), 7U);
    BOOST_CHECK_EQUAL(r.endpoints.size(), 3U);
    BOOST_CHECK_EQUAL(r.endpoints[0].weight, 3U);
    BOOST_CHECK(r.protocol == Protocol::Grpc);
    BOOST_CHECK_EQUAL(r.prefix, "/api/");
    BOOST_CHECK_EQUAL(r.timeout->count(), 90000);
    BOOST_CHECK(r.tls);
    BOOST_CHECK_EQUAL(r.sni, "backend.internal");
    BOOST_CHECK_EQUAL(r.labels.at("team"), "games");
    BOOST_CHECK(r.has_host_names());
    // The canonical JSON reads back as the same route.
    BOOST_CHECK(parse_route(to_json_text(route_to_json(r)), "") == r);
}

BOOST_AUTO_TEST_CASE(the_minimal_route_takes_defaults) {
    const Route r = parse_route(kGood, "user-123");
    BOOST_CHECK(r.protocol == Protocol::Http1);
    BOOST_CHECK(r.prefix.empty());
    BOOST_CHECK(!r.timeout);
    BOOST_CHECK(!r.tls);
    BOOST_CHECK(!r.has_host_names());
}

BOOST_AUTO_TEST_CASE(every_rule_names_its_field) {
    const std::vector<Bad> cases = {
        {"not json", "", "invalid JSON"},
        {"[1]", "", "expected a JSON object"},
        {with(R"("colour": 1)"), "colour", "unknown field"},
        {R"({"endpoints": [{"address": "10.1.2.3", "port": 1}]})", "domains", "missing"},
        {R"({"domains": ["a.org"]})", "endpoints", "missing"},
        {R"({"domains": "a.org", "endpoints": []})", "domains", "expected a list"},
        {R"({"domains": [], "endpoints": []})", "domains", "at least one"},
        {R"({"domains": ["A.org"], "endpoints": []})", "domains[0]", "lowercase"},
        {R"({"domains": ["a.org", "a.org"], "endpoints": []})", "domains[1]", "twice"},
        {R"({"domains": ["a..org"], "endpoints": []})", "domains[0]", "empty label"},
        {R"({"domains": ["-a.org"], "endpoints": []})", "domains[0]", "'-'"},
        {R"({"domains": ["a.*.org"], "endpoints": []})", "domains[0]", "only at the start or"},
        {R"({"domains": ["**"], "endpoints": []})", "domains[0]", "only at the start or"},
        {R"({"domains": ["a_b.org"], "endpoints": []})", "domains[0]", "lowercase letters"},
        {R"({"domains": ["a.org:0"], "endpoints": []})", "domains[0]", "invalid port"},
        {R"({"domains": ["a.org:99999"], "endpoints": []})", "domains[0]", "invalid port"},
        {R"({"domains": ["[zz]:80"], "endpoints": []})", "domains[0]", "IPv6"},
        {R"({"domains": ["1.2.3.999"], "endpoints": []})", "domains[0]", "IPv4"},
        {R"({"domains": [5], "endpoints": []})", "domains[0]", "expected a string"},
        {R"({"domains": ["a.org"], "endpoints": []})", "endpoints", "at least one"},
        {R"({"domains": ["a.org"], "endpoints": [5]})", "endpoints[0]", "expected an object"},
        {R"({"domains": ["a.org"], "endpoints": [{"port": 1}]})", "endpoints[0].address",
         "missing"},
        {R"({"domains": ["a.org"], "endpoints": [{"address": "10.1.2.3"}]})", "endpoints[0].port",
         "missing"},
        {R"({"domains": ["a.org"], "endpoints": [{"address": "10.1.2", "port": 1}]})",
         "endpoints[0].address", "IPv4"},
        {R"({"domains": ["a.org"], "endpoints": [{"address": "fe80::zz", "port": 1}]})",
         "endpoints[0].address", "IPv6"},
        {R"({"domains": ["a.org"], "endpoints": [{"address": "bad_host", "port": 1}]})",
         "endpoints[0].address", "host name"},
        {R"({"domains": ["a.org"], "endpoints": [{"address": "", "port": 1}]})",
         "endpoints[0].address", "empty"},
        {R"({"domains": ["a.org"], "endpoints": [{"address": "10.1.2.3", "port": 0}]})",
         "endpoints[0].port", "out of range 1 to 65535"},
        {R"({"domains": ["a.org"], "endpoints": [{"address": "10.1.2.3", "port": 65536}]})",
         "endpoints[0].port", "out of range 1 to 65535"},
        {R"({"domains": ["a.org"], "endpoints": [{"address": "10.1.2.3", "port": "80"}]})",
         "endpoints[0].port", "expected an integer"},
        {R"({"domains": ["a.org"], "endpoints": [{"address": "10.1.2.3", "port": 8.5}]})",
         "endpoints[0].port", "expected an integer"},
        {R"({"domains": ["a.org"], "endpoints": [{"address": "10.1.2.3", "port": 1, "weight": 0}]})",
         "endpoints[0].weight", "out of range"},
        {R"({"domains": ["a.org"], "endpoints": [{"address": "10.1.2.3", "port": 1, "zone": "a"}]})",
         "endpoints[0].zone", "unknown field"},
        {R"({"domains": ["a.org"], "endpoints": [{"address": "10.1.2.3", "port": 1},
                                                 {"address": "10.1.2.3", "port": 1}]})",
         "endpoints[1]", "same endpoint"},
        {with(R"("protocol": "http3")"), "protocol", "expected one of http1, http2, grpc"},
        {with(R"("protocol": 2)"), "protocol", "expected a string"},
        {with(R"("prefix": "api")"), "prefix", "must start with '/'"},
        {with(R"("prefix": "/a b")"), "prefix", "spaces"},
        {with(R"("prefix": "/a?b")"), "prefix", "'?'"},
        {with(R"("timeout": "soon")"), "timeout", "not a duration"},
        {with(R"("timeout": 15)"), "timeout", "expected a string"},
        {with(R"("timeout": "25h")"), "timeout", "longer than 24h"},
        {with(R"("tls": true)"), "tls", "expected an object"},
        {with(R"("tls": {"sni": "Bad Name"})"), "tls.sni", "lowercase letters"},
        {with(R"("tls": {"verify": true})"), "tls.verify", "unknown field"},
        {with(R"("labels": [])"), "labels", "expected an object"},
        {with(R"("labels": {"-bad": "x"})"), "labels[\"-bad\"]", "label key"},
        {with(R"("labels": {"team": "a b"})"), "labels[\"team\"]", "label value"},
        {with(R"("labels": {"team": 5})"), "labels[\"team\"]", "expected a string"},
        {with(R"("name": "other")"), "name", "differs from the name in the URL"},
        {with(R"("name": "user-123", "id": "user-124")"), "id", "differs"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.body) {
            try {
                (void)parse_route(c.body, "user-123");
                BOOST_ERROR("accepted");
            } catch (const InvalidRoute& e) {
                BOOST_CHECK_EQUAL(e.field(), c.field);
                BOOST_CHECK_MESSAGE(std::string(e.what()).find(c.problem) != std::string::npos,
                                    e.what());
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(route_names_are_dns_1123) {
    for (const std::string& bad :
         std::vector<std::string>{"", "User", "a_b", "-a", "a-", std::string(254, 'a')}) {
        BOOST_CHECK_THROW(check_route_name(bad), InvalidRoute);
    }
    for (const std::string& good :
         std::vector<std::string>{"a", "user-123", "a.b-c", std::string(253, 'a')}) {
        BOOST_CHECK_NO_THROW(check_route_name(good));
    }
    // A body without a URL name must carry one.
    BOOST_CHECK_THROW(parse_route(kGood, ""), InvalidRoute);
    BOOST_CHECK_EQUAL(parse_route(with(R"("id": "task-7")"), "").name, "task-7");
}

BOOST_AUTO_TEST_CASE(limits_are_enforced) {
    RouteLimits limits;
    limits.max_endpoints = 1;
    try {
        (void)parse_route(
            R"({"domains": ["a.org"], "endpoints": [{"address": "10.0.0.1", "port": 1},
                              {"address": "10.0.0.2", "port": 1}]})",
            "x", limits);
        BOOST_ERROR("accepted");
    } catch (const InvalidRoute& e) {
        BOOST_CHECK_EQUAL(e.field(), "endpoints");
    }
}

BOOST_AUTO_TEST_CASE(a_domain_belongs_to_one_route) {
    RouteState state;
    Route a = parse_route(kGood, "a");
    state.put(a);
    Route b = parse_route(kGood, "b");
    try {
        state.check_put(b, {});
        BOOST_ERROR("accepted");
    } catch (const Refused& e) {
        BOOST_CHECK_EQUAL(e.status(), 409);
        BOOST_CHECK_MESSAGE(std::string(e.what()).find("belongs to route 'a'") != std::string::npos,
                            e.what());
    }
    // The owner may keep it; once it lets go another route may take it.
    BOOST_CHECK_NO_THROW(state.check_put(a, {}));
    state.remove("a");
    BOOST_CHECK_NO_THROW(state.check_put(b, {}));
}

BOOST_AUTO_TEST_CASE(preconditions) {
    RouteState state;
    const Route a = parse_route(kGood, "a");
    Precondition must_exist;
    must_exist.if_match = "*";
    BOOST_CHECK_THROW(state.check_put(a, must_exist), Refused);
    state.put(a);
    const auto version = state.find("a")->version;
    Precondition stale;
    stale.if_match = etag(version + 1);
    BOOST_CHECK_THROW(state.check_put(a, stale), Refused);
    Precondition fresh;
    fresh.if_match = etag(version);
    BOOST_CHECK_NO_THROW(state.check_put(a, fresh));
    Precondition create_only;
    create_only.if_none_match_any = true;
    BOOST_CHECK_THROW(state.check_put(a, create_only), Refused);
    BOOST_CHECK_THROW(state.check_delete("missing", {}), Refused);
    BOOST_CHECK_THROW(state.check_delete("a", stale), Refused);
    BOOST_CHECK_EQUAL(parse_etag("W/\"12\"").value_or(0), 12U);
    BOOST_CHECK(!parse_etag("\"x\""));
}

BOOST_AUTO_TEST_SUITE_END()
