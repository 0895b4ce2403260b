// The pipeline engine: runs sources on their own threads, coalesces their
// snapshots, recomputes transforms as functions of their inputs' latest
// snapshots, and hands results to sinks. Level-triggered: the output is always
// a function of the sources' current state.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "crossover/component.h"
#include "crossover/log.h"
#include "crossover/metrics.h"
#include "held_logger.h"
#include "pipeline_config.h"
#include "plugin_registry.h"

namespace crossover::core {

using Clock = std::chrono::steady_clock;

// Hooks for metrics and health; every method is called with no engine lock
// held, from the thread named.
class EngineObserver {
public:
    virtual ~EngineObserver() = default;
    // Source thread: SourceContext::count.
    virtual void on_count(const std::string& /*component*/, std::string_view /*event*/,
                          double /*amount*/) {}
    // Source thread: a snapshot was published.
    virtual void on_publish(const std::string& /*component*/, const Snapshot& /*snapshot*/) {}
    // Engine thread: a transform or sink ran.
    virtual void on_run(const std::string& /*component*/, Kind /*kind*/, bool /*ok*/) {}
    // Engine thread: a sink finished; latency from the oldest unprocessed publish.
    virtual void on_write(const std::string& /*component*/, WriteOutcome /*outcome*/,
                          std::chrono::nanoseconds /*latency*/) {}
    // Source thread: Source::run returned (an error: it is restarted with backoff).
    virtual void on_source_exit(const std::string& /*component*/, bool /*ok*/) {}
    // Engine thread, while building: where the component exports its own
    // metrics (null: nowhere). Must outlive the component.
    virtual crossover::Metrics* component_metrics(const std::string& /*component*/) {
        return nullptr;
    }
};

struct EngineOptions {
    bool onetime = false;
    bool dry_run = false;  // the sinks print: say so instead of "wrote"
    // Freed memory goes back to the system once no recompute has run for this long: trimming
    // after every recompute made the next one fault every page in again.
    std::chrono::milliseconds trim_after{250};
};

class Engine {
public:
    Engine(const PipelineSpec& spec, const PluginRegistry& registry, Logger& logger,
           EngineOptions options, EngineObserver* observer = nullptr);
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // Creates every component through its plugin's factory. Returns false and
    // appends messages (naming file, line and component) on failure. In one-time
    // mode each source starts working as soon as it exists (its connection and
    // first list overlap the creation of what follows it); what its thread logs
    // appears only once run() is called, and not at all when building fails.
    bool build(std::vector<std::string>& errors);

    // Runs until request_stop() (watch mode) or until the single pass is done
    // (one-time mode). Returns the process exit code: in one-time mode 0 only
    // if every sink wrote successfully.
    int run();

    // Thread-safe; makes run() return promptly.
    void request_stop() noexcept;

    // Health, for the HTTP endpoint.
    [[nodiscard]] bool ready() const;  // every sink wrote once; nothing missing
    [[nodiscard]] std::vector<std::string> missing() const;  // why not ready
    [[nodiscard]] Clock::time_point last_tick() const;
    // How long the newest source change has waited to reach every sink's output
    // (zero when the output is up to date).
    [[nodiscard]] Clock::duration pending_input_age() const;

private:
    struct Node;
    class Context;

    // Starts the thread of a source node (once).
    void start_source(Node& node);
    void source_thread(Node& node);
    bool sources_settled_for_onetime(std::string& why) const;
    bool all_sources_published() const;
    bool all_sources_finished() const;
    // Runs transforms and sinks whose inputs changed or whose retry is due.
    // Returns true if every sink's output is up to date and succeeded.
    bool recompute(Clock::time_point batch_start);
    // The steps of recompute for one transform or sink: its inputs' latest
    // snapshots and generations (empty when it must wait, and why), running
    // it, and what follows a success or a failure.
    std::string collect_inputs(const Node& node, std::vector<Input>& inputs,
                               std::vector<std::uint64_t>& generations) const;
    Status run_node(Node& node, const std::vector<Input>& inputs, WriteOutcome& outcome);
    void succeeded(Node& node, WriteOutcome outcome, Clock::time_point batch_start);
    void failed(Node& node, const Status& status);
    Clock::time_point next_retry() const;
    void log(LogLevel level, const std::string& component, const std::string& message) const;
    void tick();
    // Returns freed memory to the system when trim_due_ has passed (lock held; released while
    // trimming).
    void trim_when_quiet(std::unique_lock<std::mutex>& lock);

    const PipelineSpec& spec_;
    const PluginRegistry& registry_;
    Logger& logger_;
    EngineOptions options_;
    EngineObserver* observer_;
    // What the sources and their threads log through (see build).
    HeldLogger source_logger_;

    std::vector<std::unique_ptr<Node>> nodes_;  // topological order

    mutable std::mutex mutex_;
    std::condition_variable wake_;      // engine loop
    std::condition_variable sleepers_;  // sources in sleep_for
    bool stopping_ = false;
    bool dirty_ = false;
    Clock::time_point first_change_{};
    Clock::time_point last_change_{};
    Clock::time_point last_recompute_{};
    Clock::time_point trim_due_ = Clock::time_point::max();  // see EngineOptions::trim_after
    std::uint64_t published_ = 0;                            // source publishes so far
    std::uint64_t in_output_ = 0;  // how many of them every sink's output reflects
    Clock::time_point newest_publish_{};
    std::atomic<std::int64_t> last_tick_ns_{0};
};

}  // namespace crossover::core
