// The SDK's metrics registry (crossover/metrics.h) over the core's
// prometheus-cpp registry: one view per component name, adding the
// `crossover_` prefix and the `component` label, and refusing names that
// clash with another type, other label names or the core's own metrics.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crossover/metrics.h"

namespace crossover::core {

class ComponentMetrics {
public:
    // `reserved`: names of the core's families, which components cannot use.
    ComponentMetrics(prometheus::Registry& registry, std::set<std::string> reserved);
    ~ComponentMetrics();
    ComponentMetrics(const ComponentMetrics&) = delete;
    ComponentMetrics& operator=(const ComponentMetrics&) = delete;
    ComponentMetrics(ComponentMetrics&&) = delete;
    ComponentMetrics& operator=(ComponentMetrics&&) = delete;

    // The registry handed to the component named `component`; lives as long as this.
    crossover::Metrics& of(const std::string& component);

    // The series of `component`; throw crossover::Error (see crossover/metrics.h).
    crossover::Counter& counter(const std::string& component, std::string_view name,
                                std::string_view help, const MetricLabels& labels);
    crossover::Gauge& gauge(const std::string& component, std::string_view name,
                            std::string_view help, const MetricLabels& labels);
    crossover::Histogram& histogram(const std::string& component, std::string_view name,
                                    std::string_view help, const std::vector<double>& buckets,
                                    const MetricLabels& labels);

private:
    class View;
    class CounterSeries;
    class GaugeSeries;
    class HistogramSeries;
    enum class Type { Counter, Gauge, Histogram };
    struct Family {
        Type type = Type::Counter;
        std::set<std::string> label_names;
        std::vector<double> buckets;
        prometheus::Family<prometheus::Counter>* counters = nullptr;
        prometheus::Family<prometheus::Gauge>* gauges = nullptr;
        prometheus::Family<prometheus::Histogram>* histograms = nullptr;
    };
    using Key = std::pair<std::string, prometheus::Labels>;  // full name, labels

    // The family `name` (prefixed) of `type`, created if new, after every check;
    // `labels` gets the component label. Called with mu_ held.
    Family& family(Type type, const std::string& component, std::string_view name,
                   std::string_view help, prometheus::Labels& labels,
                   const std::vector<double>* buckets, std::string& full_name);

    prometheus::Registry& registry_;
    const std::set<std::string> reserved_;
    std::mutex mu_;
    std::map<std::string, std::unique_ptr<View>> views_;
    std::map<std::string, Family> families_;
    std::map<Key, std::unique_ptr<CounterSeries>> counters_;
    std::map<Key, std::unique_ptr<GaugeSeries>> gauges_;
    std::map<Key, std::unique_ptr<HistogramSeries>> histograms_;
};

}  // namespace crossover::core
