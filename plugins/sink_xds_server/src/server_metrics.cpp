#include "server_metrics.h"

#include <vector>

#include "resources.h"

namespace crossover::xds_server {

namespace {

// The core's latency buckets (crossover_change_to_write_latency_seconds): 0.1 ms to 10 s.
const std::vector<double> kLatencyBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.0025,
                                             0.005,  0.01,    0.02,   0.025, 0.05,  0.1,
                                             0.25,   0.5,     1,      2.5,   5,     10};

}  // namespace

ServerMetrics::ServerMetrics(Metrics* metrics)
    : metrics_(metrics_or_discard(metrics)),
      refused_(metrics_.counter("xds_streams_refused_total",
                                "xDS streams refused because max_streams were open", {})) {
    // The ADS types up front: a clash is reported when the sink starts.
    for (const auto type_url : {kClusterType, kEndpointType, kListenerType, kRouteType}) {
        types_.emplace(std::string(type_url), create(type_url));
    }
}

Gauge& ServerMetrics::streams(std::string_view service, bool delta) noexcept {
    const std::lock_guard<std::mutex> lock(mu_);
    try {
        Gauge*& gauge = streams_[{std::string(service), delta}];
        if (gauge == nullptr) {
            gauge = &metrics_.gauge(
                "xds_streams", "xDS streams connected, by service and mode",
                {{"service", std::string(service)}, {"mode", delta ? "delta" : "sotw"}});
        }
        return *gauge;
    } catch (...) {  // metrics must not stop serving
        return metrics_or_discard(nullptr).gauge({}, {}, {});
    }
}

ServerMetrics::TypeSeries ServerMetrics::create(std::string_view type_url) {
    // "type.googleapis.com/envoy.config.cluster.v3.Cluster" -> "Cluster"
    const MetricLabels labels{{"type", std::string(type_url.substr(type_url.rfind('.') + 1))}};
    TypeSeries s;
    s.pushes = &metrics_.counter("xds_pushes_total", "xDS responses written to clients", labels);
    s.acks = &metrics_.counter("xds_acks_total", "xDS responses clients acknowledged", labels);
    s.nacks = &metrics_.counter("xds_nacks_total", "xDS responses clients refused", labels);
    s.latency = &metrics_.histogram(
        "xds_push_latency_seconds",
        "From a change reaching the sink to its response being written to a stream",
        kLatencyBuckets, labels);
    return s;
}

const ServerMetrics::TypeSeries* ServerMetrics::of(std::string_view type_url) noexcept {
    const std::lock_guard<std::mutex> lock(mu_);
    if (const auto it = types_.find(type_url); it != types_.end()) {
        return &it->second;
    }
    try {
        return &types_.emplace(std::string(type_url), create(type_url)).first->second;
    } catch (...) {  // metrics must not stop serving
        return nullptr;
    }
}

void ServerMetrics::pushed(std::string_view type_url) noexcept {
    if (const TypeSeries* s = of(type_url)) {
        s->pushes->increment();
    }
}

void ServerMetrics::ack(std::string_view type_url) noexcept {
    if (const TypeSeries* s = of(type_url)) {
        s->acks->increment();
    }
}

void ServerMetrics::nack(std::string_view type_url) noexcept {
    if (const TypeSeries* s = of(type_url)) {
        s->nacks->increment();
    }
}

void ServerMetrics::push_latency(std::string_view type_url,
                                 std::chrono::nanoseconds latency) noexcept {
    if (const TypeSeries* s = of(type_url)) {
        s->latency->observe(std::chrono::duration<double>(latency).count());
    }
}

}  // namespace crossover::xds_server
