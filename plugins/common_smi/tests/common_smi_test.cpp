#define BOOST_TEST_MODULE common_smi
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <string>

#include "crossover/status.h"
#include "crossover_smi/quantity.h"
#include "crossover_smi/trafficsplit.h"

using crossover::Error;
using crossover::Object;
using namespace crossover::smi;

namespace {

std::string fixtures() {
    const char* dir = std::getenv("CROSSOVER_FIXTURES");
    BOOST_REQUIRE_MESSAGE(dir != nullptr, "CROSSOVER_FIXTURES is not set");
    return dir;
}

Object load_object(const std::string& relative) {
    Object o;
    o.body = YAML::LoadFile(fixtures() + "/" + relative);
    o.ref.kind = o.body["kind"].as<std::string>();
    return o;
}

Object object_from_text(const std::string& text) {
    Object o;
    o.body = YAML::Load(text);
    return o;
}

std::string error_of(const std::function<void()>& body) {
    try {
        body();
    } catch (const Error& e) {
        return e.what();
    }
    return "<no error>";
}

std::vector<std::uint32_t> weights_of(std::initializer_list<const char*> texts) {
    std::vector<Quantity> qs;
    for (const char* t : texts) {
        qs.push_back(parse_quantity(t));
    }
    return quantities_to_weights(qs);
}

using W = std::vector<std::uint32_t>;

}  // namespace

BOOST_AUTO_TEST_CASE(quantity_grammar) {
    BOOST_TEST(parse_quantity("100").to_string() == "100");
    BOOST_TEST(parse_quantity("500m").to_string() == "0.5");
    BOOST_TEST(parse_quantity("1.5").to_string() == "1.5");
    BOOST_TEST(parse_quantity("2k").to_string() == "2000");
    BOOST_TEST(parse_quantity("1Ki").to_string() == "1*2^10");
    BOOST_TEST(parse_quantity("1.5Mi").to_string() == "1.5*2^20");
    BOOST_TEST(parse_quantity("1e3").to_string() == "1000");
    BOOST_TEST(parse_quantity("1E-3").to_string() == "0.001");
    BOOST_TEST(parse_quantity("1e+2").to_string() == "100");
    BOOST_TEST(parse_quantity("-1").to_string() == "-1");
    BOOST_TEST(parse_quantity("-1").negative);
    BOOST_TEST(parse_quantity("+5").to_string() == "5");
    BOOST_TEST(parse_quantity(".5").to_string() == "0.5");
    BOOST_TEST(parse_quantity("5.").to_string() == "5");
    BOOST_TEST(parse_quantity("007").to_string() == "7");
    BOOST_TEST(parse_quantity("3n").to_string() == "0.000000003");
    BOOST_TEST(parse_quantity("3u").to_string() == "0.000003");
    BOOST_TEST(parse_quantity("1M").to_string() == "1000000");
    BOOST_TEST(parse_quantity("1G").exp10 == 9);
    BOOST_TEST(parse_quantity("1T").exp10 == 12);
    BOOST_TEST(parse_quantity("1P").exp10 == 15);
    BOOST_TEST(parse_quantity("1E").exp10 == 18);
    BOOST_TEST(parse_quantity("1Mi").exp2 == 20);
    BOOST_TEST(parse_quantity("1Gi").exp2 == 30);
    BOOST_TEST(parse_quantity("1Ti").exp2 == 40);
    BOOST_TEST(parse_quantity("1Pi").exp2 == 50);
    BOOST_TEST(parse_quantity("1Ei").exp2 == 60);
    BOOST_TEST(parse_quantity("-0").to_string() == "0");
    BOOST_TEST(!parse_quantity("-0").negative);
    BOOST_TEST(parse_quantity("0.000m").is_zero());
    // 38 significant digits are exact.
    BOOST_TEST(parse_quantity("12345678901234567890123456789012345678").to_string() ==
               "12345678901234567890123456789012345678");
    BOOST_TEST(to_decimal(parse_quantity("1500m").mantissa) == "15");
    BOOST_TEST(parse_quantity("1500m").exp10 == -1);
}

BOOST_AUTO_TEST_CASE(quantity_rejects_bad_input) {
    BOOST_TEST(error_of([] { parse_quantity(""); }) == "invalid quantity '': empty");
    BOOST_TEST(error_of([] { parse_quantity("abc"); }) ==
               "invalid quantity 'abc': expected a number (digits with an optional sign and "
               "decimal point)");
    BOOST_TEST(error_of([] { parse_quantity("-"); }).find("expected a number") !=
               std::string::npos);
    BOOST_TEST(error_of([] { parse_quantity("."); }).find("expected a number") !=
               std::string::npos);
    BOOST_TEST(error_of([] { parse_quantity("5x"); }) ==
               "invalid quantity '5x': unknown suffix 'x' (expected one of n u m k M G T P E Ki "
               "Mi Gi Ti Pi Ei or an exponent)");
    BOOST_TEST(error_of([] { parse_quantity("5 "); }).find("unknown suffix ' '") !=
               std::string::npos);
    BOOST_TEST(error_of([] { parse_quantity(" 5"); }).find("expected a number") !=
               std::string::npos);
    BOOST_TEST(error_of([] { parse_quantity("5K"); }).find("unknown suffix 'K'") !=
               std::string::npos);
    BOOST_TEST(error_of([] { parse_quantity("5ki"); }).find("unknown suffix 'ki'") !=
               std::string::npos);
    BOOST_TEST(error_of([] { parse_quantity("1e"); }) ==
               "invalid quantity '1e': exponent 'e' has no digits");
    BOOST_TEST(error_of([] { parse_quantity("1e-"); }) ==
               "invalid quantity '1e-': exponent 'e-' has no digits");
    BOOST_TEST(error_of([] { parse_quantity("1e3.5"); }).find("unknown suffix 'e3.5'") !=
               std::string::npos);
    BOOST_TEST(error_of([] { parse_quantity("1.2.3"); }).find("unknown suffix '.3'") !=
               std::string::npos);
    BOOST_TEST(error_of([] { parse_quantity("1e999999"); }) ==
               "invalid quantity '1e999999': exponent out of range");
    BOOST_TEST(error_of([] { parse_quantity("--1"); }).find("expected a number") !=
               std::string::npos);
    BOOST_TEST(error_of([] { parse_quantity("123456789012345678901234567890123456789"); }) ==
               "invalid quantity '123456789012345678901234567890123456789': more than 38 "
               "significant digits cannot be represented exactly");
}

BOOST_AUTO_TEST_CASE(weights_keep_ratios_exactly) {
    BOOST_TEST(weights_of({"5", "95"}) == (W{5, 95}), boost::test_tools::per_element());
    BOOST_TEST(weights_of({"0", "100"}) == (W{0, 100}), boost::test_tools::per_element());
    BOOST_TEST(weights_of({"500m", "1500m"}) == (W{1, 3}), boost::test_tools::per_element());
    BOOST_TEST(weights_of({"1.5", "0.25"}) == (W{6, 1}), boost::test_tools::per_element());
    BOOST_TEST(weights_of({"1Ki", "500m"}) == (W{2048, 1}), boost::test_tools::per_element());
    BOOST_TEST(weights_of({"2k", "1e3"}) == (W{2000, 1000}), boost::test_tools::per_element());
    BOOST_TEST(weights_of({"1E-3", "2m"}) == (W{1, 2}), boost::test_tools::per_element());
    BOOST_TEST(weights_of({"333m", "0", "667m"}) == (W{333, 0, 667}),
               boost::test_tools::per_element());
    BOOST_TEST(weights_of({"0", "0"}) == (W{0, 0}), boost::test_tools::per_element());
    // Whole numbers too large for uint32 are reduced to the same ratio.
    BOOST_TEST(weights_of({"1Ei", "2Ei"}) == (W{1, 2}), boost::test_tools::per_element());
    BOOST_TEST(weights_of({"4G", "1G"}) == (W{4, 1}), boost::test_tools::per_element());
    BOOST_TEST(weights_of({"4294967295", "0"}) == (W{4294967295u, 0}),
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(weights_refuse_what_envoy_cannot_hold) {
    BOOST_TEST(error_of([] { weights_of({"1", "-1"}); }) == "weight [1] is negative (-1)");
    BOOST_TEST(error_of([] {
                   weights_of({"1", "1e10"});
               }) ==
               "the weights' exact ratio needs integer weights summing to more than 4294967295, "
               "Envoy's limit");
    BOOST_TEST(error_of([] {
                   weights_of({"4294967295", "1"});
               }).find("Envoy's limit") != std::string::npos);
    BOOST_TEST(error_of([] {
                   weights_of({"1n", "1e50"});
               }) ==
               "the weights' exact ratio cannot be expressed in Envoy's 32-bit weights (values "
               "differ by too many orders of magnitude)");
}

BOOST_AUTO_TEST_CASE(fixture_flagger_v1alpha1) {
    const auto ts = parse_trafficsplit(load_object("trafficsplit/flagger-v1alpha1.yaml"));
    BOOST_TEST(ts.describe() == "TrafficSplit test/podinfo");
    BOOST_TEST(ts.version == "v1alpha1");
    BOOST_TEST(ts.service == "podinfo");
    BOOST_REQUIRE(ts.backends.size() == 2u);
    BOOST_TEST(ts.backends[0].service == "podinfo-canary");
    BOOST_TEST(ts.backends[0].weight == 5u);
    BOOST_TEST(ts.backends[0].weight_text == "5");
    BOOST_TEST(ts.backends[1].service == "podinfo-primary");
    BOOST_TEST(ts.backends[1].weight == 95u);
    BOOST_TEST(ts.matches.IsNull());
}

BOOST_AUTO_TEST_CASE(fixture_quantity_milli) {
    const auto ts = parse_trafficsplit(load_object("trafficsplit/quantity-milli-v1alpha1.yaml"));
    BOOST_REQUIRE(ts.backends.size() == 2u);
    BOOST_TEST(ts.backends[0].weight == 1u);
    BOOST_TEST(ts.backends[1].weight == 3u);
    BOOST_TEST(ts.backends[1].weight_text == "1500m");
    BOOST_TEST(ts.total_weight() == 4u);
}

BOOST_AUTO_TEST_CASE(fixture_v1alpha2) {
    const auto ts = parse_trafficsplit(load_object("trafficsplit/v1alpha2.yaml"));
    BOOST_TEST(ts.describe() == "TrafficSplit default/podinfo");
    BOOST_TEST(ts.api_version == "split.smi-spec.io/v1alpha2");
    BOOST_REQUIRE(ts.backends.size() == 2u);
    BOOST_TEST(ts.backends[0].service == "eerie-octopus-podinfo");
    BOOST_TEST(ts.backends[0].weight == 25u);
    BOOST_TEST(ts.backends[1].service == "bold-olm-podinfo");
    BOOST_TEST(ts.backends[1].weight == 75u);
}

BOOST_AUTO_TEST_CASE(fixture_v1alpha3_matches) {
    const auto ts = parse_trafficsplit(load_object("trafficsplit/v1alpha3-matches.yaml"));
    BOOST_TEST(ts.version == "v1alpha3");
    BOOST_REQUIRE(ts.matches.IsSequence());
    BOOST_TEST(ts.matches[0]["name"].as<std::string>() == "ab-test");
    BOOST_REQUIRE(ts.backends.size() == 2u);
    BOOST_TEST(ts.backends[0].weight == 90u);
    BOOST_TEST(ts.backends[1].weight == 10u);
}

BOOST_AUTO_TEST_CASE(fixture_v1alpha4) {
    const auto ts = parse_trafficsplit(load_object("trafficsplit/v1alpha4.yaml"));
    BOOST_TEST(ts.version == "v1alpha4");
    BOOST_REQUIRE(ts.backends.size() == 2u);
    BOOST_TEST(ts.backends[0].weight == 0u);
    BOOST_TEST(ts.backends[1].weight == 100u);
}

BOOST_AUTO_TEST_CASE(fixture_crd_is_not_a_trafficsplit) {
    const auto crd = load_object("trafficsplit/crd-v1alpha1-v1alpha4.yaml");
    BOOST_TEST(!is_trafficsplit(crd));
    BOOST_TEST(is_trafficsplit(load_object("trafficsplit/v1alpha4.yaml")));
}

BOOST_AUTO_TEST_CASE(fixture_negative_weight) {
    BOOST_TEST(error_of([] {
                   parse_trafficsplit(load_object("invalid/trafficsplit-negative.yaml"));
               }) == "TrafficSplit test/podinfo: spec.backends[1].weight: negative weight -10");
}

BOOST_AUTO_TEST_CASE(invalid_trafficsplits) {
    const std::string head =
        "apiVersion: split.smi-spec.io/v1alpha1\nkind: TrafficSplit\n"
        "metadata: {name: web, namespace: shop}\n";
    const auto err = [&](const std::string& rest) {
        return error_of([&] { parse_trafficsplit(object_from_text(head + rest)); });
    };
    BOOST_TEST(err("spec: {service: web, backends: []}") ==
               "TrafficSplit shop/web: spec.backends: no backends");
    BOOST_TEST(err("spec: {service: web}") == "TrafficSplit shop/web: spec.backends: no backends");
    BOOST_TEST(err("spec: {backends: [{service: a, weight: '1'}]}") ==
               "TrafficSplit shop/web: spec.service: missing or empty");
    BOOST_TEST(err("spec: {service: web, backends: [{service: a, weight: '1'}, {weight: '1'}]}") ==
               "TrafficSplit shop/web: spec.backends[1].service: missing or empty");
    BOOST_TEST(err("spec: {service: web, backends: [{service: a, weight: '1'}, {service: b, "
                   "weight: 'ten'}]}") ==
               "TrafficSplit shop/web: spec.backends[1].weight: invalid quantity 'ten': expected "
               "a number (digits with an optional sign and decimal point)");
    BOOST_TEST(err("spec: {service: web, backends: [{service: a, weight: '-500m'}]}") ==
               "TrafficSplit shop/web: spec.backends[0].weight: negative weight -500m");
    BOOST_TEST(err("spec: {service: web, backends: [{service: a}]}") ==
               "TrafficSplit shop/web: spec.backends[0].weight: missing");
    BOOST_TEST(err("spec: {service: web, backends: [{service: a, weight: 1}, {service: a, "
                   "weight: 2}]}") ==
               "TrafficSplit shop/web: spec.backends[1].service: duplicate backend 'a'");
    BOOST_TEST(err("spec: {service: web, backends: [{service: a, weight: 1}, {service: b, "
                   "weight: 1e10}]}") ==
               "TrafficSplit shop/web: spec.backends: the weights' exact ratio needs integer "
               "weights summing to more than 4294967295, Envoy's limit");
    BOOST_TEST(err("spec: [1]") == "TrafficSplit shop/web: spec: missing or not a map");

    const std::string v2 =
        "apiVersion: split.smi-spec.io/v1alpha2\nkind: TrafficSplit\n"
        "metadata: {name: web, namespace: shop}\n";
    const auto err2 = [&](const std::string& rest) {
        return error_of([&] { parse_trafficsplit(object_from_text(v2 + rest)); });
    };
    BOOST_TEST(err2("spec: {service: web, backends: [{service: a, weight: 1.5}]}") ==
               "TrafficSplit shop/web: spec.backends[0].weight: expected an integer or a quantity "
               "string (\"500m\"), got '1.5'");
    BOOST_TEST(err2("spec: {service: web, backends: [{service: a, weight: 'ten'}]}") ==
               "TrafficSplit shop/web: spec.backends[0].weight: invalid quantity 'ten': expected "
               "a number (digits with an optional sign and decimal point)");
    BOOST_TEST(err2("spec: {service: web, backends: [{service: a, weight: 4294967296}]}") ==
               "TrafficSplit shop/web: spec.backends[0].weight: weight 4294967296 exceeds "
               "Envoy's limit 4294967295");
    BOOST_TEST(err2("spec: {service: web, backends: [{service: a, weight: 4294967295}, {service: "
                    "b, weight: 1}]}") ==
               "TrafficSplit shop/web: spec.backends: the weights' sum exceeds Envoy's limit "
               "4294967295");
    BOOST_TEST(error_of([] {
                   parse_trafficsplit(object_from_text(
                       "apiVersion: split.smi-spec.io/v1beta9\nkind: TrafficSplit\nmetadata: "
                       "{name: web, namespace: shop}\nspec: {service: a, backends: []}"));
               }) ==
               "TrafficSplit shop/web: apiVersion: unsupported version "
               "'split.smi-spec.io/v1beta9' (expected split.smi-spec.io/v1alpha1 .. "
               "v1alpha4)");
}

BOOST_AUTO_TEST_CASE(ref_comes_from_object_first) {
    Object o = object_from_text(
        "apiVersion: split.smi-spec.io/v1alpha2\nkind: TrafficSplit\nmetadata: {name: x, "
        "namespace: y, resourceVersion: '7'}\nspec: {service: s, backends: [{service: a, "
        "weight: 3}]}");
    auto ts = parse_trafficsplit(o);
    BOOST_TEST(ts.ref.resource_version == "7");
    BOOST_TEST(ts.describe() == "TrafficSplit y/x");
    o.ref = {"TrafficSplit", "ns", "other", "9"};
    o.api_version = "split.smi-spec.io/v1alpha3";
    ts = parse_trafficsplit(o);
    BOOST_TEST(ts.describe() == "TrafficSplit ns/other");
    BOOST_TEST(ts.version == "v1alpha3");
    BOOST_TEST(ts.backends[0].weight == 3u);
}

// A v1alpha1 object read through a later version (the CRD's conversion strategy None, as the
// `auto` version does) keeps its string quantities: they are read as quantities in every version.
BOOST_AUTO_TEST_CASE(string_weights_are_quantities_in_every_version) {
    for (const std::string version : {"v1alpha2", "v1alpha3", "v1alpha4"}) {
        BOOST_TEST_CONTEXT(version) {
            const auto parse = [&](const std::string& backends) {
                return parse_trafficsplit(object_from_text(
                    "apiVersion: split.smi-spec.io/" + version +
                    "\nkind: TrafficSplit\nmetadata: {name: web, namespace: shop}\n"
                    "spec: {service: web, backends: " +
                    backends + "}"));
            };
            auto ts = parse("[{service: a, weight: '500m'}, {service: b, weight: '1500m'}]");
            BOOST_TEST(ts.backends[0].weight == 1u);
            BOOST_TEST(ts.backends[1].weight == 3u);
            BOOST_TEST(ts.backends[0].weight_text == "500m");
            // Plain 500m is a string in YAML too; whole-number strings stay as written.
            ts = parse("[{service: a, weight: 500m}, {service: b, weight: '1'}]");
            BOOST_TEST(ts.backends[0].weight == 1u);
            BOOST_TEST(ts.backends[1].weight == 2u);
            ts = parse("[{service: a, weight: '5'}, {service: b, weight: 95}]");
            BOOST_TEST(ts.backends[0].weight == 5u);
            BOOST_TEST(ts.backends[1].weight == 95u);
            BOOST_TEST(error_of([&] { parse("[{service: a, weight: '-1'}]"); }) ==
                       "TrafficSplit shop/web: spec.backends[0].weight: negative weight -1");
        }
    }
}
