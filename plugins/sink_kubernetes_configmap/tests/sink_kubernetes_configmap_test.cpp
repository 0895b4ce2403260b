#define BOOST_TEST_MODULE sink_kubernetes_configmap
#include <boost/test/unit_test.hpp>

#include "configmap_sink.h"
#include "kube_test_support.h"

using namespace kube_test;
using crossover::Snapshot;
using crossover::WriteOutcome;
using crossover::kube::ConfigMapSink;
using crossover::kube::kConfigMapSinkOptions;

namespace {

std::unique_ptr<ConfigMapSink> make_sink(const FakeApiServer& server, CaptureLogger& logger,
                                         const std::string& extra = "") {
    const auto config =
        make_config(kConfigMapSinkOptions.specs(), kConfigMapSinkOptions.size(),
                    connection_yaml(server) + "name: envoy-xds-gen\n" + extra, logger);
    return std::make_unique<ConfigMapSink>(config, kConfigMapSinkOptions.decode(config));
}

Snapshot snapshot(const std::map<std::string, std::string>& docs) {
    Snapshot s;
    for (const auto& [name, content] : docs) {
        s.documents.push_back(std::make_shared<const crossover::Document>(
            crossover::Document{name, content, {"File", "", "/in/" + name, ""}}));
    }
    return s;
}

std::string data(const FakeApiServer& server, const std::string& key) {
    const auto cm = stored_object(server, "ConfigMap", "test", "envoy-xds-gen");
    const auto d = cm->getObject("data");
    return d.isNull() || !d->has(key) ? "<none>" : d->getValue<std::string>(key);
}

int writes(const FakeApiServer& server) {
    return count(server, "POST", "/configmaps") + count(server, "PUT", "/configmaps");
}

}  // namespace

BOOST_AUTO_TEST_CASE(creates_updates_and_skips_unchanged_content) {
    FakeApiServer server;
    CaptureLogger logger;
    auto sink = make_sink(server, logger, "labels: {app.kubernetes.io/managed-by: crossover}\n");
    WriteOutcome outcome = WriteOutcome::Unchanged;

    auto st = sink->write(snapshot({{"rds.yaml", "r1"}, {"cds.yaml", "c1"}}), outcome);
    BOOST_REQUIRE_MESSAGE(st.is_ok(), st.message());
    BOOST_TEST((outcome == WriteOutcome::Written));
    BOOST_TEST(count(server, "POST", "/configmaps") == 1);
    BOOST_TEST(data(server, "rds.yaml") == "r1");
    BOOST_TEST(stored_object(server, "ConfigMap", "test", "envoy-xds-gen")
                   ->getObject("metadata")
                   ->getObject("labels")
                   ->getValue<std::string>("app.kubernetes.io/managed-by") == "crossover");

    // Unchanged: no request at all.
    const int before = count(server, "", "/configmaps");
    st = sink->write(snapshot({{"rds.yaml", "r1"}, {"cds.yaml", "c1"}}), outcome);
    BOOST_REQUIRE(st.is_ok());
    BOOST_TEST((outcome == WriteOutcome::Unchanged));
    BOOST_TEST(count(server, "", "/configmaps") == before);

    st = sink->write(snapshot({{"rds.yaml", "r2"}, {"bin.dat", std::string("\xff\x00", 2)}}),
                     outcome);
    BOOST_REQUIRE_MESSAGE(st.is_ok(), st.message());
    BOOST_TEST((outcome == WriteOutcome::Written));
    BOOST_TEST(count(server, "PUT", "/configmaps/envoy-xds-gen") == 1);
    BOOST_TEST(data(server, "rds.yaml") == "r2");
    BOOST_TEST(data(server, "cds.yaml") == "<none>");
    BOOST_TEST(stored_object(server, "ConfigMap", "test", "envoy-xds-gen")
                   ->getObject("binaryData")
                   ->getValue<std::string>("bin.dat") == "/wA=");
}

BOOST_AUTO_TEST_CASE(an_empty_output_is_refused_unless_allowed) {
    FakeApiServer server;
    CaptureLogger logger;
    auto sink = make_sink(server, logger);
    WriteOutcome outcome = WriteOutcome::Unchanged;
    BOOST_REQUIRE(sink->write(snapshot({{"rds.yaml", "r1"}}), outcome).is_ok());
    const auto st = sink->write(snapshot({}), outcome);
    BOOST_TEST(!st.is_ok());
    BOOST_TEST(
        st.message().find("the output is empty (no documents); not written") != std::string::npos,
        st.message());
    BOOST_TEST(data(server, "rds.yaml") == "r1");
    auto allowing = make_sink(server, logger, "allow_empty: true\n");
    BOOST_REQUIRE(allowing->write(snapshot({}), outcome).is_ok());
    BOOST_TEST(data(server, "rds.yaml") == "<none>");
}

BOOST_AUTO_TEST_CASE(existing_configmap_with_same_content_is_not_written) {
    FakeApiServer server;
    server.apply(configmap_json("test", "envoy-xds-gen", {{"rds.yaml", "r1"}}));
    CaptureLogger logger;
    auto sink = make_sink(server, logger);
    WriteOutcome outcome = WriteOutcome::Written;
    const auto st = sink->write(snapshot({{"rds.yaml", "r1"}}), outcome);
    BOOST_REQUIRE_MESSAGE(st.is_ok(), st.message());
    BOOST_TEST((outcome == WriteOutcome::Unchanged));
    BOOST_TEST(writes(server) == 0);
}

BOOST_AUTO_TEST_CASE(conflict_rereads_and_retries) {
    FakeApiServer server;
    CaptureLogger logger;
    auto sink = make_sink(server, logger);
    WriteOutcome outcome = WriteOutcome::Unchanged;
    BOOST_REQUIRE(sink->write(snapshot({{"rds.yaml", "r1"}}), outcome).is_ok());
    // Someone else changes the ConfigMap: our resourceVersion is now stale.
    server.apply(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"envoy-xds-gen",
        "namespace":"test","annotations":{"note":"edited"}},"data":{"rds.yaml":"theirs"}})");
    const auto st = sink->write(snapshot({{"rds.yaml", "r2"}}), outcome);
    BOOST_REQUIRE_MESSAGE(st.is_ok(), st.message());
    BOOST_TEST((outcome == WriteOutcome::Written));
    BOOST_TEST(count(server, "PUT", "/configmaps/envoy-xds-gen") == 2);  // 409, then success
    BOOST_TEST(data(server, "rds.yaml") == "r2");
    // Their annotation survived the re-read.
    BOOST_TEST(stored_object(server, "ConfigMap", "test", "envoy-xds-gen")
                   ->getObject("metadata")
                   ->getObject("annotations")
                   ->getValue<std::string>("note") == "edited");
    BOOST_TEST(logger.contains("409"));
}

BOOST_AUTO_TEST_CASE(persistent_conflict_is_an_error_not_a_success) {
    FakeApiServer server;
    CaptureLogger logger;
    auto sink = make_sink(server, logger, "max_conflict_retries: 2\n");
    WriteOutcome outcome = WriteOutcome::Unchanged;
    BOOST_REQUIRE(sink->write(snapshot({{"rds.yaml", "r1"}}), outcome).is_ok());
    control(server, "/fail", R"({"count": 100, "status": 409, "method": "PUT"})");
    const auto st = sink->write(snapshot({{"rds.yaml", "r2"}}), outcome);
    BOOST_REQUIRE(!st.is_ok());
    BOOST_TEST(st.message().find("ConfigMap test/envoy-xds-gen") != std::string::npos);
    BOOST_TEST(count(server, "PUT", "/configmaps/envoy-xds-gen") == 3);
    BOOST_TEST(data(server, "rds.yaml") == "r1");
    // Once the conflict clears, the same content is written (not skipped).
    control(server, "/clear-failures");
    BOOST_REQUIRE(sink->write(snapshot({{"rds.yaml", "r2"}}), outcome).is_ok());
    BOOST_TEST((outcome == WriteOutcome::Written));
    BOOST_TEST(data(server, "rds.yaml") == "r2");
}

BOOST_AUTO_TEST_CASE(server_errors_and_bad_keys_are_reported) {
    FakeApiServer server;
    CaptureLogger logger;
    auto sink = make_sink(server, logger);
    WriteOutcome outcome = WriteOutcome::Unchanged;
    control(server, "/fail", R"({"count": 1, "status": 500})");
    auto st = sink->write(snapshot({{"rds.yaml", "r1"}}), outcome);
    BOOST_REQUIRE(!st.is_ok());
    BOOST_TEST(st.message().find("HTTP 500") != std::string::npos);
    st = sink->write(snapshot({{"a/b", "x"}}), outcome);
    BOOST_REQUIRE(!st.is_ok());
    BOOST_TEST(st.message().find("'a/b'") != std::string::npos);
    BOOST_REQUIRE(sink->write(snapshot({{"rds.yaml", "r1"}}), outcome).is_ok());
    BOOST_TEST(data(server, "rds.yaml") == "r1");
}
