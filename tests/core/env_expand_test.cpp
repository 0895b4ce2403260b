#include <boost/test/unit_test.hpp>

#include <map>

#include "crossover/options.h"
#include "env_expand.h"

using crossover::core::expand_env;

namespace {

std::map<std::string, std::string> vars = {{"NS", "prod"}, {"EMPTY", ""}};

crossover::core::EnvLookup lookup() {
    return [](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) {
            return std::nullopt;
        }
        return it->second;
    };
}

std::string expand(const std::string& in) {
    std::string out;
    std::string err;
    BOOST_REQUIRE_MESSAGE(expand_env(in, lookup(), out, err), err);
    return out;
}

std::string failure(const std::string& in) {
    std::string out;
    std::string err;
    BOOST_REQUIRE(!expand_env(in, lookup(), out, err));
    return err;
}

}  // namespace

BOOST_AUTO_TEST_CASE(expands_set_variables_and_defaults) {
    BOOST_CHECK_EQUAL(expand("ns-${NS}"), "ns-prod");
    BOOST_CHECK_EQUAL(expand("${MISSING:-fallback}/x"), "fallback/x");
    BOOST_CHECK_EQUAL(expand("${NS:-fallback}"), "prod");
    BOOST_CHECK_EQUAL(expand("${EMPTY:-d}"), "d");
    BOOST_CHECK_EQUAL(expand("${EMPTY}"), "");
    BOOST_CHECK_EQUAL(expand("cost $$5 and $x"), "cost $5 and $x");
    BOOST_CHECK_EQUAL(expand("${MISSING:-}"), "");
}

BOOST_AUTO_TEST_CASE(unset_variable_without_default_is_an_error) {
    BOOST_CHECK_EQUAL(failure("${NOPE}"),
                      "environment variable NOPE is not set (use ${NOPE:-default} to give a "
                      "default)");
    BOOST_CHECK_NE(failure("${NS").find("unterminated"), std::string::npos);
    BOOST_CHECK_NE(failure("${1X}").find("invalid variable name"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(durations) {
    std::chrono::milliseconds d{};
    BOOST_CHECK(crossover::parse_duration("1m30s", d));
    BOOST_CHECK_EQUAL(d.count(), 90000);
    BOOST_CHECK(crossover::parse_duration("250ms", d));
    BOOST_CHECK_EQUAL(d.count(), 250);
    BOOST_CHECK(crossover::parse_duration("1.5s", d));
    BOOST_CHECK_EQUAL(d.count(), 1500);
    BOOST_CHECK(crossover::parse_duration("0", d));
    BOOST_CHECK_EQUAL(d.count(), 0);
    BOOST_CHECK(!crossover::parse_duration("10", d));
    BOOST_CHECK(!crossover::parse_duration("5 s", d));
    BOOST_CHECK(!crossover::parse_duration("s", d));
    BOOST_CHECK(!crossover::parse_duration("", d));
    BOOST_CHECK(!crossover::parse_duration("3d", d));
}
