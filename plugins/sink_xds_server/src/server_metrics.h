// What the xDS server exports on crossover's /metrics (see the plugin's
// README): streams connected, responses pushed, ACKs and NACKs per resource
// type, and how long a change took from being published to being written to
// a stream.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "crossover/metrics.h"

namespace crossover::xds_server {

class ServerMetrics {
public:
    // `metrics` null: nothing is recorded. Throws crossover::Error on a name clash.
    explicit ServerMetrics(Metrics* metrics);

    // The gauge of connected streams of a service ("ads", "clusters", ...) and
    // mode, created on first use; never throws.
    Gauge& streams(std::string_view service, bool delta) noexcept;
    Counter& refused() { return refused_; }

    // Per type URL (of a served type: the label's values stay few); never throw.
    void pushed(std::string_view type_url) noexcept;
    void ack(std::string_view type_url) noexcept;
    void nack(std::string_view type_url) noexcept;
    // A response carrying a change published `latency` ago was written.
    void push_latency(std::string_view type_url, std::chrono::nanoseconds latency) noexcept;

private:
    struct TypeSeries {
        Counter* pushes = nullptr;
        Counter* acks = nullptr;
        Counter* nacks = nullptr;
        Histogram* latency = nullptr;
    };
    // The series of the type, created on first use (null if that failed).
    const TypeSeries* of(std::string_view type_url) noexcept;
    TypeSeries create(std::string_view type_url);

    Metrics& metrics_;
    Counter& refused_;
    std::mutex mu_;  // guards types_ and streams_
    std::map<std::pair<std::string, bool>, Gauge*> streams_;
    std::map<std::string, TypeSeries, std::less<>> types_;
};

}  // namespace crossover::xds_server
