#define BOOST_TEST_MODULE source_kubernetes_configmap
#include <boost/test/unit_test.hpp>

#include "configmap_source.h"
#include "crossover_kube/json.h"
#include "kube_test_support.h"

using namespace kube_test;
using crossover::Snapshot;
using crossover::kube::ConfigMapSource;
using crossover::kube::kConfigMapSourceOptions;

namespace {

std::unique_ptr<ConfigMapSource> make_source(const FakeApiServer& server, const std::string& extra,
                                             CaptureLogger& logger, bool onetime = false) {
    const auto config = make_config(kConfigMapSourceOptions.specs(), kConfigMapSourceOptions.size(),
                                    connection_yaml(server) + extra, logger, onetime);
    return std::make_unique<ConfigMapSource>(config, kConfigMapSourceOptions.decode(config));
}

std::string doc(const Snapshot& s, const std::string& name) {
    const auto* d = s.find_document(name);
    return d == nullptr ? std::string("<none>") : d->content;
}

std::function<bool(const Snapshot&)> has_doc(const std::string& name, const std::string& content) {
    return [=](const Snapshot& s) { return s.complete && doc(s, name) == content; };
}

}  // namespace

BOOST_AUTO_TEST_CASE(updates_deletes_and_recreation_arrive) {
    FakeApiServer server;
    server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v1"}, {"cds.yaml", "c1"}}));
    server.apply(configmap_json("test", "unrelated", {{"other.yaml", "x"}}));
    CaptureLogger logger;
    auto source = make_source(server, "names: [envoy-xds]\n", logger);
    TestContext ctx;
    SourceRunner runner(*source, ctx);

    BOOST_REQUIRE(ctx.wait_for(has_doc("rds.yaml", "v1")));
    const auto first = ctx.latest();
    BOOST_TEST(first->documents.size() == 2u);
    BOOST_TEST(first->documents[0]->name == "cds.yaml");  // sorted
    BOOST_TEST(first->documents[0]->origin.describe() == "ConfigMap test/envoy-xds");
    BOOST_TEST(!first->documents[0]->origin.resource_version.empty());

    server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v2"}, {"cds.yaml", "c1"}}));
    BOOST_REQUIRE(ctx.wait_for(has_doc("rds.yaml", "v2")));

    server.remove("ConfigMap", "test", "envoy-xds");
    BOOST_REQUIRE(ctx.wait_for([](const Snapshot& s) { return !s.complete; }));
    BOOST_TEST(ctx.latest()->missing.size() == 1u);
    BOOST_TEST(ctx.latest()->missing[0].find("test/envoy-xds") != std::string::npos);

    server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v3"}}));
    BOOST_REQUIRE(ctx.wait_for(has_doc("rds.yaml", "v3")));
    BOOST_TEST(ctx.latest()->find_document("cds.yaml") == nullptr);
    runner.stop();
    BOOST_TEST(runner.status().is_ok());
    BOOST_TEST(ctx.counter("relists") == 0.0);
}

BOOST_AUTO_TEST_CASE(configmaps_merge_and_collisions_keep_the_last_good_output) {
    FakeApiServer server;
    server.apply(configmap_json("test", "a", {{"lds.yaml", "l"}}, {{"app", "envoy"}}));
    server.apply(configmap_json("test", "b", {{"rds.yaml", "r"}}, {{"app", "envoy"}}));
    server.apply(configmap_json("test", "c", {{"cds.yaml", "ignored"}}, {{"app", "other"}}));
    CaptureLogger logger;
    auto source = make_source(server, "label_selector: app=envoy\n", logger);
    TestContext ctx;
    SourceRunner runner(*source, ctx);
    BOOST_REQUIRE(ctx.wait_for([](const Snapshot& s) { return s.documents.size() == 2; }));
    BOOST_TEST(doc(*ctx.latest(), "lds.yaml") == "l");
    BOOST_TEST(doc(*ctx.latest(), "rds.yaml") == "r");
    BOOST_TEST(ctx.latest()->find_document("cds.yaml") == nullptr);

    const std::size_t before = ctx.published();
    server.apply(
        configmap_json("test", "b", {{"rds.yaml", "r"}, {"lds.yaml", "dup"}}, {{"app", "envoy"}}));
    BOOST_REQUIRE(eventually([&] { return logger.contains("defined by both"); }));
    BOOST_TEST(logger.contains("ConfigMap test/a and ConfigMap test/b"));
    BOOST_TEST(ctx.published() == before);  // nothing new published
    BOOST_TEST(doc(*ctx.latest(), "lds.yaml") == "l");

    // Fixing the collision publishes again.
    server.apply(configmap_json("test", "b", {{"rds.yaml", "r2"}}, {{"app", "envoy"}}));
    BOOST_REQUIRE(ctx.wait_for(has_doc("rds.yaml", "r2")));
}

namespace {

// A ConfigMap as the informer holds it, at `rv`.
Poco::JSON::Object::Ptr configmap_at(const std::string& name, const std::string& rv,
                                     const std::string& data) {
    return crossover::kube::parse_object(
        R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" + name +
            R"(","namespace":"test","resourceVersion":")" + rv + R"("},"data":)" + data + "}",
        "test ConfigMap");
}

}  // namespace

// Target 2 of issue 12: documents that did not change are passed on as the same
// pointers, and an unchanged ConfigMap is not decoded again.
BOOST_AUTO_TEST_CASE(unchanged_documents_keep_their_pointers) {
    FakeApiServer server;
    CaptureLogger logger;
    auto source = make_source(server, "names: [a, b]\n", logger);
    crossover::kube::Informer::State state;
    state["a"] = configmap_at("a", "1", R"({"lds.yaml":"l1","cds.yaml":"c1"})");
    state["b"] = configmap_at("b", "2", R"({"rds.yaml":"r1"})");
    const auto first = source->build(state);
    BOOST_TEST(source->decoded() == 2u);
    BOOST_REQUIRE(first->documents.size() == 3u);

    // The same objects again (a relist, or another ConfigMap's event): nothing is decoded.
    const auto again = source->build(state);
    BOOST_TEST(source->decoded() == 2u);
    BOOST_REQUIRE(again->documents.size() == 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        BOOST_TEST(again->documents[i] == first->documents[i]);
    }

    // One key of "a" changes: "a" alone is decoded; its other key and all of "b" stay.
    state["a"] = configmap_at("a", "3", R"({"lds.yaml":"l2","cds.yaml":"c1"})");
    const auto changed = source->build(state);
    BOOST_TEST(source->decoded() == 3u);
    BOOST_REQUIRE(changed->documents.size() == 3u);
    BOOST_TEST(changed->find_document("cds.yaml") == first->find_document("cds.yaml"));
    BOOST_TEST(changed->find_document("rds.yaml") == first->find_document("rds.yaml"));
    BOOST_TEST(changed->find_document("lds.yaml") != first->find_document("lds.yaml"));
    BOOST_TEST(changed->find_document("lds.yaml")->content == "l2");
    BOOST_TEST(changed->find_document("lds.yaml")->origin.resource_version == "3");

    // A ConfigMap that goes and comes back is decoded again; a collision still throws.
    state.erase("b");
    (void)source->build(state);
    state["b"] = configmap_at("b", "4", R"({"cds.yaml":"dup"})");
    BOOST_CHECK_THROW((void)source->build(state), crossover::Error);
    BOOST_TEST(source->decoded() == 4u);
    state["b"] = configmap_at("b", "5", R"({"rds.yaml":"r1"})");
    const auto back = source->build(state);
    BOOST_TEST(source->decoded() == 5u);
    BOOST_TEST(back->find_document("rds.yaml") != first->find_document("rds.yaml"));
    BOOST_TEST(back->find_document("cds.yaml") == first->find_document("cds.yaml"));
}

// The documents are the only copy of the data's text: the informer's objects give theirs up once
// decoded, and a build never reads a ConfigMap's data twice, whatever fails meanwhile.
BOOST_AUTO_TEST_CASE(data_is_taken_from_the_informer_once_decoded) {
    FakeApiServer server;
    CaptureLogger logger;
    auto source = make_source(server, "names: [a, b]\n", logger);
    const auto text = [](const Poco::JSON::Object::Ptr& cm, const std::string& key) {
        return cm->getObject("data")->getValue<std::string>(key);
    };
    crossover::kube::Informer::State state;
    state["a"] = configmap_at("a", "1", R"({"lds.yaml":"l1","cds.yaml":"c1"})");
    state["b"] = configmap_at("b", "2", R"({"rds.yaml":"r1"})");
    const auto first = source->build(state);
    BOOST_TEST(doc(*first, "lds.yaml") == "l1");
    BOOST_TEST(doc(*first, "rds.yaml") == "r1");
    BOOST_TEST(text(state["a"], "lds.yaml").empty());
    BOOST_TEST(text(state["b"], "rds.yaml").empty());

    // "b" now collides with "a": the snapshot fails, but "b" was decoded and is remembered, so
    // when "a" drops the key, "b"'s document is still its text (not the emptied object's).
    state["b"] = configmap_at("b", "3", R"({"rds.yaml":"r2","cds.yaml":"c2"})");
    BOOST_CHECK_THROW((void)source->build(state), crossover::Error);
    state["a"] = configmap_at("a", "4", R"({"lds.yaml":"l1"})");
    const auto resolved = source->build(state);
    BOOST_TEST(source->decoded() == 4u);
    BOOST_TEST(doc(*resolved, "rds.yaml") == "r2");
    BOOST_TEST(doc(*resolved, "cds.yaml") == "c2");
    BOOST_TEST(doc(*resolved, "lds.yaml") == "l1");
    BOOST_TEST(resolved->find_document("lds.yaml") == first->find_document("lds.yaml"));

    // A relist hands over new objects of unchanged ConfigMaps: their data is freed, the
    // documents stay the same pointers.
    state["b"] = configmap_at("b", "3", R"({"rds.yaml":"r2","cds.yaml":"c2"})");
    const auto relisted = source->build(state);
    BOOST_TEST(source->decoded() == 4u);
    BOOST_TEST(text(state["b"], "rds.yaml").empty());
    BOOST_TEST(relisted->find_document("rds.yaml") == resolved->find_document("rds.yaml"));

    // A ConfigMap that fails to decode keeps its object whole, and says so again next time.
    state["a"] = configmap_at("a", "5", R"({"lds.yaml":"l3","../x":"y"})");
    BOOST_CHECK_THROW((void)source->build(state), crossover::Error);
    BOOST_TEST(text(state["a"], "lds.yaml") == "l3");
    BOOST_CHECK_THROW((void)source->build(state), crossover::Error);
    state["a"] = configmap_at("a", "6", R"({"lds.yaml":"l3"})");
    BOOST_TEST(doc(*source->build(state), "lds.yaml") == "l3");
}

// Through the watch: an update of one ConfigMap leaves the other's documents as they were.
BOOST_AUTO_TEST_CASE(an_update_passes_the_other_documents_on_unchanged) {
    FakeApiServer server;
    server.apply(configmap_json("test", "a", {{"lds.yaml", "l"}}, {{"app", "envoy"}}));
    server.apply(configmap_json("test", "b", {{"rds.yaml", "r1"}}, {{"app", "envoy"}}));
    CaptureLogger logger;
    auto source = make_source(server, "label_selector: app=envoy\n", logger);
    TestContext ctx;
    SourceRunner runner(*source, ctx);
    BOOST_REQUIRE(ctx.wait_for(has_doc("rds.yaml", "r1")));
    const auto before = ctx.latest();
    server.apply(configmap_json("test", "b", {{"rds.yaml", "r2"}}, {{"app", "envoy"}}));
    BOOST_REQUIRE(ctx.wait_for(has_doc("rds.yaml", "r2")));
    const auto after = ctx.latest();
    BOOST_TEST(after->find_document("lds.yaml") == before->find_document("lds.yaml"));
    BOOST_TEST(after->find_document("rds.yaml") != before->find_document("rds.yaml"));
}

BOOST_AUTO_TEST_CASE(binary_data_is_decoded_and_unsafe_keys_refused) {
    FakeApiServer server;
    server.apply(
        R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"bin","namespace":"test"},
        "data":{"a.txt":"plain"},"binaryData":{"b.bin":"AAEC/w=="}})");
    CaptureLogger logger;
    auto source = make_source(server, "names: [bin]\n", logger);
    TestContext ctx;
    SourceRunner runner(*source, ctx);
    BOOST_REQUIRE(ctx.wait_for(has_doc("a.txt", "plain")));
    BOOST_TEST(doc(*ctx.latest(), "b.bin") == std::string("\x00\x01\x02\xff", 4));

    server.apply(configmap_json("test", "bin", {{"..", "x"}, {"a.txt", "plain2"}}));
    BOOST_REQUIRE(eventually([&] { return logger.contains("not a safe file name"); }));
    BOOST_TEST(logger.contains("ConfigMap test/bin: data key '..'"));
    BOOST_TEST(doc(*ctx.latest(), "a.txt") == "plain");
}

BOOST_AUTO_TEST_CASE(streams_dropped_twenty_times_resume_without_relisting) {
    FakeApiServer server;
    server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v0"}}));
    CaptureLogger logger;
    auto source = make_source(server, "names: [envoy-xds]\nbackoff_max: 200ms\n", logger);
    TestContext ctx;
    SourceRunner runner(*source, ctx);
    BOOST_REQUIRE(ctx.wait_for(has_doc("rds.yaml", "v0")));
    for (int i = 1; i <= 20; ++i) {
        BOOST_REQUIRE(eventually([&] { return server.open_watches() > 0; }));
        control(server, "/drop-streams");
        // The update lands while the client has no stream open.
        server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v" + std::to_string(i)}}));
        BOOST_REQUIRE_MESSAGE(ctx.wait_for(has_doc("rds.yaml", "v" + std::to_string(i))),
                              "update " << i << " did not arrive");
    }
    BOOST_TEST(list_requests(server, "/configmaps") == 1);
    BOOST_TEST(ctx.counter("relists") == 0.0);
    BOOST_TEST(ctx.counter("watch_reconnects") >= 20.0);
}

BOOST_AUTO_TEST_CASE(compacted_history_relists_and_converges) {
    for (const std::string mode : {"event", "http"}) {
        BOOST_TEST_CONTEXT("gone_mode " << mode) {
            FakeApiServer::Options options;
            options.gone_mode = mode;
            FakeApiServer server(options);
            server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v1"}}));
            server.apply(configmap_json("test", "second", {{"cds.yaml", "c1"}}));
            CaptureLogger logger;
            auto source =
                make_source(server, "names: [envoy-xds, second]\nbackoff_max: 200ms\n", logger);
            TestContext ctx;
            SourceRunner runner(*source, ctx);
            BOOST_REQUIRE(ctx.wait_for(has_doc("rds.yaml", "v1")));
            BOOST_REQUIRE(eventually([&] { return server.open_watches() > 0; }));
            // Changes the client does not see, then history is compacted.
            control(server, "/stall", R"({"stall": true})");
            server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v2"}}));
            server.remove("ConfigMap", "test", "second");
            control(server, "/compact");
            control(server, "/drop-streams");  // the stalled stream never delivered them
            control(server, "/stall", R"({"stall": false})");
            BOOST_REQUIRE(ctx.wait_for(
                [](const Snapshot& s) { return doc(s, "rds.yaml") == "v2" && !s.complete; }));
            BOOST_TEST(ctx.counter("gone_410") >= 1.0);
            BOOST_TEST(ctx.counter("relists") >= 1.0);
            BOOST_TEST(list_requests(server, "/configmaps") >= 2);
            BOOST_TEST(ctx.latest()->find_document("cds.yaml") == nullptr);
        }
    }
}

BOOST_AUTO_TEST_CASE(token_rotated_and_old_one_revoked_keeps_working) {
    FakeApiServer server;
    server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v1"}}));
    CaptureLogger logger;
    auto source = make_source(server, "names: [envoy-xds]\ntoken_refresh: 1h\n", logger);
    TestContext ctx;
    SourceRunner runner(*source, ctx);
    BOOST_REQUIRE(ctx.wait_for(has_doc("rds.yaml", "v1")));
    server.rotate_token("rotated-token-1", true);
    control(server, "/drop-streams");  // the next watch must authenticate again
    server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v2"}}));
    BOOST_REQUIRE(ctx.wait_for(has_doc("rds.yaml", "v2")));
    BOOST_TEST(logger.contains("bearer token reloaded"));
    BOOST_TEST(all_requests(server, "/configmaps") >= 3);
}

BOOST_AUTO_TEST_CASE(wrong_ca_is_refused_with_a_clear_message) {
    FakeApiServer server;
    FakeApiServer other;  // its CA did not sign `server`'s certificate
    server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v1"}}));
    CaptureLogger logger;
    auto config = make_config(kConfigMapSourceOptions.specs(), kConfigMapSourceOptions.size(),
                              "apiserver: " + server.url() + "\nca_file: " + other.ca_file() +
                                  "\ntoken_file: " + server.token_file() +
                                  "\nnamespace: test\nnames: [envoy-xds]\nwait_timeout: 1s\n",
                              logger, true);
    ConfigMapSource source(config, kConfigMapSourceOptions.decode(config));
    TestContext ctx;
    const crossover::Status st = source.run(ctx);
    BOOST_REQUIRE(!st.is_ok());
    BOOST_TEST_MESSAGE(st.message());
    BOOST_TEST(st.message().find("TLS") != std::string::npos);
    BOOST_TEST(st.message().find("certificate") != std::string::npos);
    BOOST_TEST(st.message().find(server.url()) != std::string::npos);
    BOOST_TEST(st.message().find(other.ca_file()) != std::string::npos);
    BOOST_TEST(ctx.published() == 0u);
    // The same client with the right CA works.
    auto good = make_source(server, "names: [envoy-xds]\n", logger, true);
    BOOST_TEST(good->run(ctx).is_ok());
    BOOST_TEST(ctx.published() == 1u);
}

BOOST_AUTO_TEST_CASE(five_mib_configmap_is_read_by_list_and_watch) {
    FakeApiServer server;
    std::string big(5u << 20u, 'x');
    for (std::size_t i = 0; i < big.size(); i += 97) {
        big[i] = static_cast<char>('a' + (i % 26));
    }
    server.apply(configmap_json("test", "big", {{"rds.yaml", big}}));
    CaptureLogger logger;
    auto source = make_source(server, "names: [big]\n", logger);
    TestContext ctx;
    SourceRunner runner(*source, ctx);
    BOOST_REQUIRE(ctx.wait_for(has_doc("rds.yaml", big), 60s));
    std::string bigger = big + "-and-more";
    bigger[12345] = '#';
    server.apply(configmap_json("test", "big", {{"rds.yaml", bigger}}));  // a 5 MiB watch line
    BOOST_REQUIRE(ctx.wait_for(has_doc("rds.yaml", bigger), 60s));
    BOOST_TEST(ctx.counter("relists") == 0.0);
}

BOOST_AUTO_TEST_CASE(server_errors_back_off_and_recover) {
    FakeApiServer server;
    server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v1"}}));
    control(server, "/fail", R"({"count": 100000, "status": 500, "path": "/configmaps"})");
    CaptureLogger logger;
    auto source = make_source(
        server, "names: [envoy-xds]\nbackoff_initial: 50ms\nbackoff_max: 400ms\n", logger);
    TestContext ctx;
    SourceRunner runner(*source, ctx);
    BOOST_REQUIRE(eventually([&] { return all_requests(server, "/configmaps") >= 4; }));
    std::this_thread::sleep_for(2s);
    // With 50ms doubling to 400ms, ~3s of failures allow about a dozen attempts;
    // a retry loop without backoff would make thousands.
    const int during = all_requests(server, "/configmaps");
    BOOST_TEST(during <= 25);
    BOOST_TEST(ctx.published() == 0u);
    BOOST_TEST(logger.contains("HTTP 500"));
    control(server, "/clear-failures");
    BOOST_REQUIRE(ctx.wait_for(has_doc("rds.yaml", "v1")));
    server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v2"}}));
    BOOST_REQUIRE(ctx.wait_for(has_doc("rds.yaml", "v2")));
}

BOOST_AUTO_TEST_CASE(silent_stream_is_detected_and_resumed) {
    FakeApiServer server;
    server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v1"}}));
    CaptureLogger logger;
    auto source =
        make_source(server, "names: [envoy-xds]\ntimeout: 30s\nread_timeout: 1s\n", logger);
    TestContext ctx;
    SourceRunner runner(*source, ctx);
    BOOST_REQUIRE(ctx.wait_for(has_doc("rds.yaml", "v1")));
    BOOST_REQUIRE(eventually([&] { return server.open_watches() > 0; }));
    control(server, "/stall", R"({"stall": true})");  // open streams go silent
    server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v2"}}));
    BOOST_REQUIRE(ctx.wait_for(has_doc("rds.yaml", "v2"), 30s));
    BOOST_TEST(ctx.counter("watch_timeouts") >= 1.0);
    BOOST_TEST(ctx.counter("relists") == 0.0);
}

BOOST_AUTO_TEST_CASE(onetime_waits_for_named_configmaps_then_fails_naming_them) {
    FakeApiServer server;
    server.apply(configmap_json("test", "present", {{"a.yaml", "a"}}));
    CaptureLogger logger;
    {
        auto source =
            make_source(server, "names: [present, absent]\nwait_timeout: 1s\n", logger, true);
        TestContext ctx;
        const crossover::Status st = source->run(ctx);
        BOOST_REQUIRE(!st.is_ok());
        BOOST_TEST(st.message().find("ConfigMap test/absent not found") != std::string::npos);
        BOOST_TEST(st.message().find("present") == std::string::npos);
        BOOST_TEST(ctx.published() == 0u);
    }
    {
        auto source =
            make_source(server, "names: [present, late]\nwait_timeout: 20s\n", logger, true);
        TestContext ctx;
        std::thread creator([&] {
            std::this_thread::sleep_for(700ms);
            server.apply(configmap_json("test", "late", {{"b.yaml", "b"}}));
        });
        const crossover::Status st = source->run(ctx);
        creator.join();
        BOOST_REQUIRE_MESSAGE(st.is_ok(), st.message());
        BOOST_REQUIRE(ctx.published() == 1u);
        BOOST_TEST(doc(*ctx.latest(), "a.yaml") == "a");
        BOOST_TEST(doc(*ctx.latest(), "b.yaml") == "b");
    }
}

BOOST_AUTO_TEST_CASE(insecure_is_logged_and_stop_is_prompt) {
    FakeApiServer server;
    server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v1"}}));
    CaptureLogger logger;
    auto config = make_config(kConfigMapSourceOptions.specs(), kConfigMapSourceOptions.size(),
                              "apiserver: " + server.url() + "\ninsecure: true\ntoken_file: " +
                                  server.token_file() + "\nnamespace: test\nnames: [envoy-xds]\n",
                              logger);
    ConfigMapSource source(config, kConfigMapSourceOptions.decode(config));
    BOOST_TEST(logger.contains("DISABLED"));
    TestContext ctx;
    SourceRunner runner(source, ctx);
    BOOST_REQUIRE(ctx.wait_for(has_doc("rds.yaml", "v1")));
    BOOST_REQUIRE(eventually([&] { return server.open_watches() > 0; }));
    // The watch is blocked in a read (timeout 60s); stop must end it now.
    source.stop();
    BOOST_REQUIRE(eventually([&] { return runner.done(); }, 15s));
}

BOOST_AUTO_TEST_CASE(configuration_errors_name_the_option) {
    CaptureLogger logger;
    auto c1 = make_config(kConfigMapSourceOptions.specs(), kConfigMapSourceOptions.size(),
                          "apiserver: https://127.0.0.1:1\nnamespace: test\n", logger);
    BOOST_CHECK_EXCEPTION(ConfigMapSource(c1, kConfigMapSourceOptions.decode(c1)), crossover::Error,
                          [](const crossover::Error& e) {
                              return std::string(e.what()).find("names, label_selector") !=
                                     std::string::npos;
                          });
    auto c2 = make_config(kConfigMapSourceOptions.specs(), kConfigMapSourceOptions.size(),
                          "apiserver: https://127.0.0.1:1\nca_file: /nonexistent/ca.crt\n"
                          "names: [x]\n",
                          logger);
    BOOST_CHECK_EXCEPTION(ConfigMapSource(c2, kConfigMapSourceOptions.decode(c2)), crossover::Error,
                          [](const crossover::Error& e) {
                              return std::string(e.what()).find("/nonexistent/ca.crt") !=
                                     std::string::npos;
                          });
}

BOOST_AUTO_TEST_CASE(bookmarks_advance_the_resume_point_past_compaction) {
    FakeApiServer server;
    server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v1"}}));
    CaptureLogger logger;
    auto source = make_source(server, "names: [envoy-xds]\nbackoff_max: 200ms\n", logger);
    TestContext ctx;
    SourceRunner runner(*source, ctx);
    BOOST_REQUIRE(ctx.wait_for(has_doc("rds.yaml", "v1")));
    BOOST_REQUIRE(eventually([&] { return server.open_watches() > 0; }));
    // Changes the field selector hides move the server's resourceVersion on.
    for (int i = 0; i < 3; ++i) {
        server.apply(configmap_json("test", "noise", {{"n", std::to_string(i)}}));
    }
    control(server, "/bookmark");
    BOOST_REQUIRE(eventually([&] { return ctx.counter("bookmarks") >= 1.0; }));
    // History before the bookmark is gone: resuming from the object's own
    // resourceVersion would now get 410 Gone.
    control(server, "/compact");
    control(server, "/drop-streams");
    server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v2"}}));
    BOOST_REQUIRE(ctx.wait_for(has_doc("rds.yaml", "v2")));
    BOOST_TEST(ctx.counter("gone_410") == 0.0);
    BOOST_TEST(ctx.counter("relists") == 0.0);
    BOOST_TEST(list_requests(server, "/configmaps") == 1);
}

BOOST_AUTO_TEST_CASE(resync_relists_periodically) {
    FakeApiServer server;
    server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v1"}}));
    CaptureLogger logger;
    auto source = make_source(server, "names: [envoy-xds]\nresync: 1s\n", logger);
    TestContext ctx;
    SourceRunner runner(*source, ctx);
    BOOST_REQUIRE(ctx.wait_for(has_doc("rds.yaml", "v1")));
    // The server counts a list when it answers it; the source counts it once it has read the
    // answer, so wait on the source's counter.
    BOOST_REQUIRE(eventually([&] { return ctx.counter("relists") >= 2.0; }, 30s));
    BOOST_TEST(list_requests(server, "/configmaps") >= 3);
    // Unchanged content is not published again.
    BOOST_TEST(ctx.published() == 1u);
}

BOOST_AUTO_TEST_CASE(stop_is_prompt_at_any_moment) {
    FakeApiServer server;
    server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v1"}}));
    CaptureLogger logger;
    // Stop at different moments: while connecting, listing, opening the
    // watch, or reading it. A blocked read must never outlive stop().
    for (int i = 0; i < 24; ++i) {
        BOOST_TEST_CONTEXT("stop after " << i * 4 << "ms") {
            auto source = make_source(server, "names: [envoy-xds]\n", logger);
            TestContext ctx;
            SourceRunner runner(*source, ctx);
            std::this_thread::sleep_for(std::chrono::milliseconds(i * 4));
            ctx.stop();
            source->stop();
            BOOST_TEST(eventually([&] { return runner.done(); }, 10s));
        }
    }
}

namespace {

// The source's timeline after the test's mark `label`.
std::vector<std::string> since(const TestContext& ctx, const std::string& label) {
    const auto all = ctx.timeline();
    const auto at = std::find(all.begin(), all.end(), label);
    return at == all.end() ? std::vector<std::string>{}
                           : std::vector<std::string>(std::next(at), all.end());
}

bool is_sleep(const std::string& entry) {
    return entry.rfind("sleep ", 0) == 0;
}

long long sleep_ms(const std::string& entry) {
    return std::stoll(entry.substr(6));
}

std::string joined(const std::vector<std::string>& entries) {
    std::string out;
    for (const auto& e : entries) {
        out += (out.empty() ? "" : ", ") + e;
    }
    return out;
}

// Takes the API server down until the source has failed to reach it `failures`
// times (so that its backoff has grown), runs `during`, and brings it back.
void outage(const FakeApiServer& server, const TestContext& ctx, double failures,
            const std::function<void()>& during) {
    control(server, "/outage", R"({"down": true})");
    BOOST_REQUIRE(eventually([&] { return ctx.counter("watch_failures") >= failures; }));
    during();
    control(server, "/outage", R"({"down": false})");
}

// A source watching envoy-xds (rds.yaml: v1, read) whose backoff grows from 100ms for an hour.
struct GrowingBackoffRig {
    FakeApiServer server;
    CaptureLogger logger;
    std::unique_ptr<ConfigMapSource> source;
    TestContext ctx;
    std::unique_ptr<SourceRunner> runner;

    GrowingBackoffRig() {
        server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v1"}}));
        source = make_source(
            server,
            "names: [envoy-xds]\nbackoff_initial: 100ms\nbackoff_max: 1h\ntoken_refresh: 1h\n",
            logger);
        runner = std::make_unique<SourceRunner>(*source, ctx);
        BOOST_REQUIRE(ctx.wait_for(has_doc("rds.yaml", "v1")));
        BOOST_REQUIRE(eventually([&] { return server.open_watches() > 0; }));
    }
};

}  // namespace

// An outage during which history is compacted (and, in the second round, the token rotated
// with the old one revoked): the resumed watch gets 410 Gone (after a 401 and a token reload),
// and the source must relist at once rather than wait out the outage's backoff once more.
BOOST_AUTO_TEST_CASE(gone_after_an_outage_relists_at_once_and_resets_the_backoff) {
    for (const bool rotate : {false, true}) {
        BOOST_TEST_CONTEXT((rotate ? "token rotated during the outage" : "same token")) {
            GrowingBackoffRig rig;
            auto& [server, logger, source, ctx, runner] = rig;
            outage(server, ctx, 4, [&] {
                server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v2"}}));
                control(server, "/compact");
                if (rotate) {
                    server.rotate_token("rotated-during-the-outage", true);
                }
            });
            ctx.mark("up");
            BOOST_REQUIRE(ctx.wait_for(has_doc("rds.yaml", "v2")));
            const auto events = since(ctx, "up");
            const auto gone = std::find(events.begin(), events.end(), "gone_410");
            BOOST_REQUIRE_MESSAGE(gone != events.end(), joined(events));
            const auto relist = std::find(gone, events.end(), "relists");
            BOOST_REQUIRE_MESSAGE(relist != events.end(), joined(events));
            BOOST_TEST(std::none_of(gone, relist, is_sleep),
                       "slept before relisting: " << joined(events));
            if (rotate) {
                BOOST_TEST(logger.contains("bearer token reloaded"));
            }
            // Debug level tells the story: the decision, the list with its timing, the events.
            BOOST_TEST(logger.contains("/configmaps: relisting at once"));
            BOOST_TEST(logger.contains("selected objects at resourceVersion"));
            BOOST_TEST(logger.contains("/configmaps: watch failed; retrying in "));
            // The backoff starts again from backoff_initial.
            BOOST_REQUIRE(eventually([&] { return server.open_watches() > 0; }));
            ctx.mark("dropped");
            control(server, "/drop-streams");
            std::vector<std::string> after;
            BOOST_REQUIRE(eventually([&] {
                after = since(ctx, "dropped");
                return std::any_of(after.begin(), after.end(), is_sleep);
            }));
            const auto first_sleep = *std::find_if(after.begin(), after.end(), is_sleep);
            BOOST_TEST(sleep_ms(first_sleep) <= 100, joined(after));
        }
    }
}

// 403 Forbidden right after the API server comes back (RBAC not warmed up yet) is a new
// failure: its retries start from backoff_initial, not from where the outage left the delay.
BOOST_AUTO_TEST_CASE(forbidden_after_an_outage_does_not_inherit_its_backoff) {
    GrowingBackoffRig rig;
    auto& [server, logger, source, ctx, runner] = rig;
    outage(server, ctx, 4, [&] {
        server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v2"}}));
        control(server, "/fail", R"({"count": 3, "status": 403, "path": "/configmaps"})");
    });
    ctx.mark("up");
    BOOST_REQUIRE(ctx.wait_for(has_doc("rds.yaml", "v2")));
    BOOST_TEST(logger.contains("HTTP 403"));
    const auto events = since(ctx, "up");
    std::vector<long long> sleeps;
    for (const auto& e : events) {
        if (is_sleep(e)) {
            sleeps.push_back(sleep_ms(e));
        }
    }
    BOOST_TEST(sleeps.size() >= 3u, joined(events));
    // Three 403s from the first delay: at most 100, 200 and 400 ms.
    for (const long long ms : sleeps) {
        BOOST_TEST(ms <= 400, joined(events));
    }
}

// A failure that repeats on every retry is a warning once (then debug), and its end one line.
BOOST_AUTO_TEST_CASE(a_repeated_failure_is_logged_once_and_its_recovery_once) {
    FakeApiServer server;
    server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v1"}}));
    control(server, "/fail", R"({"count": 100000, "status": 500, "path": "/configmaps"})");
    CaptureLogger logger;
    auto source = make_source(
        server, "names: [envoy-xds]\nbackoff_initial: 20ms\nbackoff_max: 40ms\n", logger);
    TestContext ctx;
    SourceRunner runner(*source, ctx);
    BOOST_REQUIRE(eventually([&] { return ctx.counter("list_errors") >= 5.0; }));
    control(server, "/clear-failures");
    BOOST_REQUIRE(ctx.wait_for(has_doc("rds.yaml", "v1")));
    const auto count = [&](const std::string& level, const std::string& text) {
        const auto lines = logger.lines();
        return std::count_if(lines.begin(), lines.end(), [&](const std::string& l) {
            return l.rfind(level + " ", 0) == 0 && l.find(text) != std::string::npos;
        });
    };
    const std::string warn = std::to_string(static_cast<int>(crossover::LogLevel::Warn));
    const std::string debug = std::to_string(static_cast<int>(crossover::LogLevel::Debug));
    const std::string info = std::to_string(static_cast<int>(crossover::LogLevel::Info));
    BOOST_TEST(count(warn, "HTTP 500") == 1);
    BOOST_TEST(count(debug, "HTTP 500") >= 4);
    BOOST_TEST(count(info, "recovered (after: list ") == 1);
    // Watch events at debug level.
    server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v2"}}));
    BOOST_REQUIRE(ctx.wait_for(has_doc("rds.yaml", "v2")));
    BOOST_TEST(count(debug, ": MODIFIED envoy-xds resourceVersion ") == 1);
}

// Without debug level, the informer and the source format no line per event or change.
BOOST_AUTO_TEST_CASE(no_debug_line_is_formatted_when_debug_is_off) {
    FakeApiServer server;
    server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v1"}}));
    CaptureLogger logger;
    logger.enable_from(crossover::LogLevel::Info);
    auto source = make_source(server, "names: [envoy-xds]\n", logger);
    TestContext ctx;
    SourceRunner runner(*source, ctx);
    BOOST_REQUIRE(ctx.wait_for(has_doc("rds.yaml", "v1")));
    server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v2"}}));
    BOOST_REQUIRE(ctx.wait_for(has_doc("rds.yaml", "v2")));
    BOOST_TEST(ctx.counter("events_modified") >= 1.0);
    for (const auto& text : {": MODIFIED envoy-xds resourceVersion ", " reported together",
                             "built the snapshot of "}) {
        BOOST_TEST(!logger.contains(text), text);
    }
    // With debug on, the same lines are there.
    CaptureLogger debug_logger;
    auto debug_source = make_source(server, "names: [envoy-xds]\n", debug_logger);
    TestContext debug_ctx;
    SourceRunner debug_runner(*debug_source, debug_ctx);
    BOOST_REQUIRE(debug_ctx.wait_for(has_doc("rds.yaml", "v2")));
    server.apply(configmap_json("test", "envoy-xds", {{"rds.yaml", "v3"}}));
    BOOST_REQUIRE(debug_ctx.wait_for(has_doc("rds.yaml", "v3")));
    BOOST_TEST(debug_logger.contains(": MODIFIED envoy-xds resourceVersion "));
    BOOST_TEST(debug_logger.contains(" reported together"));
}
