// Test support for the Kubernetes plugins: the test API server
// (tests/support/fake_apiserver.h) read through Poco JSON, ConfigMap objects,
// and a SourceContext that records what a source does.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/URI.h>

#include "capture_logger.h"
#include "crossover/sdk.h"
#include "fake_apiserver.h"
#include "temp_dir.h"

namespace kube_test {

using namespace std::chrono_literals;
using crossover::test::CaptureLogger;
using crossover::test::TempDir;
using crossover::testing::FakeApiServer;

inline Poco::JSON::Object::Ptr parse(const std::string& text) {
    Poco::JSON::Parser p;
    return p.parse(text).extract<Poco::JSON::Object::Ptr>();
}

inline std::string stringify(const Poco::JSON::Object::Ptr& obj) {
    std::ostringstream out;
    obj->stringify(out);
    return out.str();
}

inline std::string env_or(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return (v != nullptr && *v != '\0') ? std::string(v) : fallback;
}

// Replaces a file at once (temp file + rename), as a rotated Secret appears.
inline void write_file(const std::string& path, const std::string& content) {
    const std::string tmp = path + ".tmp";
    std::ofstream(tmp) << content;
    std::filesystem::rename(tmp, path);
}

// A call to the server's control port; throws unless it answers 2xx.
inline Poco::JSON::Object::Ptr control(const FakeApiServer& server, const std::string& path,
                                       const std::string& body = "{}", bool get = false) {
    const auto [status, text] = server.control(get ? "GET" : "POST", path, get ? "" : body);
    if (status < 200 || status >= 300) {
        throw std::runtime_error("control " + path + ": " + text);
    }
    return parse(text);
}

// Requests whose "METHOD path?query" contains `path` (and method when given).
inline int count(const FakeApiServer& server, const std::string& method, const std::string& path) {
    return static_cast<int>(server.request_count(method, path));
}

// The stored object as the server keeps it.
inline Poco::JSON::Object::Ptr stored_object(const FakeApiServer& server, const std::string& kind,
                                             const std::string& ns, const std::string& name) {
    return parse(server.get_object(kind, ns, name));
}

inline std::string configmap_json(const std::string& ns, const std::string& name,
                                  const std::map<std::string, std::string>& data,
                                  const std::map<std::string, std::string>& labels = {}) {
    Poco::JSON::Object::Ptr obj = new Poco::JSON::Object;
    obj->set("apiVersion", "v1");
    obj->set("kind", "ConfigMap");
    Poco::JSON::Object::Ptr meta = new Poco::JSON::Object;
    meta->set("name", name);
    meta->set("namespace", ns);
    if (!labels.empty()) {
        Poco::JSON::Object::Ptr l = new Poco::JSON::Object;
        for (const auto& [k, v] : labels) {
            l->set(k, v);
        }
        meta->set("labels", l);
    }
    obj->set("metadata", meta);
    Poco::JSON::Object::Ptr d = new Poco::JSON::Object;
    for (const auto& [k, v] : data) {
        d->set(k, v);
    }
    obj->set("data", d);
    return stringify(obj);
}

// A SourceContext that records snapshots and counters.
class TestContext : public crossover::SourceContext {
public:
    void publish(crossover::SnapshotPtr snapshot) noexcept override {
        std::lock_guard<std::mutex> lock(mutex_);
        snapshots_.push_back(std::move(snapshot));
        cv_.notify_all();
    }
    [[nodiscard]] bool stopping() const noexcept override { return stopping_.load(); }
    bool sleep_for(std::chrono::milliseconds d) noexcept override {
        std::unique_lock<std::mutex> lock(mutex_);
        timeline_.push_back("sleep " + std::to_string(d.count()));
        cv_.wait_for(lock, d, [&] { return stopping_.load(); });
        return !stopping_.load();
    }
    void count(std::string_view event, double amount) noexcept override {
        std::lock_guard<std::mutex> lock(mutex_);
        counts_[std::string(event)] += amount;
        timeline_.push_back(std::string(event));
    }
    // What the source did, in order: counted events by name, "sleep <ms>" for
    // every backoff, and the test's own marks.
    void mark(const std::string& label) {
        std::lock_guard<std::mutex> lock(mutex_);
        timeline_.push_back(label);
    }
    std::vector<std::string> timeline() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return timeline_;
    }
    void stop() {
        stopping_ = true;
        std::lock_guard<std::mutex> lock(mutex_);
        cv_.notify_all();
    }
    double counter(const std::string& name) const {
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = counts_.find(name);
        return it == counts_.end() ? 0.0 : it->second;
    }
    crossover::SnapshotPtr latest() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return snapshots_.empty() ? nullptr : snapshots_.back();
    }
    std::size_t published() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return snapshots_.size();
    }
    // Waits until the latest snapshot satisfies `pred`.
    bool wait_for(const std::function<bool(const crossover::Snapshot&)>& pred,
                  std::chrono::milliseconds timeout = 45s) {
        std::unique_lock<std::mutex> lock(mutex_);
        return cv_.wait_for(lock, timeout,
                            [&] { return !snapshots_.empty() && pred(*snapshots_.back()); });
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<crossover::SnapshotPtr> snapshots_;
    std::map<std::string, double> counts_;
    std::vector<std::string> timeline_;
    std::atomic<bool> stopping_{false};
};

// Runs a source on its own thread; stops it (context + Source::stop) on exit.
class SourceRunner {
public:
    SourceRunner(crossover::Source& source, TestContext& context)
        : source_(source), context_(context) {
        thread_ = std::thread([this] {
            status_ = source_.run(context_);
            done_ = true;
        });
    }
    ~SourceRunner() { stop(); }
    SourceRunner(const SourceRunner&) = delete;
    SourceRunner& operator=(const SourceRunner&) = delete;
    void stop() {
        if (thread_.joinable()) {
            context_.stop();
            source_.stop();
            thread_.join();
        }
    }
    bool done() const { return done_.load(); }
    const crossover::Status& status() const { return status_; }

private:
    crossover::Source& source_;
    TestContext& context_;
    std::thread thread_;
    crossover::Status status_;
    std::atomic<bool> done_{false};
};

// Polls `pred` until true or timeout.
inline bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 45s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) {
            return true;
        }
        std::this_thread::sleep_for(20ms);
    }
    return pred();
}

// A ComponentConfig from YAML option text.
inline crossover::ComponentConfig make_config(const std::string& options_yaml,
                                              crossover::Logger& logger, bool onetime = false) {
    crossover::ComponentConfig c;
    c.name = "test";
    c.type = "test";
    c.path = "sources.test";
    c.options = YAML::Load(options_yaml);
    c.onetime = onetime;
    c.logger = &logger;
    return c;
}

}  // namespace kube_test

namespace kube_test {

// A ComponentConfig with the table's defaults applied, then `options_yaml`.
inline crossover::ComponentConfig make_config(const crossover::OptionSpec* specs, std::size_t count,
                                              const std::string& options_yaml,
                                              crossover::Logger& logger, bool onetime = false) {
    crossover::ComponentConfig c = make_config(options_yaml, logger, onetime);
    for (std::size_t i = 0; i < count; ++i) {
        if (specs[i].default_value != nullptr && !c.options[specs[i].name]) {
            c.options[specs[i].name] = YAML::Load(specs[i].default_value);
        }
    }
    return c;
}

// Connection options for `server` (YAML flow-map entries).
inline std::string connection_yaml(const FakeApiServer& server) {
    return "apiserver: " + server.url() + "\nca_file: " + server.ca_file() +
           "\ntoken_file: " + server.token_file() + "\nnamespace: test\n";
}

// Number of list (non-watch) GET requests whose path contains `fragment`.
inline int list_requests(const FakeApiServer& server, const std::string& fragment) {
    const auto counts = control(server, "/counts", "", true)->getObject("counts");
    int n = 0;
    for (const auto& [key, value] : *counts) {
        if (key.rfind("GET ", 0) == 0 && key.find(fragment) != std::string::npos &&
            key.find("watch=") == std::string::npos) {
            n += value.convert<int>();
        }
    }
    return n;
}

// Every request whose "METHOD path?query" contains `fragment`.
inline int all_requests(const FakeApiServer& server, const std::string& fragment) {
    const auto counts = control(server, "/counts", "", true)->getObject("counts");
    int n = 0;
    for (const auto& [key, value] : *counts) {
        if (key.find(fragment) != std::string::npos) {
            n += value.convert<int>();
        }
    }
    return n;
}

}  // namespace kube_test
