#include "component_metrics.h"

#include <prometheus/check_names.h>

#include <algorithm>
#include <cmath>

#include "crossover/status.h"

namespace crossover::core {

class ComponentMetrics::CounterSeries final : public crossover::Counter {
public:
    explicit CounterSeries(prometheus::Counter& counter) : counter_(counter) {}
    void add(double amount) noexcept override {
        if (amount > 0 && std::isfinite(amount)) {
            counter_.Increment(amount);
        }
    }

private:
    prometheus::Counter& counter_;
};

class ComponentMetrics::GaugeSeries final : public crossover::Gauge {
public:
    explicit GaugeSeries(prometheus::Gauge& gauge) : gauge_(gauge) {}
    void set(double value) noexcept override { gauge_.Set(value); }
    void add(double amount) noexcept override {
        if (amount >= 0) {
            gauge_.Increment(amount);
        } else {
            gauge_.Decrement(-amount);
        }
    }

private:
    prometheus::Gauge& gauge_;
};

class ComponentMetrics::HistogramSeries final : public crossover::Histogram {
public:
    explicit HistogramSeries(prometheus::Histogram& histogram) : histogram_(histogram) {}
    void observe(double value) noexcept override {
        if (std::isfinite(value)) {
            histogram_.Observe(value);
        }
    }

private:
    prometheus::Histogram& histogram_;
};

// What one component sees: the shared families, with its name as the label.
class ComponentMetrics::View final : public crossover::Metrics {
public:
    View(ComponentMetrics& owner, std::string component)
        : owner_(owner), component_(std::move(component)) {}

    crossover::Counter& counter(std::string_view name, std::string_view help,
                                const MetricLabels& labels) override {
        return owner_.counter(component_, name, help, labels);
    }
    crossover::Gauge& gauge(std::string_view name, std::string_view help,
                            const MetricLabels& labels) override {
        return owner_.gauge(component_, name, help, labels);
    }
    crossover::Histogram& histogram(std::string_view name, std::string_view help,
                                    const std::vector<double>& buckets,
                                    const MetricLabels& labels) override {
        return owner_.histogram(component_, name, help, buckets, labels);
    }

private:
    ComponentMetrics& owner_;
    const std::string component_;
};

namespace {

std::string joined(const std::set<std::string>& names) {
    std::string out;
    for (const auto& n : names) {
        out += (out.empty() ? "" : ", ") + n;
    }
    return out.empty() ? "none" : out;
}

}  // namespace

ComponentMetrics::ComponentMetrics(prometheus::Registry& registry, std::set<std::string> reserved)
    : registry_(registry), reserved_(std::move(reserved)) {}

ComponentMetrics::~ComponentMetrics() = default;

crossover::Metrics& ComponentMetrics::of(const std::string& component) {
    const std::lock_guard<std::mutex> lock(mu_);
    auto& view = views_[component];
    if (!view) {
        view = std::make_unique<View>(*this, component);
    }
    return *view;
}

ComponentMetrics::Family& ComponentMetrics::family(Type type, const std::string& component,
                                                   std::string_view name, std::string_view help,
                                                   prometheus::Labels& labels,
                                                   const std::vector<double>* buckets,
                                                   std::string& full_name) {
    full_name =
        name.substr(0, 10) == "crossover_" ? std::string(name) : "crossover_" + std::string(name);
    const auto type_name = [](Type t) {
        return t == Type::Counter ? "counter" : t == Type::Gauge ? "gauge" : "histogram";
    };
    const std::string what = "component '" + component + "': metric '" + full_name + "': ";
    if (!prometheus::CheckMetricName(full_name)) {
        throw Error(what + "not a valid metric name");
    }
    if (reserved_.count(full_name) != 0) {
        throw Error(what + "the name of one of crossover's own metrics");
    }
    std::set<std::string> label_names;
    for (const auto& [label, value] : labels) {
        if (label == "component") {
            throw Error(what + "the label 'component' is set by crossover");
        }
        if (!prometheus::CheckLabelName(label) || (type == Type::Histogram && label == "le")) {
            throw Error(what + "'" + label + "' is not a valid label name");
        }
        label_names.insert(label);
    }
    labels["component"] = component;
    if (buckets != nullptr && (buckets->empty() || !std::is_sorted(buckets->begin(), buckets->end(),
                                                                   std::less_equal<>()))) {
        throw Error(what + "buckets must be given in increasing order");
    }
    auto it = families_.find(full_name);
    if (it != families_.end()) {
        const Family& f = it->second;
        if (f.type != type) {
            throw Error(what + "already a " + type_name(f.type) + ", not a " + type_name(type));
        }
        if (f.label_names != label_names) {
            throw Error(what + "already has the labels " + joined(f.label_names) + ", not " +
                        joined(label_names));
        }
        if (buckets != nullptr && f.buckets != *buckets) {
            throw Error(what + "already has other buckets");
        }
        return it->second;
    }
    Family f;
    f.type = type;
    f.label_names = std::move(label_names);
    const std::string help_text(help);
    try {
        switch (type) {
            case Type::Counter:
                f.counters =
                    &prometheus::BuildCounter().Name(full_name).Help(help_text).Register(registry_);
                break;
            case Type::Gauge:
                f.gauges =
                    &prometheus::BuildGauge().Name(full_name).Help(help_text).Register(registry_);
                break;
            case Type::Histogram:
                f.buckets = *buckets;
                f.histograms =
                    &prometheus::BuildHistogram().Name(full_name).Help(help_text).Register(
                        registry_);
                break;
        }
    } catch (const std::exception& e) {
        throw Error(what + e.what());
    }
    return families_.emplace(full_name, std::move(f)).first->second;
}

crossover::Counter& ComponentMetrics::counter(const std::string& component, std::string_view name,
                                              std::string_view help, const MetricLabels& labels) {
    const std::lock_guard<std::mutex> lock(mu_);
    prometheus::Labels all(labels.begin(), labels.end());
    std::string full_name;
    Family& f = family(Type::Counter, component, name, help, all, nullptr, full_name);
    auto& series = counters_[Key{full_name, all}];
    if (!series) {
        series = std::make_unique<CounterSeries>(f.counters->Add(all));
    }
    return *series;
}

crossover::Gauge& ComponentMetrics::gauge(const std::string& component, std::string_view name,
                                          std::string_view help, const MetricLabels& labels) {
    const std::lock_guard<std::mutex> lock(mu_);
    prometheus::Labels all(labels.begin(), labels.end());
    std::string full_name;
    Family& f = family(Type::Gauge, component, name, help, all, nullptr, full_name);
    auto& series = gauges_[Key{full_name, all}];
    if (!series) {
        series = std::make_unique<GaugeSeries>(f.gauges->Add(all));
    }
    return *series;
}

crossover::Histogram& ComponentMetrics::histogram(const std::string& component,
                                                  std::string_view name, std::string_view help,
                                                  const std::vector<double>& buckets,
                                                  const MetricLabels& labels) {
    const std::lock_guard<std::mutex> lock(mu_);
    prometheus::Labels all(labels.begin(), labels.end());
    std::string full_name;
    Family& f = family(Type::Histogram, component, name, help, all, &buckets, full_name);
    auto& series = histograms_[Key{full_name, all}];
    if (!series) {
        series = std::make_unique<HistogramSeries>(f.histograms->Add(all, buckets));
    }
    return *series;
}

}  // namespace crossover::core
