// Prometheus metrics for the engine and its components (prometheus-cpp
// metric types and text serializer).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "engine.h"

namespace crossover::core {

class Metrics final : public EngineObserver {
public:
    Metrics();

    void on_count(const std::string& component, std::string_view event, double amount) override;
    void on_publish(const std::string& component, const Snapshot& snapshot) override;
    void on_run(const std::string& component, Kind kind, bool ok) override;
    void on_write(const std::string& component, WriteOutcome outcome,
                  std::chrono::nanoseconds latency) override;

    void set_ready(bool ready);
    void count_reload(bool ok);

    // Prometheus text exposition format.
    [[nodiscard]] std::string serialize() const;

private:
    std::shared_ptr<prometheus::Registry> registry_;
    prometheus::Family<prometheus::Counter>& watch_connects_;
    prometheus::Family<prometheus::Counter>& relists_;
    prometheus::Family<prometheus::Counter>& gone_;
    prometheus::Family<prometheus::Counter>& watch_events_;
    prometheus::Family<prometheus::Counter>& source_events_;
    prometheus::Family<prometheus::Gauge>& objects_;
    prometheus::Family<prometheus::Gauge>& documents_;
    prometheus::Family<prometheus::Counter>& runs_;
    prometheus::Family<prometheus::Counter>& failures_;
    prometheus::Family<prometheus::Counter>& writes_;
    prometheus::Family<prometheus::Counter>& unchanged_;
    prometheus::Family<prometheus::Gauge>& last_write_;
    prometheus::Family<prometheus::Histogram>& latency_;
    prometheus::Family<prometheus::Gauge>& ready_;
    prometheus::Family<prometheus::Counter>& reloads_;
    prometheus::Family<prometheus::Gauge>& info_;
};

}  // namespace crossover::core
