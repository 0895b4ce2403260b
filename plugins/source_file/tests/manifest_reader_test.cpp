#define BOOST_TEST_MODULE source_file
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "crossover/status.h"
#include "manifest_reader.h"

using namespace crossover;
using namespace crossover::file_source;

namespace {

std::string fixture(const std::string& rel) {
    const char* dir = std::getenv("CROSSOVER_FIXTURES");
    BOOST_REQUIRE(dir != nullptr);
    return std::string(dir) + "/" + rel;
}

std::string error_of(const std::string& text, const std::string& file = "m.yaml") {
    Snapshot s;
    try {
        add_manifest_text(text, file, s);
    } catch (const crossover::Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

BOOST_AUTO_TEST_CASE(configmap_keys_become_documents) {
    const Snapshot s = read_manifests({fixture("manifests/envoy-xds.configmap.yaml")});
    BOOST_REQUIRE_EQUAL(s.documents.size(), 3u);
    BOOST_CHECK_EQUAL(s.documents[0]->name, "cds.yaml");
    BOOST_CHECK_EQUAL(s.documents[1]->name, "lds.yaml");
    BOOST_CHECK_EQUAL(s.documents[2]->name, "rds.yaml");
    BOOST_CHECK_EQUAL(s.documents[2]->origin.describe(), "ConfigMap test/envoy-xds");
    BOOST_CHECK(s.documents[2]->content.find("podinfo-canary") != std::string::npos);
    BOOST_CHECK(s.objects.empty());
}

BOOST_AUTO_TEST_CASE(trafficsplit_kept_as_object) {
    const Snapshot s = read_manifests({fixture("trafficsplit/flagger-v1alpha1.yaml")});
    BOOST_REQUIRE_EQUAL(s.objects.size(), 1u);
    BOOST_CHECK_EQUAL(s.objects[0]->ref.kind, "TrafficSplit");
    BOOST_CHECK_EQUAL(s.objects[0]->ref.describe(), "TrafficSplit test/podinfo");
    BOOST_CHECK_EQUAL(s.objects[0]->api_version, "split.smi-spec.io/v1alpha1");
    BOOST_CHECK_EQUAL(s.objects[0]->body["spec"]["backends"][0]["weight"].Scalar(), "5");
}

BOOST_AUTO_TEST_CASE(binary_data_is_decoded_and_lists_are_read) {
    Snapshot s;
    add_manifest_text(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n"
        "  metadata: {name: a}\n  binaryData: {x.bin: aGVsbG8gd29ybGQ=}\n"
        "  data: {y.yaml: 'z: 1'}\n",
        "list.yaml", s);
    BOOST_REQUIRE_EQUAL(s.documents.size(), 2u);
    BOOST_CHECK_EQUAL(s.documents[0]->content, "z: 1");
    BOOST_CHECK_EQUAL(s.documents[1]->name, "x.bin");
    BOOST_CHECK_EQUAL(s.documents[1]->content, "hello world");
}

BOOST_AUTO_TEST_CASE(plain_file_is_one_document) {
    const Snapshot s = read_manifests({fixture("xds/rds.yaml")});
    BOOST_REQUIRE_EQUAL(s.documents.size(), 1u);
    BOOST_CHECK_EQUAL(s.documents[0]->name, "rds.yaml");
    BOOST_CHECK_EQUAL(s.documents[0]->origin.kind, "File");
}

BOOST_AUTO_TEST_CASE(same_key_twice_names_both_configmaps) {
    const std::string msg = error_of(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: n}\ndata: {k: '1'}\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: n}\ndata: {k: "
        "'2'}\n");
    BOOST_CHECK_MESSAGE(
        msg.find("key 'k' of ConfigMap n/b is also provided by ConfigMap n/a") != std::string::npos,
        msg);
    BOOST_CHECK_MESSAGE(msg.find("m.yaml:9") != std::string::npos, msg);
}

BOOST_AUTO_TEST_CASE(invalid_inputs_are_refused_with_file_and_line) {
    std::ifstream in(fixture("invalid/configmap-bad-yaml.yaml"));
    std::stringstream text;
    text << in.rdbuf();
    // The embedded document is invalid for Envoy, but the manifest itself is valid YAML:
    // the reader passes the bytes through untouched.
    Snapshot ok;
    add_manifest_text(text.str(), "bad.yaml", ok);
    BOOST_CHECK_EQUAL(ok.documents.size(), 1u);

    const std::string msg = error_of("apiVersion: v1\nkind: ConfigMap\ndata: [1\n");
    BOOST_CHECK_MESSAGE(msg.find("m.yaml:") == 0 && msg.find("invalid YAML") != std::string::npos,
                        msg);
    BOOST_CHECK_NE(
        error_of("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n").find("has no metadata.name"),
        std::string::npos);
    BOOST_CHECK_NE(error_of("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
                            "data: {k: [1]}\n")
                       .find("data.k must be a string"),
                   std::string::npos);
    BOOST_CHECK_NE(error_of("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
                            "binaryData: {k: '***'}\n")
                       .find("binaryData.k: invalid base64"),
                   std::string::npos);
}

// yaml-cpp's LoadAll used to loop forever (allocating) on a stray token after a
// document; the reader must refuse it with the file and line instead.
// Reproducers: fuzz/regressions/manifest/.
BOOST_AUTO_TEST_CASE(stray_comma_after_a_document_is_refused) {
    for (const std::string text : {
             "[a, b],\n",
             "{a: b},\n",
             "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n---\n{x: y},\n",
         }) {
        std::promise<std::string> result;
        std::future<std::string> done = result.get_future();
        std::thread([&result, text] { result.set_value(error_of(text)); }).detach();
        if (done.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
            BOOST_ERROR("add_manifest_text does not return for: " + text);
            std::_Exit(1);  // the reading thread cannot be stopped
        }
        const std::string msg = done.get();
        BOOST_CHECK_MESSAGE(
            msg.find("m.yaml:") == 0 && msg.find("invalid YAML") != std::string::npos,
            text + " -> " + msg);
    }
    const std::string msg = error_of("a: 1\n\nb: [1, 2],\n");
    BOOST_CHECK_MESSAGE(msg.find("m.yaml:3: invalid YAML") == 0, msg);
}

BOOST_AUTO_TEST_CASE(base64) {
    BOOST_CHECK_EQUAL(base64_decode("YQ=="), "a");
    BOOST_CHECK_EQUAL(base64_decode("YWI="), "ab");
    BOOST_CHECK_EQUAL(base64_decode("YWJj"), "abc");
    BOOST_CHECK_EQUAL(base64_decode("YW\nJj"), "abc");
    BOOST_CHECK_THROW(base64_decode("Y"), crossover::Error);
    BOOST_CHECK_THROW(base64_decode("YQ==YQ"), crossover::Error);
}

BOOST_AUTO_TEST_CASE(missing_paths_are_reported) {
    std::vector<std::string> missing;
    const auto files = expand_paths({fixture("trafficsplit"), "/nonexistent/x.yaml"}, missing);
    BOOST_CHECK_EQUAL(files.size(), 6u);
    BOOST_REQUIRE_EQUAL(missing.size(), 1u);
    BOOST_CHECK_EQUAL(missing[0], "file /nonexistent/x.yaml");
}

// A file that is neither manifests nor a DiscoveryResponse is an error naming
// the file and line, never a document named after the file.
BOOST_AUTO_TEST_CASE(files_that_are_not_input_are_refused) {
    BOOST_CHECK_EQUAL(error_of("apiVersion: split.smi-spec.io/v1alpha2\nknd: TrafficSplit\n"
                               "metadata: {name: a}\n"),
                      "m.yaml:1: apiVersion without kind (is 'kind' misspelt?); expected "
                      "Kubernetes objects (apiVersion and kind) or an xDS DiscoveryResponse "
                      "(resources)");
    BOOST_CHECK_EQUAL(error_of("# objects\n- apiVersion: v1\n  kind: ConfigMap\n")
                          .find("m.yaml:2: a YAML list; expected Kubernetes objects"),
                      0u);
    BOOST_CHECK_EQUAL(error_of("kind: ConfigMap\nmetadata: {name: a}\n")
                          .find("m.yaml:1: kind without apiVersion"),
                      0u);
    BOOST_CHECK_EQUAL(error_of("just text\n").find("m.yaml:1: a single value"), 0u);
    BOOST_CHECK_EQUAL(error_of("static_resources: {}\n").find("m.yaml:1: expected Kubernetes"), 0u);
    // A DiscoveryResponse (JSON too) is still one document.
    Snapshot s;
    add_manifest_text("{\"version_info\": \"1\", \"resources\": []}", "cds.json", s);
    BOOST_REQUIRE_EQUAL(s.documents.size(), 1u);
    BOOST_CHECK_EQUAL(s.documents[0]->name, "cds.json");
}

BOOST_AUTO_TEST_CASE(an_empty_file_is_incomplete_input) {
    for (const std::string text : {"", "\n\n", " \r\n\t"}) {
        Snapshot s;
        add_manifest_text(text, "dir/m.yaml", s);
        BOOST_CHECK(!s.complete);
        BOOST_REQUIRE_EQUAL(s.missing.size(), 1u);
        BOOST_CHECK_EQUAL(s.missing[0], "file dir/m.yaml is empty");
        BOOST_CHECK(s.documents.empty());
    }
    // Comments only: a file that says it holds no objects, not a half-written one.
    for (const std::string text : {"# no TrafficSplit any more\n", "---\n---\n"}) {
        Snapshot s;
        add_manifest_text(text, "dir/m.yaml", s);
        BOOST_CHECK(s.complete);
        BOOST_CHECK(s.documents.empty() && s.objects.empty());
    }
}

BOOST_AUTO_TEST_CASE(duplicate_keys_are_refused_as_kubectl_does) {
    const std::string msg = error_of(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  k: '1'\n  k: '2'\n");
    BOOST_CHECK_EQUAL(msg,
                      "m.yaml:6: invalid YAML: duplicate key 'k' (each key may appear once "
                      "in a map)");
    std::ifstream in(fixture("invalid/trafficsplit-duplicate-key.yaml"));
    std::stringstream text;
    text << in.rdbuf();
    const std::string split = error_of(text.str());
    BOOST_CHECK_MESSAGE(split.find("m.yaml:15: invalid YAML: duplicate key 'weight'") == 0, split);
}

BOOST_AUTO_TEST_CASE(a_directory_without_manifests_is_missing) {
    std::vector<std::string> missing;
    const char* tmp = std::getenv("TMPDIR");
    std::string empty = std::string(tmp != nullptr ? tmp : "/tmp") + "/crossover-empty-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(empty.data()) != nullptr);
    const auto files = expand_paths({empty}, missing);
    BOOST_CHECK(files.empty());
    BOOST_REQUIRE_EQUAL(missing.size(), 1u);
    BOOST_CHECK_EQUAL(missing[0], "directory " + empty + " holds no *.yaml, *.yml or *.json file");
    ::rmdir(empty.c_str());
}
