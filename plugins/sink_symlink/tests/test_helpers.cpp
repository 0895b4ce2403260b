// The sink's pure helpers: classification, name rules, manifest format, and
// the plugin descriptor and option checks.
#include <algorithm>

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

// Both formats round-trip; a reader takes format 1 (written by earlier releases) and 2.
BOOST_AUTO_TEST_CASE(manifest_formats) {
    const std::vector<ss::ManifestEntry> in{{"rds.yaml", 12, 0xabcdefULL}};
    std::vector<ss::ManifestEntry> out;
    int format = 0;
    BOOST_TEST(ss::format_manifest(in).rfind("crossover-manifest 2\n", 0) == 0u);
    BOOST_TEST(ss::parse_manifest(ss::format_manifest(in), out, &format));
    BOOST_TEST(format == 2);
    const std::string v1 = "crossover-manifest 1\n12 0000000000abcdef rds.yaml\nend 1\n";
    BOOST_TEST(ss::format_manifest(in, 1) == v1);
    BOOST_TEST(ss::parse_manifest(v1, out, &format));
    BOOST_TEST(format == 1);
    BOOST_TEST_REQUIRE(out.size() == 1u);
    BOOST_TEST(out[0].hash == 0xabcdefULL);
    for (const char* bad : {"crossover-manifest 3\nend 0\n", "crossover-manifest 0\nend 0\n",
                            "crossover-manifest 12\nend 0\n", "crossover-manifest\nend 0\n"}) {
        BOOST_TEST(!ss::parse_manifest(bad, out), bad);
    }
    const std::string text = "a\nb\n";
    BOOST_TEST(ss::manifest_hash(text, 1) == ss::fnv1a(text));
    BOOST_TEST(ss::manifest_hash(text, 2) == ss::chunked_hash(text).hash);
}

namespace {

// Lines of varying lengths, about `size` bytes.
std::string lines_of(std::size_t size, unsigned seed) {
    std::string out;
    for (unsigned i = 0; out.size() < size; ++i) {
        out += "line " + std::to_string((i * 7919U + seed) % 100000U) + "\n";
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(word_hash_sees_every_byte_and_the_length) {
    const std::string base = lines_of(100, 1);
    BOOST_TEST(ss::word_hash(base) == ss::word_hash(std::string(base)));
    for (std::size_t at = 0; at < base.size(); ++at) {
        std::string changed = base;
        changed[at] = static_cast<char>(changed[at] ^ 0x40);
        BOOST_TEST(ss::word_hash(changed) != ss::word_hash(base), at);
    }
    // A zero byte more at the end is a different content.
    for (std::size_t n = 0; n < 17; ++n) {
        BOOST_TEST(ss::word_hash(std::string(n, '\0')) != ss::word_hash(std::string(n + 1, '\0')));
    }
}

// Chunks end after newlines only, where the bytes before them pick a cut: the cuts follow the
// content, so the same text behind a different beginning is cut at the same places.
BOOST_AUTO_TEST_CASE(chunks_are_cut_by_content) {
    const std::string text = lines_of(40 * 1024, 3);
    const ss::ChunkedHash h = ss::chunked_hash(text);
    BOOST_TEST(h.rehashed == text.size());
    BOOST_TEST_REQUIRE(h.ends.size() > 4u);  // about one line in kCutOdds
    BOOST_TEST(h.ends.size() < text.size() / 100);
    std::size_t start = 0;
    for (std::size_t k = 0; k < h.ends.size(); ++k) {
        const std::size_t end = h.ends[k];
        BOOST_TEST(h.hashes[k] == ss::word_hash(std::string_view(text).substr(start, end - start)));
        BOOST_TEST(text[end - 1] == '\n');
        start = end;
    }
    BOOST_TEST(start == text.size());
    const std::string behind = "some other beginning\n" + text;
    const ss::ChunkedHash shifted = ss::chunked_hash(behind);
    BOOST_TEST_REQUIRE(shifted.ends.size() >= h.ends.size());
    for (std::size_t k = 1; k <= 3; ++k) {
        BOOST_TEST(shifted.ends[shifted.ends.size() - k] == h.ends[h.ends.size() - k] + 21);
    }
    // Without newlines, one chunk; empty, none.
    BOOST_TEST(ss::chunked_hash(std::string(3 * 4096, 'x')).ends.size() == 1u);
    BOOST_TEST(ss::chunked_hash("").ends.empty());
    BOOST_TEST(ss::chunked_hash("").hash != ss::chunked_hash(std::string(1, '\0')).hash);
}

// A content hashed from an earlier version's chunks gives exactly the hash and chunks of the
// whole content, wherever the change is and whatever the lengths; and it hashes only the chunks
// around the change, also when the change shifts everything after it.
BOOST_AUTO_TEST_CASE(chunked_hash_follows_the_change) {
    const std::string base = lines_of(160 * 1024, 7);
    const ss::ChunkedHash whole = ss::chunked_hash(base);
    const std::vector<std::size_t> places = {0,
                                             1,
                                             whole.ends[0] - 1,
                                             whole.ends[0],
                                             whole.ends[3] - 1,
                                             whole.ends[3],
                                             whole.ends[3] + 1,
                                             80 * 1024 + 17,
                                             base.size() - 2,
                                             base.size() - 1};
    for (const std::size_t at : places) {
        for (const std::string& with : {std::string("X"), std::string("XYZ"), std::string(),
                                        std::string("\n"), std::string("1\n2\n3\n")}) {
            std::string changed = base;
            changed.replace(at, 1, with);
            const ss::ChunkedHash resumed = ss::chunked_hash(changed, &base, &whole);
            const ss::ChunkedHash fresh = ss::chunked_hash(changed);
            BOOST_TEST(resumed.hash == fresh.hash, at << " " << with);
            BOOST_TEST(resumed.ends == fresh.ends, at << " " << with);
            BOOST_TEST(resumed.hashes == fresh.hashes, at << " " << with);
            // One edit: the chunk holding it and the next until a cut falls past the edit
            // (about a kilobyte each here), never the whole content.
            BOOST_TEST(resumed.rehashed < 16 * 1024, at << " " << with);
        }
    }
    // A weight's number growing by a digit in the middle (the canary step).
    std::string step = base;
    step.insert(base.size() / 2, "0");
    BOOST_TEST(ss::chunked_hash(step, &base, &whole).hash == ss::chunked_hash(step).hash);
    BOOST_TEST(ss::chunked_hash(step, &base, &whole).rehashed < 16 * 1024);
    // Shorter, longer, a prefix, empty, unrelated: still the whole content's hash.
    for (const std::string& other : {base.substr(0, 4096), base.substr(0, whole.ends[2]),
                                     base + base, base.substr(base.size() / 3), std::string(),
                                     lines_of(40 * 1024, 99), std::string(8192, 'y')}) {
        BOOST_TEST(ss::chunked_hash(other, &base, &whole).hash == ss::chunked_hash(other).hash);
        BOOST_TEST(ss::chunked_hash(other, &base, &whole).ends == ss::chunked_hash(other).ends);
        const ss::ChunkedHash other_hash = ss::chunked_hash(other);
        BOOST_TEST(ss::chunked_hash(base, &other, &other_hash).hash == whole.hash);
    }
    // The same content: nothing hashed again.
    BOOST_TEST(ss::chunked_hash(base, &base, &whole).rehashed == 0u);
}

// Edits inside the window before a cut change which newlines cut. The hard case: a cut right
// after the edit whose next line's cut decision still sees the edited byte; searched for here
// (a byte replaced just before a cut, over every cut and many bytes), then checked.
BOOST_AUTO_TEST_CASE(chunked_hash_edits_in_cut_windows) {
    const std::string base = lines_of(32 * 1024, 5);
    const ss::ChunkedHash whole = ss::chunked_hash(base);
    auto has = [](const std::vector<std::size_t>& v, std::size_t x) {
        return std::find(v.begin(), v.end(), x) != v.end();
    };
    int hard = 0;
    for (std::size_t k = 0; k + 1 < whole.ends.size(); ++k) {
        const std::size_t cut = whole.ends[k];
        const std::size_t next = base.find('\n', cut) + 1;
        for (std::size_t back = 2; back <= 3; ++back) {
            for (char c = '!'; c <= '~'; ++c) {
                std::string changed = base;
                changed[cut - back] = c;
                const ss::ChunkedHash fresh = ss::chunked_hash(changed);
                const ss::ChunkedHash resumed = ss::chunked_hash(changed, &base, &whole);
                BOOST_TEST_REQUIRE(resumed.ends == fresh.ends, "cut " << k << " byte " << c);
                BOOST_TEST_REQUIRE(resumed.hash == fresh.hash);
                if (has(fresh.ends, cut) && has(fresh.ends, next) != has(whole.ends, next)) {
                    ++hard;
                }
            }
        }
    }
    BOOST_TEST(hard > 0);
}

// Random edits, several at once, against the whole content's hash.
BOOST_AUTO_TEST_CASE(chunked_hash_random_edits) {
    std::uint64_t r = 12345;
    auto next = [&r](std::size_t bound) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<std::size_t>((r >> 33U) % bound);
    };
    std::string text = lines_of(48 * 1024, 11);
    ss::ChunkedHash h = ss::chunked_hash(text);
    for (int i = 0; i < 300; ++i) {
        std::string changed = text;
        const std::size_t edits = 1 + next(3);
        for (std::size_t e = 0; e < edits && !changed.empty(); ++e) {
            const std::size_t at = next(changed.size());
            const std::size_t len = std::min(next(40), changed.size() - at);
            const char* pieces[] = {"", "\n", "weight: 1000", "x\ny\n", "9"};
            changed.replace(at, len, pieces[next(5)]);
        }
        if (changed.size() < 4096) {
            changed += lines_of(32 * 1024, static_cast<unsigned>(i));
        }
        const ss::ChunkedHash resumed = ss::chunked_hash(changed, &text, &h);
        const ss::ChunkedHash fresh = ss::chunked_hash(changed);
        BOOST_TEST_REQUIRE(resumed.hash == fresh.hash, "step " << i);
        BOOST_TEST_REQUIRE(resumed.ends == fresh.ends, "step " << i);
        text = changed;
        h = resumed;
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
