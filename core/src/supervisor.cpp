#include "supervisor.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include "crossover/json.h"
#include "engine.h"
#include "http_endpoint.h"
#include "metrics.h"
#include "plugin_registry.h"

namespace crossover::core {

namespace {

constexpr auto kAliveWindow = std::chrono::seconds(10);

sigset_t stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    return set;
}

// Blocks SIGTERM, SIGINT and SIGHUP in every thread and handles them on a
// thread of its own, so handlers may take locks and log.
class SignalThread {
public:
    SignalThread() : set_(stop_signals()) {
        sigaddset(&set_, SIGUSR2);  // internal: wakes the thread to finish
        pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    }
    ~SignalThread() {
        done_ = true;
        if (thread_.joinable()) {
            pthread_kill(thread_.native_handle(), SIGUSR2);
            thread_.join();
        }
    }
    SignalThread(const SignalThread&) = delete;
    SignalThread& operator=(const SignalThread&) = delete;

    void start(std::function<void(int)> handler) {
        thread_ = std::thread([this, handler = std::move(handler)] {
            while (!done_) {
                timespec timeout{1, 0};
                const int sig = sigtimedwait(&set_, nullptr, &timeout);
                if (sig > 0 && sig != SIGUSR2) {
                    handler(sig);
                }
            }
        });
    }

private:
    sigset_t set_{};
    std::atomic<bool> done_{false};
    std::thread thread_;
};

std::string listen_address(const PipelineSpec& spec, const RunSettings& settings) {
    std::string address = settings.onetime ? "off" : "0.0.0.0:9090";
    if (spec.server.listen) {
        address = *spec.server.listen;
    }
    if (settings.listen) {
        address = *settings.listen;
    }
    if (address.empty() || address == "off") {
        return {};
    }
    return address;
}

}  // namespace

void block_stop_signals() noexcept {
    const sigset_t set = stop_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void unblock_stop_signals() noexcept {
    const sigset_t set = stop_signals();
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

namespace {

// What the run loop, the signal thread and the HTTP endpoint share.
struct Running {
    std::mutex mutex;  // guards the three below
    Engine* current = nullptr;
    std::unique_ptr<PipelineSpec> pending;  // a valid reloaded pipeline to switch to
    bool stop_requested = false;
};

// The plugins, which the signal thread also loads when it validates a reload.
struct Plugins {
    std::mutex mutex;
    PluginRegistry registry;
};

void log_loaded_plugins(const PluginRegistry& registry, Logger& logger) {
    if (!logger.enabled(LogLevel::Debug)) {
        return;
    }
    std::string loaded;
    for (const auto& p : registry.plugins()) {
        loaded += (loaded.empty() ? "" : ", ") + std::string(kind_name(p.descriptor->kind)) + " " +
                  p.descriptor->name;
    }
    logger.log(LogLevel::Debug, "", "plugins loaded: " + loaded);
}

bool ready_now(Running& running, Metrics& metrics, std::vector<std::string>& why) {
    const std::lock_guard<std::mutex> lock(running.mutex);
    if (running.current == nullptr) {
        why.emplace_back("the pipeline is starting");
        metrics.set_ready(false);
        return false;
    }
    const bool ready = running.current->ready();
    if (!ready) {
        why = running.current->missing();
    }
    metrics.set_ready(ready);
    return ready;
}

Clock::duration pending_age(Running& running) {
    const std::lock_guard<std::mutex> lock(running.mutex);
    return running.current == nullptr ? Clock::duration::zero()
                                      : running.current->pending_input_age();
}

HealthProbe health_probe(Running& running, Metrics& metrics) {
    HealthProbe probe;
    probe.alive = [&running] {
        const std::lock_guard<std::mutex> lock(running.mutex);
        return running.current != nullptr &&
               Clock::now() - running.current->last_tick() < kAliveWindow;
    };
    probe.ready = [&running, &metrics](std::vector<std::string>& why) {
        return ready_now(running, metrics, why);
    };
    probe.metrics = [&running, &metrics] {
        std::vector<std::string> ignored;
        ready_now(running, metrics, ignored);
        metrics.set_pending_input_age(pending_age(running));
        return metrics.serialize();
    };
    probe.status = [&running, &metrics] {
        std::vector<std::string> why;
        const bool ready = ready_now(running, metrics, why);
        std::string missing;
        for (const auto& w : why) {
            missing += (missing.empty() ? "\"" : ",\"") + json::escaped(w) + "\"";
        }
        return metrics.board().to_json(
            "\"ready\":" + std::string(ready ? "true" : "false") + ",\"not_ready_because\":[" +
            missing + "],\"pending_input_age_seconds\":" +
            std::to_string(std::chrono::duration<double>(pending_age(running)).count()));
    };
    return probe;
}

// Starts the endpoint on `address` (none when empty); false when it cannot listen.
bool serve_health(HttpEndpoint& endpoint, const std::string& address, Logger& logger) {
    if (address.empty()) {
        return true;
    }
    std::string error;
    if (endpoint.start(address, error)) {
        logger.log(LogLevel::Info, "",
                   "serving /healthz, /readyz, /metrics and /status on http://" +
                       endpoint.bound_address());
        return true;
    }
    // A start-up error like a bad flag: a second crossover on the same
    // port, or a port in use by something else, must not start half-way.
    logger.log(LogLevel::Error, "",
               error +
                   " (is another process using the port? choose another with "
                   "--listen or server.listen, or 'off')");
    return false;
}

// SIGHUP: re-reads and validates the pipeline file; a valid one replaces the
// running pipeline once its engine stops, an invalid one changes nothing.
void reload(const RunSettings& settings, Plugins& plugins, Running& running, Metrics& metrics,
            Logger& logger) {
    if (settings.pipeline_file.empty()) {
        logger.log(LogLevel::Warn, "", "SIGHUP: no pipeline file to re-read (started from flags)");
        return;
    }
    logger.log(LogLevel::Info, "", "SIGHUP: re-reading " + settings.pipeline_file);
    std::vector<ConfigError> errors;
    auto next = std::make_unique<PipelineSpec>(
        parse_pipeline_file(settings.pipeline_file, process_env, errors));
    bool ok = errors.empty();
    if (ok) {
        const std::lock_guard<std::mutex> lock(plugins.mutex);
        ok = prepare(*next, plugins.registry, settings.plugin_dirs) &&
             (!settings.dry_run || replace_sinks_with_stdout(*next, plugins.registry));
    } else {
        print_config_errors(errors);
    }
    if (!ok) {
        metrics.count_reload(false);
        logger.log(LogLevel::Error, "",
                   "the new pipeline file is invalid (see above); the running "
                   "pipeline continues unchanged");
        return;
    }
    const std::lock_guard<std::mutex> lock(running.mutex);
    running.pending = std::move(next);
    if (running.current != nullptr) {
        running.current->request_stop();
    }
}

// SIGTERM, SIGINT: stops the engine; a second signal exits at once.
void stop_running(int sig, Running& running, Logger& logger) {
    const std::lock_guard<std::mutex> lock(running.mutex);
    if (running.stop_requested) {
        logger.log(LogLevel::Warn, "", "second signal: exiting now");
        ::_exit(130);
    }
    running.stop_requested = true;
    logger.log(LogLevel::Info, "", std::string("received ") + strsignal(sig) + ", stopping");
    if (running.current != nullptr) {
        running.current->request_stop();
    }
}

// Runs engines until stopped: the first pipeline, then each reloaded one (going
// back to the previous one when a reloaded pipeline cannot start).
int run_engines(std::unique_ptr<PipelineSpec> spec, const RunSettings& settings, Plugins& plugins,
                Running& running, Metrics& metrics, Logger& logger) {
    std::unique_ptr<PipelineSpec> previous;
    while (true) {
        EngineOptions options;
        options.onetime = settings.onetime;
        options.dry_run = settings.dry_run;
        auto engine = std::make_unique<Engine>(*spec, plugins.registry, logger, options, &metrics);
        // Before building: in one-time mode the sources start (and report) while it builds.
        std::vector<std::pair<std::string, Kind>> components;
        for (const auto& c : spec->components) {
            components.emplace_back(c.name, c.kind);
        }
        metrics.board().reset(components);
        std::vector<std::string> errors;
        bool built = false;
        {
            const std::lock_guard<std::mutex> lock(plugins.mutex);
            built = engine->build(errors);
        }
        if (!built) {
            print_errors(errors);
            if (!previous) {
                return 2;
            }
            // The reload failed after all: the file was valid, its components were not.
            metrics.count_reload(false);
            logger.log(LogLevel::Error, "",
                       "the new pipeline could not start (see above); going back to the "
                       "previous one");
            engine.reset();  // it refers to the spec it was built from: destroy it first
            spec = std::move(previous);
            previous.reset();
            continue;
        }
        if (previous) {
            metrics.count_reload(true);
        }
        {
            const std::lock_guard<std::mutex> lock(running.mutex);
            if (running.stop_requested) {
                return 0;
            }
            running.current = engine.get();
        }
        const int code = engine->run();
        {
            const std::lock_guard<std::mutex> lock(running.mutex);
            running.current = nullptr;
            if (running.stop_requested || !running.pending) {
                return code;
            }
            previous = std::move(spec);
            spec = std::move(running.pending);
        }
        engine.reset();
        logger.log(LogLevel::Info, "", "switched to the new pipeline");
    }
}

}  // namespace

int run_pipeline(PipelineSpec first_spec, const RunSettings& settings) {
    // First, before any thread exists, so that every thread inherits the mask.
    SignalThread signals;
    StderrLogger logger(settings.level, settings.format);
    Plugins plugins;
    auto spec = std::make_unique<PipelineSpec>(std::move(first_spec));
    if (!prepare(*spec, plugins.registry, settings.plugin_dirs)) {
        return 2;
    }
    if (settings.dry_run && !replace_sinks_with_stdout(*spec, plugins.registry)) {
        return 2;
    }
    log_loaded_plugins(plugins.registry, logger);
    const std::string address = listen_address(*spec, settings);

    Metrics metrics;
    CountingLogger counted(logger, metrics);
    Running running;
    HttpEndpoint endpoint(health_probe(running, metrics));
    if (!serve_health(endpoint, address, counted)) {
        return 2;
    }
    signals.start([&](int sig) {
        if (sig == SIGHUP) {
            reload(settings, plugins, running, metrics, counted);
        } else {
            stop_running(sig, running, counted);
        }
    });
    return run_engines(std::move(spec), settings, plugins, running, metrics, counted);
}

}  // namespace crossover::core
