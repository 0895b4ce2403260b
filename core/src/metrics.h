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

#include "component_board.h"
#include "component_metrics.h"
#include "engine.h"

namespace crossover::core {

class Metrics final : public EngineObserver {
public:
    Metrics();
    ~Metrics() override;
    Metrics(const Metrics&) = delete;
    Metrics& operator=(const Metrics&) = delete;
    Metrics(Metrics&&) = delete;
    Metrics& operator=(Metrics&&) = delete;

    void on_count(const std::string& component, std::string_view event, double amount) override;
    void on_publish(const std::string& component, const Snapshot& snapshot) override;
    void on_run(const std::string& component, Kind kind, bool ok) override;
    void on_write(const std::string& component, WriteOutcome outcome,
                  std::chrono::nanoseconds latency) override;
    void on_source_exit(const std::string& component, bool ok) override;
    // The component's own metrics (crossover/metrics.h), exposed with the core's.
    crossover::Metrics* component_metrics(const std::string& component) override;

    void set_ready(bool ready);
    void set_pending_input_age(std::chrono::nanoseconds age);
    void count_reload(bool ok);
    // A warning or error a component (or, with an empty name, crossover itself) logged.
    void count_log(std::string_view component, LogLevel level, std::string_view message);

    // Per component state for /status; reset() it for every pipeline that starts.
    [[nodiscard]] ComponentBoard& board() { return board_; }

    // Prometheus text exposition format.
    [[nodiscard]] std::string serialize() const;

private:
    void attempt(const std::string& component, Kind kind, bool ok);

    ComponentBoard board_;
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
    prometheus::Family<prometheus::Counter>& log_messages_;
    prometheus::Family<prometheus::Gauge>& component_ok_;
    prometheus::Family<prometheus::Gauge>& pending_age_;
    std::unique_ptr<ComponentMetrics> component_metrics_;  // after the core's families
};

// Passes every line on to `inner`, and counts warnings and errors (and keeps
// the last one of each component for /status).
class CountingLogger final : public Logger {
public:
    CountingLogger(Logger& inner, Metrics& metrics) : inner_(inner), metrics_(metrics) {}
    void log(LogLevel level, std::string_view component,
             std::string_view message) noexcept override;
    [[nodiscard]] bool enabled(LogLevel level) const noexcept override {
        return inner_.enabled(level);
    }

private:
    Logger& inner_;
    Metrics& metrics_;
};

}  // namespace crossover::core
