#include "metrics.h"

#include <prometheus/text_serializer.h>

#include <set>
#include <sstream>

namespace crossover::core {

namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

const prometheus::Histogram::BucketBoundaries& latency_buckets() {
    static const prometheus::Histogram::BucketBoundaries buckets = {
        0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.0025, 0.005, 0.01, 0.02,
        0.025,  0.05,    0.1,    0.25,  0.5,   1,      2.5,   5,    10};
    return buckets;
}

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      watch_connects_(BuildCounter()
                          .Name("crossover_watch_connects_total")
                          .Help("Watch streams opened (first connect and every reconnect)")
                          .Register(*registry_)),
      relists_(BuildCounter()
                   .Name("crossover_relists_total")
                   .Help("Full lists of a watched resource (start, 410 Gone, resync)")
                   .Register(*registry_)),
      gone_(BuildCounter()
                .Name("crossover_watch_gone_total")
                .Help("410 Gone answers (HTTP or in-stream) that forced a relist")
                .Register(*registry_)),
      watch_events_(BuildCounter()
                        .Name("crossover_watch_events_total")
                        .Help("Watch events received, by type")
                        .Register(*registry_)),
      source_events_(BuildCounter()
                         .Name("crossover_source_events_total")
                         .Help("Other events counted by sources")
                         .Register(*registry_)),
      objects_(BuildGauge()
                   .Name("crossover_source_objects")
                   .Help("Objects in the source's latest snapshot")
                   .Register(*registry_)),
      documents_(BuildGauge()
                     .Name("crossover_source_documents")
                     .Help("Documents in the source's latest snapshot")
                     .Register(*registry_)),
      runs_(BuildCounter()
                .Name("crossover_pipeline_runs_total")
                .Help("Transform and sink runs")
                .Register(*registry_)),
      failures_(BuildCounter()
                    .Name("crossover_pipeline_failures_total")
                    .Help("Failed transform and sink runs")
                    .Register(*registry_)),
      writes_(BuildCounter()
                  .Name("crossover_sink_writes_total")
                  .Help("Outputs written by sinks")
                  .Register(*registry_)),
      unchanged_(BuildCounter()
                     .Name("crossover_sink_unchanged_total")
                     .Help("Sink runs skipped because the content was unchanged")
                     .Register(*registry_)),
      last_write_(BuildGauge()
                      .Name("crossover_last_successful_write_timestamp_seconds")
                      .Help("Unix time of the sink's last successful run")
                      .Register(*registry_)),
      latency_(BuildHistogram()
                   .Name("crossover_change_to_write_latency_seconds")
                   .Help("Time from a source publishing a change to the sink finishing")
                   .Register(*registry_)),
      ready_(BuildGauge()
                 .Name("crossover_ready")
                 .Help("1 when every sink has written a complete output and nothing is missing")
                 .Register(*registry_)),
      reloads_(BuildCounter()
                   .Name("crossover_reloads_total")
                   .Help("Pipeline file reloads (SIGHUP), by result")
                   .Register(*registry_)),
      info_(
          BuildGauge().Name("crossover_build_info").Help("Build information").Register(*registry_)),
      log_messages_(BuildCounter()
                        .Name("crossover_log_messages_total")
                        .Help("Warnings and errors logged, by component and level")
                        .Register(*registry_)),
      component_ok_(BuildGauge()
                        .Name("crossover_component_ok")
                        .Help("1 when the component's last attempt succeeded, else 0")
                        .Register(*registry_)),
      pending_age_(BuildGauge()
                       .Name("crossover_pending_input_age_seconds")
                       .Help("Age of the newest source change not yet in every sink's output "
                             "(0 when the output is up to date)")
                       .Register(*registry_)) {
    info_.Add({{"version", CROSSOVER_VERSION}}).Set(1);
    ready_.Add({}).Set(0);
    pending_age_.Add({}).Set(0);
    // Components may not add series to these (families without a sample yet included).
    const std::set<std::string> core_names{
        watch_connects_.GetName(), relists_.GetName(),       gone_.GetName(),
        watch_events_.GetName(),   source_events_.GetName(), objects_.GetName(),
        documents_.GetName(),      runs_.GetName(),          failures_.GetName(),
        writes_.GetName(),         unchanged_.GetName(),     last_write_.GetName(),
        latency_.GetName(),        ready_.GetName(),         reloads_.GetName(),
        info_.GetName(),           log_messages_.GetName(),  component_ok_.GetName(),
        pending_age_.GetName()};
    component_metrics_ = std::make_unique<ComponentMetrics>(*registry_, core_names);
}

Metrics::~Metrics() = default;

crossover::Metrics* Metrics::component_metrics(const std::string& component) {
    return &component_metrics_->of(component);
}

void Metrics::attempt(const std::string& component, Kind kind, bool ok) {
    component_ok_.Add({{"component", component}, {"kind", kind_name(kind)}}).Set(ok ? 1 : 0);
    board_.attempt(component, ok);
}

void Metrics::on_count(const std::string& component, std::string_view event, double amount) {
    // A source's attempts: a list, a watch stream, or turning objects into documents.
    if (event == "list_errors" || event == "watch_failures" || event == "errors" ||
        event == "discovery_errors") {
        attempt(component, Kind::Source, false);
    } else if (event == "lists" || event == "watch_reconnects" || event == "bookmarks" ||
               starts_with(event, "events_")) {
        attempt(component, Kind::Source, true);
    }
    // Sources count "watches" each time they open a watch stream (the first one
    // and every reconnect after it).
    if (event == "watches" || event == "watch_connects") {
        watch_connects_.Add({{"component", component}}).Increment(amount);
    } else if (event == "relists") {
        relists_.Add({{"component", component}}).Increment(amount);
    } else if (event == "gone_410") {
        gone_.Add({{"component", component}}).Increment(amount);
    } else if (starts_with(event, "events_")) {
        watch_events_.Add({{"component", component}, {"type", std::string(event.substr(7))}})
            .Increment(amount);
    } else {
        source_events_.Add({{"component", component}, {"event", std::string(event)}})
            .Increment(amount);
    }
}

void Metrics::on_publish(const std::string& component, const Snapshot& snapshot) {
    attempt(component, Kind::Source, true);
    objects_.Add({{"component", component}}).Set(static_cast<double>(snapshot.objects.size()));
    documents_.Add({{"component", component}}).Set(static_cast<double>(snapshot.documents.size()));
}

void Metrics::on_run(const std::string& component, Kind kind, bool ok) {
    const prometheus::Labels labels{{"component", component}, {"kind", kind_name(kind)}};
    attempt(component, kind, ok);
    runs_.Add(labels).Increment();
    if (!ok) {
        failures_.Add(labels).Increment();
    }
}

void Metrics::on_write(const std::string& component, WriteOutcome outcome,
                       std::chrono::nanoseconds latency) {
    const prometheus::Labels labels{{"component", component}};
    if (outcome == WriteOutcome::Written) {
        writes_.Add(labels).Increment();
        latency_.Add(labels, latency_buckets())
            .Observe(std::chrono::duration<double>(latency).count());
    } else {
        unchanged_.Add(labels).Increment();
    }
    last_write_.Add(labels).SetToCurrentTime();
}

void Metrics::on_source_exit(const std::string& component, bool ok) {
    attempt(component, Kind::Source, ok);
}

void Metrics::set_pending_input_age(std::chrono::nanoseconds age) {
    pending_age_.Add({}).Set(std::chrono::duration<double>(age).count());
}

void Metrics::count_log(std::string_view component, LogLevel level, std::string_view message) {
    const std::string name = component.empty() ? std::string("crossover") : std::string(component);
    log_messages_.Add({{"component", name}, {"level", level == LogLevel::Error ? "error" : "warn"}})
        .Increment();
    board_.logged(name, level, message);
}

void CountingLogger::log(LogLevel level, std::string_view component,
                         std::string_view message) noexcept {
    if (level >= LogLevel::Warn) {
        try {
            metrics_.count_log(component, level, message);
        } catch (...) {  // NOLINT(bugprone-empty-catch): logging must go on
        }
    }
    inner_.log(level, component, message);
}

void Metrics::set_ready(bool ready) {
    ready_.Add({}).Set(ready ? 1 : 0);
}

void Metrics::count_reload(bool ok) {
    reloads_.Add({{"result", ok ? "success" : "failure"}}).Increment();
}

std::string Metrics::serialize() const {
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, registry_->Collect());
    return out.str();
}

}  // namespace crossover::core
