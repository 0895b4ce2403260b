// The sink's pure helpers: classification, name rules, manifest format, and
// the plugin descriptor and option checks.
#include <boost/test/unit_test.hpp>

#include "symlink_sink.h"
#include "test_util.h"

using crossover::sink_symlink::classify;
using crossover::sink_symlink::DocClass;
namespace ss = crossover::sink_symlink;

BOOST_AUTO_TEST_SUITE(helpers)

BOOST_AUTO_TEST_CASE(classify_by_v3_type) {
    const std::string cds =
        "version_info: \"1\"\nresources:\n- \"@type\": "
        "type.googleapis.com/envoy.config.cluster.v3.Cluster\n  name: a\n";
    const std::string eds =
        "resources:\n- '@type': "
        "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment\n";
    const std::string rds =
        "resources:\n- \"@type\": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n";
    const std::string lds =
        "resources:\n- \"@type\": type.googleapis.com/envoy.config.listener.v3.Listener\n"
        "  filter_chains:\n  - filters:\n    - typed_config:\n        \"@type\": "
        "type.googleapis.com/"
        "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n";
    // Names that would say otherwise: the @type wins.
    BOOST_TEST(static_cast<int>(classify("lds.yaml", cds)) == static_cast<int>(DocClass::Cluster));
    BOOST_TEST(static_cast<int>(classify("x.yaml", eds)) == static_cast<int>(DocClass::Endpoint));
    BOOST_TEST(static_cast<int>(classify("cds.yaml", rds)) == static_cast<int>(DocClass::Route));
    BOOST_TEST(static_cast<int>(classify("a.yaml", lds)) == static_cast<int>(DocClass::Listener));
}

BOOST_AUTO_TEST_CASE(classify_by_v2_type_and_json) {
    const std::string v2cds =
        "{\"version_info\":\"0\",\"resources\":[{\"@type\":\"type.googleapis.com/"
        "envoy.api.v2.Cluster\",\"name\":\"a\"}]}";
    const std::string v2rds =
        test::read_file(std::string(std::getenv("CROSSOVER_FIXTURES")) + "/xds/rds-v2-chart.yaml");
    const std::string v2lds = "resources:\n- \"@type\" : envoy.api.v2.Listener\n";
    const std::string v2eds =
        "resources:\n- {\"@type\": type.googleapis.com/envoy.api.v2.ClusterLoadAssignment}\n";
    BOOST_TEST(static_cast<int>(classify("z", v2cds)) == static_cast<int>(DocClass::Cluster));
    BOOST_TEST(static_cast<int>(classify("z", v2rds)) == static_cast<int>(DocClass::Route));
    BOOST_TEST(static_cast<int>(classify("z", v2lds)) == static_cast<int>(DocClass::Listener));
    BOOST_TEST(static_cast<int>(classify("z", v2eds)) == static_cast<int>(DocClass::Endpoint));
}

BOOST_AUTO_TEST_CASE(classify_fixtures) {
    const std::string dir = std::string(std::getenv("CROSSOVER_FIXTURES")) + "/xds/";
    BOOST_TEST(static_cast<int>(classify("a", test::read_file(dir + "cds.yaml"))) ==
               static_cast<int>(DocClass::Cluster));
    BOOST_TEST(static_cast<int>(classify("a", test::read_file(dir + "rds.yaml"))) ==
               static_cast<int>(DocClass::Route));
    BOOST_TEST(static_cast<int>(classify("a", test::read_file(dir + "lds.yaml"))) ==
               static_cast<int>(DocClass::Listener));
}

BOOST_AUTO_TEST_CASE(classify_falls_back_to_name_hints) {
    const std::string none = "version_info: \"1\"\nresources: []\n";
    BOOST_TEST(static_cast<int>(classify("cds.yaml", none)) == static_cast<int>(DocClass::Cluster));
    BOOST_TEST(static_cast<int>(classify("envoy-eds.json", none)) ==
               static_cast<int>(DocClass::Endpoint));
    BOOST_TEST(static_cast<int>(classify("RDS.yaml", none)) == static_cast<int>(DocClass::Route));
    BOOST_TEST(static_cast<int>(classify("my_lds.yaml", none)) ==
               static_cast<int>(DocClass::Listener));
    BOOST_TEST(static_cast<int>(classify("clusters.yaml", none)) ==
               static_cast<int>(DocClass::Cluster));
    // Hints are whole words: "records" is not "rds".
    BOOST_TEST(static_cast<int>(classify("records.yaml", none)) ==
               static_cast<int>(DocClass::Neutral));
    BOOST_TEST(static_cast<int>(classify("bootstrap.yaml", none)) ==
               static_cast<int>(DocClass::Neutral));
    // Clusters and listeners in one document: ambiguous, the name decides.
    const std::string mixed =
        "resources:\n- \"@type\": type.googleapis.com/envoy.config.cluster.v3.Cluster\n"
        "- \"@type\": type.googleapis.com/envoy.config.listener.v3.Listener\n";
    BOOST_TEST(static_cast<int>(classify("all.yaml", mixed)) ==
               static_cast<int>(DocClass::Neutral));
    BOOST_TEST(static_cast<int>(classify("lds.yaml", mixed)) ==
               static_cast<int>(DocClass::Listener));
    // A type that merely starts like a cluster type is not one.
    const std::string other =
        "resources:\n- \"@type\": type.googleapis.com/envoy.config.cluster.v3.ClusterX\n";
    BOOST_TEST(static_cast<int>(classify("x", other)) == static_cast<int>(DocClass::Neutral));
}

BOOST_AUTO_TEST_CASE(unsafe_names) {
    BOOST_TEST(ss::unsafe_name_reason("rds.yaml").empty());
    BOOST_TEST(ss::unsafe_name_reason("a..b").empty());
    BOOST_TEST(ss::unsafe_name_reason("") == "the name is empty");
    BOOST_TEST(ss::unsafe_name_reason(".") == "'.' names a directory");
    BOOST_TEST(ss::unsafe_name_reason("..") == "'..' names a directory");
    BOOST_TEST(ss::unsafe_name_reason("a/b") == "the name contains '/'");
    BOOST_TEST(ss::unsafe_name_reason(std::string("a\0b", 3)) == "the name contains a NUL byte");
    BOOST_TEST(ss::unsafe_name_reason(".x") ==
               "the name starts with '.' (reserved for the sink's own files)");
    BOOST_TEST(ss::unsafe_name_reason(std::string(256, 'a')) ==
               "the name is longer than 255 bytes");
}

BOOST_AUTO_TEST_CASE(manifest_round_trip) {
    std::vector<ss::ManifestEntry> in{{"rds.yaml", 12, 0xabcdefULL},
                                      {"with space%", 0, 1},
                                      {"nl\nname", 3, 0xffffffffffffffffULL}};
    const std::string text = ss::format_manifest(in);
    std::vector<ss::ManifestEntry> out;
    BOOST_TEST(ss::parse_manifest(text, out));
    BOOST_TEST_REQUIRE(out.size() == in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        BOOST_TEST(out[i].name == in[i].name);
        BOOST_TEST(out[i].size == in[i].size);
        BOOST_TEST(out[i].hash == in[i].hash);
    }
    // Any truncation is detected.
    for (std::size_t cut = 0; cut < text.size(); ++cut) {
        BOOST_TEST(!ss::parse_manifest(text.substr(0, cut), out), "cut at " << cut);
    }
    BOOST_TEST(!ss::parse_manifest(text + "junk\n", out));
}

// A content hashed on from an earlier version's states gives the hash of the whole content,
// wherever the change is and whatever the lengths.
BOOST_AUTO_TEST_CASE(strided_hash_resumes_where_the_content_changed) {
    std::string base;
    for (int i = 0; base.size() < 5 * ss::kHashStride + 100; ++i) {
        base += "line " + std::to_string(i * 7919 % 1000) + "\n";
    }
    const ss::StridedHash whole = ss::strided_fnv1a(base);
    BOOST_TEST(whole.hash == ss::fnv1a(base));
    BOOST_TEST(whole.states.size() == base.size() / ss::kHashStride + 1);
    const std::vector<std::size_t> places = {
        0, 1, ss::kHashStride - 1, ss::kHashStride, 3 * ss::kHashStride + 17, base.size() - 1};
    for (const std::size_t at : places) {
        for (const std::string& with : {std::string("X"), std::string("XYZ"), std::string()}) {
            std::string changed = base;
            changed.replace(at, 1, with);
            const ss::StridedHash resumed = ss::strided_fnv1a(changed, &base, &whole);
            BOOST_TEST(resumed.hash == ss::fnv1a(changed), at << " " << with);
            BOOST_TEST(resumed.states == ss::strided_fnv1a(changed).states, at << " " << with);
        }
    }
    // Shorter, longer, exactly a stride, empty.
    for (const std::size_t size : {std::size_t{0}, ss::kHashStride, 2 * ss::kHashStride + 5}) {
        const std::string cut = base.substr(0, size);
        BOOST_TEST(ss::strided_fnv1a(cut, &base, &whole).hash == ss::fnv1a(cut));
        const ss::StridedHash short_hash = ss::strided_fnv1a(cut);
        BOOST_TEST(ss::strided_fnv1a(base, &cut, &short_hash).hash == whole.hash);
    }
}

BOOST_AUTO_TEST_CASE(version_names) {
    std::uint64_t c = 0;
    BOOST_TEST(ss::parse_version_name(".v-00000012-0123456789abcdef", c));
    BOOST_TEST(c == 12u);
    BOOST_TEST(!ss::parse_version_name(".v-12-0123", c));
    BOOST_TEST(!ss::parse_version_name("v-12-0123456789abcdef", c));
    BOOST_TEST(!ss::parse_version_name(".v-x-0123456789abcdef", c));
    BOOST_TEST(!ss::parse_version_name("current", c));
}

BOOST_AUTO_TEST_CASE(descriptor_and_options) {
    const crossover::PluginDescriptor* d = crossover_plugin_entry();
    BOOST_TEST(d->abi_version == CROSSOVER_ABI_VERSION);
    BOOST_TEST(std::string(d->name) == "symlink");
    BOOST_TEST(static_cast<int>(d->kind) == static_cast<int>(crossover::Kind::Sink));
    std::map<std::string, const crossover::OptionSpec*> specs;
    for (std::size_t i = 0; i < d->option_count; ++i) {
        specs[d->options[i].name] = &d->options[i];
        BOOST_TEST(std::string(d->options[i].doc).size() > 10u);
    }
    BOOST_TEST_REQUIRE(specs.count("dir") == 1u);
    BOOST_TEST(specs["dir"]->required);
    BOOST_TEST_REQUIRE(specs.count("mode") == 1u);
    BOOST_TEST(std::string(specs["mode"]->default_value) == "symlink");
    BOOST_TEST_REQUIRE(specs.count("keep") == 1u);
    BOOST_TEST(std::string(specs["keep"]->default_value) == "2");
    BOOST_TEST_REQUIRE(specs.count("file_mode") == 1u);
    BOOST_TEST(YAML::Load(specs["file_mode"]->default_value).Scalar() == "0644");
}

BOOST_AUTO_TEST_CASE(bad_options_are_refused) {
    test::TempDir tmp;
    std::string error;
    BOOST_TEST(!test::make_sink("{dir: " + tmp.path() + ", mode: copy}", error));
    BOOST_TEST(error == "sinks.envoy: option 'mode': expected 'symlink' or 'rename', got 'copy'");
    BOOST_TEST(!test::make_sink("{dir: " + tmp.path() + ", keep: 0}", error));
    BOOST_TEST(error.find("option 'keep': must be at least 1") != std::string::npos, error);
    BOOST_TEST(!test::make_sink("{dir: " + tmp.path() + ", file_mode: '0988'}", error));
    BOOST_TEST(error.find("option 'file_mode': expected octal permissions") != std::string::npos,
               error);
    BOOST_TEST(!test::make_sink("{dir: ''}", error));
    BOOST_TEST(error.find("option 'dir'") != std::string::npos, error);
    // Construction touches nothing on disk.
    BOOST_TEST(test::make_sink("{dir: " + tmp.path() + "/sub}", error));
    BOOST_TEST(!test::fs::exists(tmp.path() + "/sub"));
}

BOOST_AUTO_TEST_SUITE_END()
