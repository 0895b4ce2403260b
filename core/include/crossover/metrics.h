// Metrics a component exports on crossover's `/metrics` (Prometheus text
// format), next to the core's own.
//
// A component receives a registry through ComponentConfig::metrics. Every
// metric it creates there is named `crossover_<name>` (the prefix is added
// when missing) and carries the label `component` (the user's name for the
// component) besides the labels it passes, as the core's metrics do.
//
// Ask for each metric once, in the factory (the calls may throw and take a
// lock), keep the reference, and update it from any thread: updates are
// thread-safe, cheap and never throw. References stay valid as long as the
// process runs, past the component's own life; a component created again
// under the same name (a SIGHUP reload) gets the same series back, so its
// counters keep counting.
//
// ABI: abstract classes only, no metrics library type crosses the boundary;
// new methods are only ever added after the existing ones.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace crossover {

// Label name -> value, besides `component` (which a component cannot set).
using MetricLabels = std::map<std::string, std::string>;

class Counter {
public:
    virtual ~Counter() = default;
    // `amount` must not be negative (a negative one is ignored).
    virtual void add(double amount) noexcept = 0;
    void increment() noexcept { add(1.0); }
};

class Gauge {
public:
    virtual ~Gauge() = default;
    virtual void set(double value) noexcept = 0;
    // A negative `amount` lowers the gauge.
    virtual void add(double amount) noexcept = 0;
};

class Histogram {
public:
    virtual ~Histogram() = default;
    virtual void observe(double value) noexcept = 0;
};

class Metrics {
public:
    virtual ~Metrics() = default;
    // The series `crossover_<name>{component="...", labels...}`; the same name
    // and labels give the same object. Throws crossover::Error naming the
    // metric when the name or a label name is invalid, when the labels set
    // `component`, or when the name is taken: by a metric of another type,
    // with other label names (all series of a name have the same label names),
    // or by one of crossover's own metrics.
    virtual Counter& counter(std::string_view name, std::string_view help,
                             const MetricLabels& labels) = 0;
    virtual Gauge& gauge(std::string_view name, std::string_view help,
                         const MetricLabels& labels) = 0;
    // `buckets`: upper bounds, increasing (seconds for durations, as Prometheus
    // names them `_seconds`); every series of a name has the same buckets.
    virtual Histogram& histogram(std::string_view name, std::string_view help,
                                 const std::vector<double>& buckets,
                                 const MetricLabels& labels) = 0;
};

// A registry that records nothing, for a component built outside the engine
// (unit tests leave ComponentConfig::metrics null).
class DiscardMetrics final : public Metrics {
public:
    Counter& counter(std::string_view, std::string_view, const MetricLabels&) override {
        return counter_;
    }
    Gauge& gauge(std::string_view, std::string_view, const MetricLabels&) override {
        return gauge_;
    }
    Histogram& histogram(std::string_view, std::string_view, const std::vector<double>&,
                         const MetricLabels&) override {
        return histogram_;
    }

private:
    struct NoCounter final : Counter {
        void add(double) noexcept override {}
    };
    struct NoGauge final : Gauge {
        void set(double) noexcept override {}
        void add(double) noexcept override {}
    };
    struct NoHistogram final : Histogram {
        void observe(double) noexcept override {}
    };
    NoCounter counter_;
    NoGauge gauge_;
    NoHistogram histogram_;
};

// `metrics`, or (when null) a registry that records nothing.
inline Metrics& metrics_or_discard(Metrics* metrics) {
    if (metrics != nullptr) {
        return *metrics;
    }
    static DiscardMetrics discard;
    return discard;
}

}  // namespace crossover
