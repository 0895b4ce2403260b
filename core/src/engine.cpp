#include "engine.h"

#include <malloc.h>

#include <algorithm>
#include <map>
#include <set>

#include "crossover/inputs.h"

namespace crossover::core {

namespace {

std::string ms_text(std::chrono::milliseconds d) {
    if (d.count() >= 1000 && d.count() % 1000 == 0) {
        return std::to_string(d.count() / 1000) + "s";
    }
    return std::to_string(d.count()) + "ms";
}

}  // namespace

struct Engine::Node {
    const ComponentSpec* spec = nullptr;
    const PluginDescriptor* descriptor = nullptr;
    Component* component = nullptr;
    std::vector<std::size_t> inputs;  // indices into nodes_

    // Written by the owning thread (source thread or engine thread) under mutex_.
    SnapshotPtr output;
    std::uint64_t generation = 0;

    // Engine thread only.
    std::vector<std::uint64_t> seen;  // input generations at the last run
    bool ran = false;
    bool failing = false;
    int failures = 0;
    Clock::time_point retry_at{};
    std::string last_wait_reason;
    std::string last_error;  // logged once; repeats go to debug
    bool wrote_once = false;

    // Source thread.
    std::thread thread;
    std::unique_ptr<Context> context;
    bool finished = false;  // under mutex_
    Status last_status;     // under mutex_

    ~Node() {
        if (component != nullptr && descriptor != nullptr) {
            descriptor->destroy(component);
        }
    }
};

class Engine::Context final : public SourceContext {
public:
    Context(Engine& engine, Node& node) : engine_(engine), node_(node) {}

    void publish(SnapshotPtr snapshot) noexcept override {
        if (!snapshot) {
            return;
        }
        if (engine_.observer_ != nullptr) {
            try {
                engine_.observer_->on_publish(node_.spec->name, *snapshot);
            } catch (...) {
            }
        }
        const std::lock_guard<std::mutex> lock(engine_.mutex_);
        node_.output = std::move(snapshot);
        ++node_.generation;
        const auto now = Clock::now();
        ++engine_.published_;
        engine_.newest_publish_ = now;
        if (!engine_.dirty_) {
            engine_.first_change_ = now;
        }
        engine_.dirty_ = true;
        engine_.last_change_ = now;
        engine_.wake_.notify_all();
    }

    [[nodiscard]] bool stopping() const noexcept override {
        const std::lock_guard<std::mutex> lock(engine_.mutex_);
        return engine_.stopping_;
    }

    bool sleep_for(std::chrono::milliseconds duration) noexcept override {
        std::unique_lock<std::mutex> lock(engine_.mutex_);
        engine_.sleepers_.wait_for(lock, duration, [this] { return engine_.stopping_; });
        return !engine_.stopping_;
    }

    void count(std::string_view event, double amount) noexcept override {
        if (engine_.observer_ != nullptr) {
            try {
                engine_.observer_->on_count(node_.spec->name, event, amount);
            } catch (...) {
            }
        }
    }

private:
    Engine& engine_;
    Node& node_;
};

Engine::Engine(const PipelineSpec& spec, const PluginRegistry& registry, Logger& logger,
               EngineOptions options, EngineObserver* observer)
    : spec_(spec),
      registry_(registry),
      logger_(logger),
      options_(options),
      observer_(observer),
      source_logger_(logger) {}

Engine::~Engine() {
    request_stop();
    for (auto& n : nodes_) {
        if (n->thread.joinable()) {
            n->thread.join();
        }
    }
    // Destroy downstream components first.
    while (!nodes_.empty()) {
        nodes_.pop_back();
    }
}

void Engine::log(LogLevel level, const std::string& component, const std::string& message) const {
    logger_.log(level, component, message);
}

bool Engine::build(std::vector<std::string>& errors) {
    const auto order = topological_order(spec_);
    std::map<std::string, std::size_t> index;
    bool ok = true;
    for (const ComponentSpec* c : order) {
        // A component whose input could not be created (reported already) is skipped.
        if (std::any_of(c->inputs.begin(), c->inputs.end(),
                        [&](const std::string& in) { return index.count(in) == 0; })) {
            ok = false;
            continue;
        }
        const LoadedPlugin* plugin = registry_.find(c->kind, c->type);
        auto node = std::make_unique<Node>();
        node->spec = c;
        if (plugin == nullptr) {
            errors.push_back(
                ConfigError{spec_.file, c->line, c->path, "type", "unknown type '" + c->type + "'"}
                    .format());
            ok = false;
            continue;
        }
        node->descriptor = plugin->descriptor;
        ComponentConfig config;
        config.name = c->name;
        config.type = c->type;
        config.path = c->path;
        config.file = spec_.file;
        config.line = c->line;
        config.base_dir = spec_.base_dir;
        config.options = c->options;
        config.onetime = options_.onetime;
        config.logger = c->kind == Kind::Source ? &source_logger_ : &logger_;
        config.metrics = &metrics_or_discard(
            observer_ != nullptr ? observer_->component_metrics(c->name) : nullptr);
        std::string error;
        Component* component = plugin->descriptor->create(config, error);
        if (component == nullptr) {
            if (error.empty()) {
                error = "the plugin could not create the component";
            }
            // Factories usually prefix with ComponentConfig::where(); add it if not.
            if (error.rfind(config.where(), 0) != 0 &&
                (spec_.file.empty() || error.rfind(spec_.file, 0) != 0)) {
                error = config.where() + error;
            }
            errors.push_back(error);
            ok = false;
            continue;
        }
        node->component = component;
        for (const auto& in : c->inputs) {
            node->inputs.push_back(index.at(in));
        }
        node->seen.assign(node->inputs.size(), 0);
        index[c->name] = nodes_.size();
        nodes_.push_back(std::move(node));
        // A one-time run waits for its sources' first lists: let them go on while the
        // transforms and sinks are created (the validator alone takes milliseconds).
        if (options_.onetime && c->kind == Kind::Source) {
            source_logger_.hold();
            start_source(*nodes_.back());
        }
    }
    if (!ok) {
        // As if the sources had never started: the destructor stops them.
        source_logger_.drop();
    }
    return ok;
}

void Engine::start_source(Node& node) {
    if (node.context) {
        return;
    }
    node.context = std::make_unique<Context>(*this, node);
    Node* raw = &node;
    node.thread = std::thread([this, raw] { source_thread(*raw); });
}

void Engine::request_stop() noexcept {
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) {
            return;
        }
        stopping_ = true;
        wake_.notify_all();
        sleepers_.notify_all();
    }
    for (auto& n : nodes_) {
        if (n->spec->kind == Kind::Source && n->component != nullptr) {
            static_cast<Source*>(n->component)->stop();
        }
    }
}

void Engine::source_thread(Node& node) {
    auto* source = static_cast<Source*>(node.component);
    std::chrono::milliseconds backoff = spec_.engine.retry_initial;
    while (true) {
        const Status status = source->run(*node.context);
        if (observer_ != nullptr && !status.is_ok()) {
            observer_->on_source_exit(node.spec->name, false);
        }
        bool stop = false;
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            node.last_status = status;
            stop = stopping_ || status.is_ok() || options_.onetime;
        }
        if (stop) {
            if (!status.is_ok() && !node.context->stopping()) {
                source_logger_.log(LogLevel::Error, node.spec->name, status.message());
            }
            break;
        }
        source_logger_.log(LogLevel::Error, node.spec->name,
                           status.message() + "; restarting the source in " + ms_text(backoff));
        if (!node.context->sleep_for(backoff)) {
            break;
        }
        backoff = std::min(backoff * 2, spec_.engine.retry_max);
    }
    const std::lock_guard<std::mutex> lock(mutex_);
    node.finished = true;
    if (!dirty_) {
        first_change_ = Clock::now();
    }
    last_change_ = Clock::now();
    dirty_ = true;  // wake the loop so it can notice
    wake_.notify_all();
}

bool Engine::all_sources_finished() const {
    for (const auto& n : nodes_) {
        if (n->spec->kind == Kind::Source && !n->finished) {
            return false;
        }
    }
    return true;
}

bool Engine::all_sources_published() const {
    for (const auto& n : nodes_) {
        if (n->spec->kind == Kind::Source && !n->output) {
            return false;
        }
    }
    return true;
}

// One-time mode proceeds once every source has either published a complete
// snapshot or ended. `why` explains a source that ended without one.
bool Engine::sources_settled_for_onetime(std::string& why) const {
    why.clear();
    for (const auto& n : nodes_) {
        if (n->spec->kind != Kind::Source) {
            continue;
        }
        const bool complete = n->output && n->output->complete;
        if (complete) {
            continue;
        }
        if (!n->finished) {
            return false;
        }
        std::string reason;
        if (!n->last_status.is_ok()) {
            reason = n->last_status.message();
        } else if (!n->output) {
            reason = "the source ended without publishing anything";
        } else {
            reason = "missing: ";
            for (std::size_t i = 0; i < n->output->missing.size(); ++i) {
                reason += (i ? ", " : "") + n->output->missing[i];
            }
        }
        why += (why.empty() ? "" : "; ") + n->spec->path + ": " + reason;
    }
    return true;
}

Clock::time_point Engine::next_retry() const {
    Clock::time_point next = Clock::time_point::max();
    for (const auto& n : nodes_) {
        if (n->failing) {
            next = std::min(next, n->retry_at);
        }
    }
    return next;
}

void Engine::tick() {
    last_tick_ns_.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed);
}

void Engine::trim_when_quiet(std::unique_lock<std::mutex>& lock) {
    if (dirty_ || Clock::now() < trim_due_) {
        return;
    }
    trim_due_ = Clock::time_point::max();
    lock.unlock();
    // A recompute frees the previous snapshots' documents (megabytes for large configurations);
    // glibc keeps freed memory in its arenas and returns it late, so give it back while nothing
    // waits on us. Not after every recompute: changes that follow each other closely (a
    // ConfigMap edited again, canary steps) would fault the same pages in again each time.
    ::malloc_trim(0);
    log(LogLevel::Debug, "", "returned freed memory to the system after a quiet period");
    lock.lock();
}

Clock::duration Engine::pending_input_age() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (in_output_ >= published_) {
        return Clock::duration::zero();
    }
    return Clock::now() - newest_publish_;
}

Clock::time_point Engine::last_tick() const {
    return Clock::time_point(Clock::duration(last_tick_ns_.load(std::memory_order_relaxed)));
}

bool Engine::ready() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& n : nodes_) {
        if (n->spec->kind == Kind::Sink && !n->wrote_once) {
            return false;
        }
        if (n->spec->kind == Kind::Source && n->output && !n->output->complete) {
            return false;
        }
    }
    return true;
}

std::vector<std::string> Engine::missing() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> out;
    for (const auto& n : nodes_) {
        if (n->spec->kind == Kind::Source && n->output) {
            for (const auto& m : n->output->missing) {
                out.push_back(n->spec->name + ": " + m);
            }
        } else if (n->spec->kind == Kind::Source && !n->output) {
            out.push_back(n->spec->name + ": no data yet");
        }
        if (n->spec->kind == Kind::Sink && !n->wrote_once) {
            out.push_back(n->spec->name + ": no complete output written yet");
        }
    }
    return out;
}

namespace {

// The union of a sink's inputs (crossover/inputs.h: document names must not clash).
Status merge_inputs(const std::vector<Input>& inputs, SnapshotPtr& merged) {
    try {
        merged = shared_union_of(inputs);
    } catch (const Error& e) {
        return Status::error(e.what());
    }
    return Status::ok();
}

}  // namespace

std::string Engine::collect_inputs(const Node& node, std::vector<Input>& inputs,
                                   std::vector<std::uint64_t>& generations) const {
    const std::lock_guard<std::mutex> lock(mutex_);
    for (const std::size_t i : node.inputs) {
        const Node& in = *nodes_[i];
        if (!in.output) {
            return "waiting for input '" + in.spec->name + "'";
        }
        if (!in.output->complete) {
            std::string missing;
            for (const auto& m : in.output->missing) {
                missing += (missing.empty() ? "" : ", ") + m;
            }
            return "input '" + in.spec->name + "' is incomplete (missing: " + missing +
                   "); keeping the last output";
        }
        inputs.push_back(Input{in.spec->name, in.output});
        generations.push_back(in.generation);
    }
    return {};
}

Status Engine::run_node(Node& node, const std::vector<Input>& inputs, WriteOutcome& outcome) {
    if (node.spec->kind == Kind::Transform) {
        SnapshotPtr out;
        Status status = static_cast<Transform*>(node.component)->transform(inputs, out);
        if (status.is_ok() && !out) {
            status = Status::error("the transform produced no output");
        }
        if (status.is_ok()) {
            const std::lock_guard<std::mutex> lock(mutex_);
            if (out != node.output) {
                node.output = std::move(out);
                ++node.generation;
            }
        }
        return status;
    }
    SnapshotPtr merged;
    Status status = merge_inputs(inputs, merged);
    if (status.is_ok()) {
        status = static_cast<Sink*>(node.component)->write(*merged, outcome);
    }
    return status;
}

void Engine::succeeded(Node& node, WriteOutcome outcome, Clock::time_point batch_start) {
    if (node.failing) {
        log(LogLevel::Info, node.spec->name, "recovered");
    }
    node.last_error.clear();
    node.failing = false;
    node.failures = 0;
    if (node.spec->kind != Kind::Sink) {
        return;
    }
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        node.wrote_once = true;
    }
    const auto latency = Clock::now() - batch_start;
    if (observer_ != nullptr) {
        observer_->on_write(node.spec->name, outcome, latency);
    }
    if (outcome == WriteOutcome::Written && options_.dry_run) {
        log(LogLevel::Info, node.spec->name, "printed the output (dry run: nothing written)");
    } else if (outcome == WriteOutcome::Written) {
        log(LogLevel::Info, node.spec->name,
            "wrote new output (" +
                std::to_string(
                    std::chrono::duration_cast<std::chrono::microseconds>(latency).count()) +
                " us after the change)");
    } else if (options_.onetime) {
        // The only line a one-time run would print: say it did its job.
        log(LogLevel::Info, node.spec->name,
            "output unchanged: the files in place are up to date, nothing written");
    } else if (logger_.enabled(LogLevel::Debug)) {
        log(LogLevel::Debug, node.spec->name, "output unchanged, nothing written");
    }
}

void Engine::failed(Node& node, const Status& status) {
    ++node.failures;
    node.failing = true;
    auto delay = spec_.engine.retry_initial;
    for (int i = 1; i < node.failures && delay < spec_.engine.retry_max; ++i) {
        delay *= 2;
    }
    delay = std::min(delay, spec_.engine.retry_max);
    node.retry_at = Clock::now() + delay;
    // A deterministic failure is logged once; its retries only at debug level, until the
    // error changes or clears ("recovered").
    const bool repeated = status.message() == node.last_error;
    node.last_error = status.message();
    log(repeated ? LogLevel::Debug : LogLevel::Error, node.spec->name,
        std::string(kind_name(node.spec->kind)) + " failed" + (repeated ? " again" : "") + ": " +
            status.message() + "; the previous output stays in place" +
            (options_.onetime ? std::string()
                              : "; retrying on the next change or in " + ms_text(delay)));
}

bool Engine::recompute(Clock::time_point batch_start) {
    const auto now = Clock::now();
    bool all_ok = true;
    for (auto& holder : nodes_) {
        Node& node = *holder;
        if (node.spec->kind == Kind::Source) {
            continue;
        }
        std::vector<Input> inputs;
        std::vector<std::uint64_t> gens;
        const std::string wait_reason = collect_inputs(node, inputs, gens);
        if (!wait_reason.empty()) {
            if (wait_reason != node.last_wait_reason) {
                log(LogLevel::Warn, node.spec->name, wait_reason);
                node.last_wait_reason = wait_reason;
            }
            all_ok = false;
            continue;
        }
        node.last_wait_reason.clear();
        const bool changed = !node.ran || gens != node.seen;
        const bool retry_due = node.failing && now >= node.retry_at;
        if (!changed && !retry_due) {
            if (node.failing) {
                all_ok = false;
            }
            continue;
        }
        node.ran = true;
        node.seen = gens;
        WriteOutcome outcome = WriteOutcome::Unchanged;
        const auto run_started = Clock::now();
        const Status status = run_node(node, inputs, outcome);
        if (observer_ != nullptr) {
            observer_->on_run(node.spec->name, node.spec->kind, status.is_ok());
        }
        if (logger_.enabled(LogLevel::Debug)) {
            log(LogLevel::Debug, node.spec->name,
                std::string(kind_name(node.spec->kind)) + " ran in " +
                    std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(
                                       Clock::now() - run_started)
                                       .count()) +
                    " us" + (changed ? " (inputs changed)" : " (retry)") +
                    (status.is_ok() ? "" : ": failed"));
        }
        if (status.is_ok()) {
            succeeded(node, outcome, batch_start);
        } else {
            all_ok = false;
            failed(node, status);
        }
    }
    return all_ok;
}

int Engine::run() {
    source_logger_.release();
    for (auto& n : nodes_) {
        if (n->spec->kind == Kind::Source) {
            start_source(*n);
        }
    }
    tick();
    int exit_code = 0;
    if (options_.onetime) {
        std::string why;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            while (!stopping_ && !sources_settled_for_onetime(why)) {
                wake_.wait_for(lock, std::chrono::seconds(1));
            }
            if (stopping_) {
                why = "interrupted before the sources were ready";
            }
            dirty_ = false;
        }
        tick();
        if (!why.empty()) {
            log(LogLevel::Error, "", "cannot write the output: " + why);
            exit_code = 1;
        } else if (!recompute(Clock::now())) {
            log(LogLevel::Error, "", "the pipeline did not complete; see the errors above");
            exit_code = 1;
        }
        request_stop();
    } else {
        std::unique_lock<std::mutex> lock(mutex_);
        while (!stopping_) {
            const auto retry = next_retry();
            const auto heartbeat = Clock::now() + std::chrono::seconds(1);
            wake_.wait_until(lock, std::min({retry, heartbeat, trim_due_}),
                             [this] { return stopping_ || dirty_; });
            if (stopping_) {
                break;
            }
            lock.unlock();
            tick();
            lock.lock();
            trim_when_quiet(lock);
            Clock::time_point batch_start = Clock::now();
            if (dirty_) {
                // Debounce: a change arriving after a quiet period is handled at
                // once (a Flagger step is one change); changes that follow it
                // are coalesced until quiet, but never beyond max_delay.
                const bool quiet = first_change_ - last_recompute_ >= spec_.engine.debounce;
                while (!stopping_ && !quiet) {
                    const auto until = std::min(last_change_ + spec_.engine.debounce,
                                                first_change_ + spec_.engine.max_delay);
                    if (Clock::now() >= until) {
                        break;
                    }
                    wake_.wait_until(lock, until);
                }
                batch_start = first_change_;
                dirty_ = false;
            } else if (Clock::now() < retry) {
                continue;  // heartbeat only
            }
            if (stopping_ || !all_sources_published()) {
                continue;
            }
            const std::uint64_t published = published_;
            lock.unlock();
            const bool ok = recompute(batch_start);
            lock.lock();
            last_recompute_ = Clock::now();
            trim_due_ = last_recompute_ + options_.trim_after;
            if (ok) {
                in_output_ = std::max(in_output_, published);
            }
            // Nothing can change any more (no source is watching): finish.
            if (ok && all_sources_finished() && next_retry() == Clock::time_point::max()) {
                lock.unlock();
                log(LogLevel::Info, "", "every source has finished; exiting");
                lock.lock();
                break;
            }
        }
    }
    for (auto& n : nodes_) {
        if (n->thread.joinable()) {
            n->thread.join();
        }
    }
    return exit_code;
}

}  // namespace crossover::core
