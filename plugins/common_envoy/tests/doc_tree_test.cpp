// The document scanner (crossover_envoy/doc_tree.h): what it reads, the
// offsets it reports, and each kind of text it leaves to yaml-cpp. Every
// accepted text is also compared with yaml-cpp's tree converted by
// tree_from_yaml, as the fuzz target doc_tree does on random input.
#define BOOST_TEST_MODULE doc_tree
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "crossover/yaml_load.h"
#include "crossover_envoy/doc_tree.h"
#include "crossover_envoy/doc_tree_yaml.h"

namespace xds = crossover::xds;
using xds::DocKind;
using xds::DocTree;

namespace {

// The scanner's tree of `text` (which the tree views: keep it), checked node by node against
// yaml-cpp's.
DocTree scan_and_compare(const std::string& text) {
    xds::ScanResult r = xds::scan_document(text);
    BOOST_REQUIRE_MESSAGE(r.accepted, "refused: " << r.refusal << " at byte " << r.refusal_pos);
    const DocTree expected = xds::tree_from_yaml(crossover::load_yaml(text));
    BOOST_REQUIRE_EQUAL(r.tree.size(), expected.size());
    for (std::uint32_t i = 0; i < expected.size(); ++i) {
        BOOST_TEST_CONTEXT("node " << i) {
            BOOST_CHECK(r.tree[i].kind == expected[i].kind);
            BOOST_CHECK_EQUAL(r.tree[i].next, expected[i].next);
            BOOST_CHECK_EQUAL(r.tree[i].value, expected[i].value);
            BOOST_CHECK_EQUAL(r.tree[i].quoted, expected[i].quoted);
            BOOST_CHECK_EQUAL(r.tree[i].flow, expected[i].flow);
            if (expected[i].kind != DocKind::Null) {
                BOOST_CHECK_EQUAL(r.tree[i].pos, expected[i].pos);
                BOOST_CHECK_EQUAL(r.tree[i].line, expected[i].line);
            }
        }
    }
    return std::move(r.tree);
}

std::string refusal(const std::string& text) {
    const xds::ScanResult r = xds::scan_document(text);
    BOOST_CHECK_MESSAGE(!r.accepted, "accepted: " << text);
    return r.refusal;
}

}  // namespace

BOOST_AUTO_TEST_CASE(block_document_with_offsets) {
    const std::string text =
        "resources:\n"
        "- name: r1  # a comment\n"
        "  virtual_hosts:\n"
        "  - domains: [\"*\", 'a.b']\n"
        "    routes:\n"
        "      - route: {weighted_clusters: {clusters: [{name: a, weight: 90}]}}\n";
    const DocTree t = scan_and_compare(text);
    const std::uint32_t res = t.find(0, {"resources"});
    BOOST_REQUIRE(t.is_seq(res));
    const std::uint32_t rc = *t.children(res).begin();
    BOOST_CHECK_EQUAL(t.scalar(t.find(rc, {"name"})), "r1");
    BOOST_CHECK_EQUAL(t[t.find(rc, {"name"})].pos, text.find("r1"));
    BOOST_CHECK_EQUAL(t[t.find(rc, {"name"})].end, text.find("r1") + 2);
    const std::uint32_t vh = *t.children(t.find(rc, {"virtual_hosts"})).begin();
    const std::uint32_t domains = t.find(vh, {"domains"});
    BOOST_CHECK(t[domains].flow);
    BOOST_CHECK_EQUAL(t.child_count(domains), 2U);
    BOOST_CHECK_EQUAL(t[domains].line, 3U);
    const std::size_t weight = text.find("90");
    bool found = false;
    for (std::uint32_t i = 0; i < t.size(); ++i) {
        if (t[i].kind == DocKind::Scalar && t[i].value == "90") {
            found = true;
            BOOST_CHECK_EQUAL(t[i].pos, weight);
            BOOST_CHECK_EQUAL(t[i].line, 5U);
        }
    }
    BOOST_CHECK(found);
}

BOOST_AUTO_TEST_CASE(quoted_scalars_and_escapes) {
    const std::string text =
        "a: 'it''s'\n"
        "b: \"q\\\" \\\\ \\/ \\t \\n \\x41 \\u00e9 \\U0001F600\"\n"
        "c: \"plain # text\"\n"
        "d: ''\n"
        "e: \"null\"\n";
    const DocTree t = scan_and_compare(text);
    BOOST_CHECK_EQUAL(t.scalar(t.find(0, {"a"})), "it's");
    BOOST_CHECK_EQUAL(t.scalar(t.find(0, {"b"})), "q\" \\ / \t \n A \xC3\xA9 \xF0\x9F\x98\x80");
    BOOST_CHECK_EQUAL(t.scalar(t.find(0, {"c"})), "plain # text");
    BOOST_CHECK(t[t.find(0, {"d"})].kind == DocKind::Scalar);
    BOOST_CHECK(t[t.find(0, {"e"})].kind == DocKind::Scalar);
    BOOST_CHECK(t[t.find(0, {"e"})].quoted);
}

BOOST_AUTO_TEST_CASE(plain_scalars_nulls_and_indentless_sequences) {
    const std::string text =
        "---\n"
        "url: http://x:80/a#b  # comment\n"
        "n1: ~\n"
        "n2:\n"
        "neg: -5\n"
        "list:\n"
        "- x\n"
        "- y: 1\n"
        "  z: 2\n"
        "-\n"
        "  - deep\n"
        "after: done\n";
    const DocTree t = scan_and_compare(text);
    BOOST_CHECK_EQUAL(t.scalar(t.find(0, {"url"})), "http://x:80/a#b");
    BOOST_CHECK(t[t.find(0, {"n1"})].kind == DocKind::Null);
    BOOST_CHECK(t[t.find(0, {"n2"})].kind == DocKind::Null);
    BOOST_CHECK_EQUAL(t.child_count(t.find(0, {"list"})), 3U);
    BOOST_CHECK_EQUAL(t.scalar(t.find(0, {"after"})), "done");
}

BOOST_AUTO_TEST_CASE(json_documents) {
    const std::string text =
        "{\n"
        "  \"version_info\": \"1\",\n"
        "  \"resources\": [\n"
        "    {\"@type\":\"type.googleapis.com/envoy.config.route.v3.RouteConfiguration\",\n"
        "     \"weight\":-1.5e2, \"on\": true, \"none\": null, \"empty\": {}, \"list\": []}\n"
        "  ]\n"
        "}\n";
    const DocTree t = scan_and_compare(text);
    BOOST_CHECK(t[0].flow);
    const std::uint32_t rc = *t.children(t.find(0, {"resources"})).begin();
    BOOST_CHECK_EQUAL(t.scalar(t.find(rc, {"weight"})), "-1.5e2");
    BOOST_CHECK(t[t.find(rc, {"none"})].kind == DocKind::Null);
    BOOST_CHECK_EQUAL(t[rc].line, 3U);
    scan_and_compare("[1, \"two\", {\"three\": [3]}]");
    scan_and_compare("");
    scan_and_compare("# only a comment\n");
}

BOOST_AUTO_TEST_CASE(refuses_what_it_does_not_read) {
    BOOST_CHECK_EQUAL(refusal("a: &x 1\nb: *x\n"), "anchor");
    BOOST_CHECK_EQUAL(refusal("a: *x\n"), "alias");
    BOOST_CHECK_EQUAL(refusal("a: !!str 1\n"), "tag");
    BOOST_CHECK_EQUAL(refusal("a: |\n  text\n"), "block scalar");
    BOOST_CHECK_EQUAL(refusal("a: >\n  text\n"), "block scalar");
    BOOST_CHECK_EQUAL(refusal("a: first\n  second\n"), "line indented more than its map's keys");
    BOOST_CHECK_EQUAL(refusal("a: \"first\n  second\"\n"), "quoted scalar over more than one line");
    BOOST_CHECK_EQUAL(refusal("? a\n: b\n"), "complex key");
    BOOST_CHECK_EQUAL(refusal("[a]: b\n"), "complex key");
    BOOST_CHECK_EQUAL(refusal("a:\n\tb: 1\n"), "tab");
    BOOST_CHECK_EQUAL(refusal("a: 1\r\n"), "carriage return");
    BOOST_CHECK_EQUAL(refusal("a: 1\na: 2\n"), "duplicate key");
    BOOST_CHECK_EQUAL(refusal("{\"a\": 1, \"a\": 2}"), "duplicate key");
    BOOST_CHECK_EQUAL(refusal("\xEF\xBB\xBF"
                              "a: 1\n"),
                      "byte order mark");
    BOOST_CHECK_EQUAL(refusal("a: \xC3\n"), "invalid UTF-8");
    BOOST_CHECK_EQUAL(refusal("a: 1\n---\nb: 2\n"), "document marker");
    BOOST_CHECK_EQUAL(refusal("a: 1\n...\n"), "document marker");
    BOOST_CHECK_EQUAL(refusal("%YAML 1.2\n---\na: 1\n"), "plain scalar start");
    BOOST_CHECK_EQUAL(refusal("a: \"\\N\"\n"), "unsupported escape");
    BOOST_CHECK_EQUAL(refusal("a: {b: 1,\n c: 2}\n"), "flow collection over more than one line");
    BOOST_CHECK_EQUAL(refusal("{a: 1,}"), "trailing ',' in a flow collection");
    BOOST_CHECK_EQUAL(refusal("[a: 1]"), "map inside a flow sequence");
    BOOST_CHECK_EQUAL(refusal("~: 1\n"), "null key");
    BOOST_CHECK_EQUAL(refusal("a: b: c\n"), "map on its key's line");
    BOOST_CHECK_EQUAL(refusal("a: - b\n"), "sequence on its key's line");
    // A refused text still reads with yaml-cpp, into the same form.
    const DocTree t = xds::tree_from_yaml(crossover::load_yaml("a: &x 1\nb: *x\n"));
    BOOST_CHECK_EQUAL(t.scalar(t.find(0, {"b"})), "1");
}

BOOST_AUTO_TEST_CASE(refuses_odd_bytes_wherever_they_are) {
    // The bytes are checked eight at a time: put each odd byte at every offset
    // of a word, after plain text and after a line break.
    const std::vector<std::string> odds = {"\t",   "\r",       std::string(1, '\0'), "\x7F",
                                           "\x1F", "\xC2\x85", "\xEF\xBB\xBF",       "\xFF"};
    for (const std::string& odd : odds) {
        for (std::size_t at = 0; at < 16; ++at) {
            std::string text = "key: abcdefghijklmnopqrstuvwxyz\nother: 0123456789\n";
            text.insert(5 + at, odd);
            BOOST_CHECK_MESSAGE(!xds::scan_document(text).accepted,
                                "accepted byte " << static_cast<int>(odd[0]) << " at " << at);
        }
    }
    scan_and_compare("key: abcdefghijklmnopqrstuvwxyz\nother: caf\xC3\xA9 \xE2\x82\xAC\n");
}

BOOST_AUTO_TEST_CASE(never_throws_on_broken_text) {
    for (const char* text : {"{", "[", "\"", "'", "a: [1, 2", "- [", "a:\n  - {", "\"\\",
                             "\"\\x4\"", "\"\\uD800\"", "a: 'b' c\n", "- a\nb\n"}) {
        const xds::ScanResult r = xds::scan_document(text);
        BOOST_CHECK_MESSAGE(!r.accepted, "accepted: " << text);
    }
}
