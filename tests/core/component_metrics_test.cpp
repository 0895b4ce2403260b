// The SDK's metrics registry as the core implements it: names, labels, the
// component label, clashes refused, and the text /metrics serves.
#include <boost/test/unit_test.hpp>

#include <string>

#include "crossover/status.h"
#include "metrics.h"

using crossover::core::Metrics;

namespace {

bool has(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(component_metrics)

BOOST_AUTO_TEST_CASE(series_carry_the_prefix_and_the_component_label) {
    Metrics metrics;
    crossover::Metrics& xds = *metrics.component_metrics("xds");
    crossover::Counter& pushes =
        xds.counter("xds_pushes_total", "Responses pushed", {{"type", "cluster"}});
    pushes.increment();
    pushes.add(2);
    pushes.add(-5);  // ignored: counters only go up
    xds.gauge("xds_streams", "Streams", {}).set(4);
    xds.gauge("xds_streams", "Streams", {}).add(-1);
    xds.histogram("crossover_xds_push_latency_seconds", "Latency", {0.001, 0.01}, {})
        .observe(0.005);

    const std::string text = metrics.serialize();
    BOOST_TEST(has(text, "crossover_xds_pushes_total{component=\"xds\",type=\"cluster\"} 3"), text);
    BOOST_TEST(has(text, "crossover_xds_streams{component=\"xds\"} 3"), text);
    BOOST_TEST(
        has(text, "crossover_xds_push_latency_seconds_bucket{component=\"xds\",le=\"0.01\"} 1"),
        text);
    BOOST_TEST(!has(text, "crossover_crossover_"), text);
}

BOOST_AUTO_TEST_CASE(the_same_name_and_labels_give_the_same_series_across_components) {
    Metrics metrics;
    crossover::Counter& a =
        metrics.component_metrics("a")->counter("events_seen_total", "Events", {});
    crossover::Counter& a_again =
        metrics.component_metrics("a")->counter("events_seen_total", "Events", {});
    crossover::Counter& b =
        metrics.component_metrics("b")->counter("events_seen_total", "Events", {});
    BOOST_TEST(&a == &a_again);
    BOOST_TEST(&a != &b);
    a.increment();
    a_again.increment();
    b.increment();
    const std::string text = metrics.serialize();
    BOOST_TEST(has(text, "crossover_events_seen_total{component=\"a\"} 2"), text);
    BOOST_TEST(has(text, "crossover_events_seen_total{component=\"b\"} 1"), text);
}

BOOST_AUTO_TEST_CASE(clashes_and_bad_names_are_refused_naming_the_metric) {
    Metrics metrics;
    crossover::Metrics& m = *metrics.component_metrics("c");
    m.counter("things_total", "Things", {{"kind", "x"}});
    const auto refused = [&](auto&& call, const std::string& expected) {
        try {
            call();
        } catch (const crossover::Error& e) {
            BOOST_TEST(has(e.what(), "component 'c': metric '"), e.what());
            BOOST_TEST(has(e.what(), expected), e.what());
            return;
        }
        BOOST_ERROR("not refused: " << expected);
    };
    refused([&] { m.gauge("things_total", "", {{"kind", "x"}}); }, "already a counter");
    refused([&] { m.counter("things_total", "", {{"other", "x"}}); }, "already has the labels");
    refused([&] { m.counter("things_total", "", {}); }, "already has the labels kind, not none");
    refused([&] { m.counter("sink_writes_total", "", {}); }, "crossover's own metrics");
    refused([&] { m.gauge("ready", "", {}); }, "crossover's own metrics");
    refused([&] { m.counter("bad-name", "", {}); }, "not a valid metric name");
    refused([&] { m.counter("ok_total", "", {{"component", "x"}}); }, "set by crossover");
    refused([&] { m.counter("ok_total", "", {{"9lives", "x"}}); }, "not a valid label name");
    refused([&] { m.histogram("h_seconds", "", {1, 0.5}, {}); }, "increasing order");
    refused([&] { m.histogram("h_seconds", "", {1}, {{"le", "1"}}); }, "not a valid label name");
    m.histogram("h2_seconds", "", {0.1, 1}, {});
    refused([&] { m.histogram("h2_seconds", "", {0.2, 1}, {}); }, "other buckets");
}

BOOST_AUTO_TEST_CASE(discard_metrics_stand_in_when_none_are_given) {
    crossover::Metrics& m = crossover::metrics_or_discard(nullptr);
    m.counter("anything", "", {}).increment();
    m.gauge("anything", "", {}).set(1);
    m.histogram("anything", "", {}, {}).observe(1);
    Metrics metrics;
    BOOST_TEST(&crossover::metrics_or_discard(metrics.component_metrics("x")) ==
               metrics.component_metrics("x"));
}

BOOST_AUTO_TEST_SUITE_END()
