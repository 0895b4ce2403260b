#define BOOST_TEST_MODULE source_smi_trafficsplit
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <thread>

#include "crossover_kube/json.h"
#include "kube_test_support.h"
#include "trafficsplit_source.h"

using namespace kube_test;
using crossover::Snapshot;
using crossover::kube::kTrafficSplitSourceOptions;
using crossover::kube::TrafficSplitSource;

namespace {

std::unique_ptr<TrafficSplitSource> make_source(const FakeApiServer& server,
                                                const std::string& extra, CaptureLogger& logger,
                                                bool onetime = false) {
    const auto config =
        make_config(kTrafficSplitSourceOptions.specs(), kTrafficSplitSourceOptions.size(),
                    connection_yaml(server) + extra, logger, onetime);
    return std::make_unique<TrafficSplitSource>(config, kTrafficSplitSourceOptions.decode(config));
}

std::string split_json(const std::string& api_version, const std::string& name,
                       const std::string& canary_weight, const std::string& primary_weight,
                       const std::string& extra_spec = "") {
    return R"({"apiVersion":"split.smi-spec.io/)" + api_version +
           R"(","kind":"TrafficSplit","metadata":{"name":")" + name +
           R"(","namespace":"test"},"spec":{"service":"podinfo",)" + extra_spec +
           R"("backends":[{"service":"podinfo-canary","weight":)" + canary_weight +
           R"(},{"service":"podinfo-primary","weight":)" + primary_weight + "}]}}";
}

const crossover::Object* find(const Snapshot& s, const std::string& name) {
    for (const auto& o : s.objects) {
        if (o->ref.name == name) {
            return o.get();
        }
    }
    return nullptr;
}

std::string weight(const Snapshot& s, const std::string& name, int backend) {
    const auto* o = find(s, name);
    if (o == nullptr) {
        return "<none>";
    }
    return o->body["spec"]["backends"][backend]["weight"].as<std::string>();
}

}  // namespace

BOOST_AUTO_TEST_CASE(auto_version_uses_discovery_and_publishes_objects) {
    FakeApiServer::Options options;
    options.preferred_version = "v1alpha3";
    FakeApiServer server(options);
    server.apply(split_json("v1alpha3", "podinfo", "10", "90",
                            R"("matches":[{"kind":"HTTPRouteGroup","name":"ab"}],)"));
    CaptureLogger logger;
    auto source = make_source(server, "names: [podinfo]\n", logger);
    TestContext ctx;
    SourceRunner runner(*source, ctx);
    BOOST_REQUIRE(ctx.wait_for([](const Snapshot& s) { return weight(s, "podinfo", 0) == "10"; }));
    const auto* o = find(*ctx.latest(), "podinfo");
    BOOST_REQUIRE(o != nullptr);
    BOOST_TEST(o->ref.kind == "TrafficSplit");
    BOOST_TEST(o->ref.describe() == "TrafficSplit test/podinfo");
    BOOST_TEST(o->api_version == "split.smi-spec.io/v1alpha3");
    BOOST_TEST(o->body["spec"]["matches"][0]["name"].as<std::string>() == "ab");
    BOOST_TEST(logger.contains("v1alpha3 (the server's preferred version)"));
    BOOST_TEST(all_requests(server, "/apis/split.smi-spec.io/v1alpha3/namespaces/test") >= 1);

    // A Flagger step.
    server.apply(split_json("v1alpha3", "podinfo", "20", "80"));
    BOOST_REQUIRE(ctx.wait_for([](const Snapshot& s) { return weight(s, "podinfo", 0) == "20"; }));
}

// Every split changed in one write (a `helm upgrade`): the events arrive
// together and are published together, not one snapshot per event.
BOOST_AUTO_TEST_CASE(a_burst_of_changes_is_published_together) {
    FakeApiServer::Options options;
    options.preferred_version = "v1alpha3";
    FakeApiServer server(options);
    constexpr int kSplits = 300;
    auto all = [](const std::string& canary, const std::string& primary) {
        std::string list = "{\"objects\":[";
        for (int i = 0; i < kSplits; ++i) {
            list += (i > 0 ? "," : "") +
                    split_json("v1alpha3", "split-" + std::to_string(i), canary, primary);
        }
        return list + "]}";
    };
    server.apply(all("10", "90"));
    CaptureLogger logger;
    auto source = make_source(server, "", logger);
    TestContext ctx;
    SourceRunner runner(*source, ctx);
    BOOST_REQUIRE(ctx.wait_for([](const Snapshot& s) {
        return s.objects.size() == static_cast<std::size_t>(kSplits) &&
               weight(s, "split-0", 0) == "10";
    }));
    const std::size_t before = ctx.published();
    server.apply(all("30", "70"));
    BOOST_REQUIRE(ctx.wait_for([](const Snapshot& s) {
        for (int i = 0; i < kSplits; ++i) {
            if (weight(s, "split-" + std::to_string(i), 0) != "30") {
                return false;
            }
        }
        return true;
    }));
    // One snapshot per event would be 300. The test server sends the 300 events with one
    // write, so they are read back to back and published as one snapshot; a few more only
    // when the reading thread was held up for longer than the gap between two events.
    const std::size_t snapshots = ctx.published() - before;
    BOOST_TEST_MESSAGE("300 changes in one write: " << snapshots << " snapshots, "
                                                    << ctx.counter("burst_waits")
                                                    << " waits for a next event");
    BOOST_CHECK_LE(snapshots, 10u);
    BOOST_TEST(ctx.counter("events_modified") == 300.0);

    // Only the changed split is converted again: the others are the same objects.
    const auto last = ctx.latest();
    server.apply(split_json("v1alpha3", "split-7", "40", "60"));
    BOOST_REQUIRE(ctx.wait_for([](const Snapshot& s) { return weight(s, "split-7", 0) == "40"; }));
    const auto next = ctx.latest();
    BOOST_REQUIRE(next->objects.size() == last->objects.size());
    std::size_t replaced = 0;
    for (std::size_t i = 0; i < next->objects.size(); ++i) {
        BOOST_REQUIRE(next->objects[i]->ref.name == last->objects[i]->ref.name);
        if (next->objects[i] != last->objects[i]) {
            ++replaced;
        }
    }
    BOOST_TEST(replaced == 1u);
}

// A canary step changes one split: nothing else is on the stream, so the
// change is reported at once, never held for a next event that is not coming.
BOOST_AUTO_TEST_CASE(a_lone_change_is_reported_without_waiting_for_more) {
    FakeApiServer::Options options;
    options.preferred_version = "v1alpha3";
    FakeApiServer server(options);
    server.apply(split_json("v1alpha3", "podinfo", "0", "100"));
    CaptureLogger logger;
    auto source = make_source(server, "names: [podinfo]\n", logger);
    TestContext ctx;
    SourceRunner runner(*source, ctx);
    BOOST_REQUIRE(ctx.wait_for([](const Snapshot& s) { return weight(s, "podinfo", 0) == "0"; }));
    for (int step = 1; step <= 3; ++step) {
        // A quiet stream before each step, as between a rollout's steps.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        const std::string canary = std::to_string(step * 10);
        const std::size_t before = ctx.published();
        server.apply(split_json("v1alpha3", "podinfo", canary, std::to_string(100 - step * 10)));
        BOOST_REQUIRE(
            ctx.wait_for([&](const Snapshot& s) { return weight(s, "podinfo", 0) == canary; }));
        BOOST_TEST(ctx.published() == before + 1);
    }
    BOOST_TEST(ctx.counter("events_modified") == 3.0);
    BOOST_TEST(ctx.counter("burst_waits") == 0.0);
}

BOOST_AUTO_TEST_CASE(v1alpha1_quantities_pass_validation) {
    FakeApiServer server;
    server.apply(split_json("v1alpha1", "podinfo", R"("500m")", R"("1500m")"));
    CaptureLogger logger;
    auto source = make_source(server, "names: [podinfo]\napi_version: v1alpha1\n", logger, true);
    TestContext ctx;
    const crossover::Status st = source->run(ctx);
    BOOST_REQUIRE_MESSAGE(st.is_ok(), st.message());
    BOOST_REQUIRE(ctx.latest());
    BOOST_TEST(weight(*ctx.latest(), "podinfo", 0) == "500m");
    BOOST_TEST(find(*ctx.latest(), "podinfo")->api_version == "split.smi-spec.io/v1alpha1");
}

BOOST_AUTO_TEST_CASE(invalid_splits_are_reported_and_do_not_poison_the_others) {
    FakeApiServer server;
    server.apply(split_json("v1alpha2", "good", "5", "95"));
    server.apply(split_json("v1alpha2", "bad", "-10", "110"));
    CaptureLogger logger;
    auto source = make_source(server, "api_version: v1alpha2\n", logger);
    TestContext ctx;
    SourceRunner runner(*source, ctx);
    BOOST_REQUIRE(ctx.wait_for([](const Snapshot& s) { return weight(s, "good", 0) == "5"; }));
    BOOST_TEST(find(*ctx.latest(), "bad") == nullptr);
    BOOST_TEST(ctx.latest()->complete);
    BOOST_TEST(logger.contains("TrafficSplit test/bad: spec.backends[0].weight"));

    // No backends: reported, the previous valid version stays.
    server.apply(split_json("v1alpha2", "good", "30", "70"));
    BOOST_REQUIRE(ctx.wait_for([](const Snapshot& s) { return weight(s, "good", 0) == "30"; }));
    server.apply(
        R"({"apiVersion":"split.smi-spec.io/v1alpha2","kind":"TrafficSplit","metadata":{"name":"good","namespace":"test"},"spec":{"service":"podinfo","backends":[]}})");
    BOOST_REQUIRE(
        eventually([&] { return logger.contains("TrafficSplit test/good: spec.backends"); }));
    server.apply(split_json("v1alpha2", "bad", "1", "2"));  // now valid
    BOOST_REQUIRE(ctx.wait_for([](const Snapshot& s) { return weight(s, "bad", 0) == "1"; }));
    BOOST_TEST(weight(*ctx.latest(), "good", 0) == "30");
}

// build() keeps what it made of each JSON object: the same JSON (the informer replaces an
// object's JSON on every event) gives the same object without a look at its fields, even
// without a resourceVersion; an invalid one is not checked and reported again; an object
// that leaves the state is forgotten, its error too.
// A real API server adds managedFields to every object and `kubectl apply` a copy of the whole
// object as an annotation: no source reads them, so the stored objects (listed or watched) do
// not keep them; the other annotations stay.
BOOST_AUTO_TEST_CASE(writers_fields_are_not_kept) {
    FakeApiServer server;
    const auto applied = [](const std::string& canary) {
        std::string json = split_json("v1alpha2", "podinfo", canary, "90");
        std::string quoted = "\"";  // the object as a JSON string (it has no backslashes)
        for (const char c : json) {
            quoted += c == '"' ? std::string("\\\"") : std::string(1, c);
        }
        quoted += '"';
        const std::string meta = R"("metadata":{)";
        json.insert(
            json.find(meta) + meta.size(),
            R"("managedFields":[{"manager":"kubectl-client-side-apply","operation":"Update",)"
            R"("fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:service":{}}}}],)"
            R"("annotations":{"team":"edge","kubectl.kubernetes.io/last-applied-configuration":)" +
                quoted + "},");
        return json;
    };
    server.apply(applied("10"));
    CaptureLogger logger;
    auto source = make_source(server, "api_version: v1alpha2\nnames: [podinfo]\n", logger);
    TestContext ctx;
    SourceRunner runner(*source, ctx);
    const auto check = [&](const std::string& canary) {
        BOOST_REQUIRE(
            ctx.wait_for([&](const Snapshot& s) { return weight(s, "podinfo", 0) == canary; }));
        const auto* o = find(*ctx.latest(), "podinfo");
        BOOST_REQUIRE(o != nullptr);
        const YAML::Node metadata = o->body["metadata"];
        BOOST_TEST(!metadata["managedFields"]);
        BOOST_TEST(metadata["annotations"].size() == 1u);
        BOOST_TEST(metadata["annotations"]["team"].as<std::string>() == "edge");
    };
    check("10");  // listed
    server.apply(applied("20"));
    check("20");  // watched
}

BOOST_AUTO_TEST_CASE(build_converts_only_the_json_that_changed) {
    FakeApiServer server;
    CaptureLogger logger;
    auto source = make_source(server, "api_version: v1alpha2\n", logger);
    const auto json = [](const std::string& name, const std::string& canary) {
        return crossover::kube::parse_object(split_json("v1alpha2", name, canary, "90"), "test");
    };
    const auto errors = [&] { return logger.messages(crossover::LogLevel::Error); };
    crossover::kube::Informer::State state{{"a", json("a", "1")}, {"b", json("b", "2")}};
    const auto first = source->build(state);
    BOOST_REQUIRE(first->objects.size() == 2u);
    const auto again = source->build(state);
    BOOST_TEST(again->objects == first->objects);  // no resourceVersion, yet the same pointers

    state["b"] = json("b", "-2");  // invalid: the last valid version stays
    state["c"] = json("c", "3");
    const auto second = source->build(state);
    BOOST_REQUIRE(second->objects.size() == 3u);
    BOOST_TEST(second->objects[0] == first->objects[0]);
    BOOST_TEST(second->objects[1] == first->objects[1]);
    BOOST_TEST(second->objects[2]->ref.name == "c");
    (void)source->build(state);
    BOOST_REQUIRE(errors().size() == 1u);
    BOOST_TEST(errors()[0] ==
               "TrafficSplit test/b: spec.backends[0].weight: negative weight -2; keeping "
               "resourceVersion ");

    state.erase("b");
    BOOST_TEST(source->build(state)->objects.size() == 2u);
    state["b"] = json("b", "-2");  // back, invalid, and never valid since
    const auto third = source->build(state);
    BOOST_TEST(third->objects.size() == 2u);
    BOOST_REQUIRE(errors().size() == 2u);
    BOOST_TEST(errors()[1] ==
               "TrafficSplit test/b: spec.backends[0].weight: negative weight -2; skipped");
    BOOST_TEST(third->objects[0] == first->objects[0]);
}

BOOST_AUTO_TEST_CASE(unparsable_quantity_is_reported_with_the_field) {
    FakeApiServer server;
    server.apply(split_json("v1alpha1", "podinfo", R"("lots")", R"("1")"));
    CaptureLogger logger;
    auto source = make_source(server, "names: [podinfo]\napi_version: v1alpha1\nwait_timeout: 1s\n",
                              logger, true);
    TestContext ctx;
    const crossover::Status st = source->run(ctx);
    BOOST_REQUIRE(!st.is_ok());
    BOOST_TEST(st.message().find("TrafficSplit test/podinfo is invalid") != std::string::npos);
    BOOST_TEST(logger.contains("TrafficSplit test/podinfo: spec.backends[0].weight"));
}

BOOST_AUTO_TEST_CASE(unknown_api_version_is_a_configuration_error) {
    CaptureLogger logger;
    auto config = make_config(kTrafficSplitSourceOptions.specs(), kTrafficSplitSourceOptions.size(),
                              "apiserver: http://127.0.0.1:1\napi_version: v2\n", logger);
    BOOST_CHECK_EXCEPTION(TrafficSplitSource(config, kTrafficSplitSourceOptions.decode(config)),
                          crossover::Error, [](const crossover::Error& e) {
                              return std::string(e.what()).find("api_version") != std::string::npos;
                          });
}

// `auto` picks the server's preferred version (v1alpha4); a v1alpha1 object is then read
// through it unconverted (CRD conversion None) and keeps its "500m" quantities.
BOOST_AUTO_TEST_CASE(auto_version_reads_v1alpha1_quantities_through_v1alpha4) {
    FakeApiServer::Options options;
    options.preferred_version = "v1alpha4";
    FakeApiServer server(options);
    server.apply(split_json("v1alpha1", "podinfo", R"("500m")", R"("1500m")"));
    CaptureLogger logger;
    auto source = make_source(server, "names: [podinfo]\nwait_timeout: 5s\n", logger, true);
    TestContext ctx;
    const crossover::Status st = source->run(ctx);
    BOOST_REQUIRE_MESSAGE(st.is_ok(), st.message());
    BOOST_REQUIRE(ctx.latest());
    BOOST_TEST(find(*ctx.latest(), "podinfo")->api_version == "split.smi-spec.io/v1alpha4");
    BOOST_TEST(weight(*ctx.latest(), "podinfo", 0) == "500m");
    BOOST_TEST(!logger.contains("spec.backends"));
}

// A failed API discovery is counted (crossover_component_ok of the source goes to 0) and retried.
BOOST_AUTO_TEST_CASE(failed_discovery_is_counted_and_retried) {
    FakeApiServer server;
    server.apply(split_json("v1alpha2", "podinfo", "10", "90"));
    control(server, "/fail", R"({"count": 2, "status": 503, "path": "/apis/split.smi-spec.io"})");
    CaptureLogger logger;
    auto source = make_source(
        server, "names: [podinfo]\nwait_timeout: 20s\nbackoff_initial: 20ms\n", logger, true);
    TestContext ctx;
    const crossover::Status st = source->run(ctx);
    BOOST_REQUIRE_MESSAGE(st.is_ok(), st.message());
    BOOST_TEST(ctx.counter("discovery_errors") == 2.0);
    BOOST_TEST(weight(*ctx.latest(), "podinfo", 0) == "10");
}
