// Test support for the Kubernetes plugins: starts the test API server
// (tests/kube_apiserver/fake_kube_apiserver.py) on loopback, drives its
// control port, and offers a SourceContext that records what a source does.
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

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
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include "crossover/sdk.h"

extern char** environ;

namespace kube_test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline std::string env_or(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return (v != nullptr && *v != '\0') ? std::string(v) : fallback;
}

inline Poco::JSON::Object::Ptr parse(const std::string& text) {
    Poco::JSON::Parser p;
    return p.parse(text).extract<Poco::JSON::Object::Ptr>();
}

inline std::string stringify(const Poco::JSON::Object::Ptr& obj) {
    std::ostringstream out;
    obj->stringify(out);
    return out.str();
}

struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "crossover-kube-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

// The test API server, started on construction and stopped on destruction.
class FakeApiServer {
public:
    explicit FakeApiServer(std::vector<std::string> extra_args = {}) {
        const std::string script = env_or("CROSSOVER_SOURCE_DIR", CROSSOVER_TEST_SOURCE_DIR) +
                                   "/tests/kube_apiserver/fake_kube_apiserver.py";
        const std::string ready = (dir_.path / "ready.json").string();
        std::vector<std::string> args{
            "python3", script,  "--exit-with-parent",        "--ready-file",
            ready,     "--dir", (dir_.path / "srv").string()};
        args.insert(args.end(), extra_args.begin(), extra_args.end());
        std::vector<char*> argv;
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
        const int rc = posix_spawnp(&pid_, "python3", &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0) {
            throw std::runtime_error("cannot start python3");
        }
        const auto deadline = std::chrono::steady_clock::now() + 30s;
        while (!fs::exists(ready)) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                throw std::runtime_error("the test API server exited during startup");
            }
            if (std::chrono::steady_clock::now() > deadline) {
                throw std::runtime_error("the test API server did not start");
            }
            std::this_thread::sleep_for(20ms);
        }
        std::ifstream in(ready);
        std::stringstream buf;
        buf << in.rdbuf();
        const auto info = parse(buf.str());
        url = info->getValue<std::string>("url");
        control_url = info->getValue<std::string>("control_url");
        ca_file = info->getValue<std::string>("ca_file");
        token_file = info->getValue<std::string>("token_file");
        accepted_tokens_file = info->getValue<std::string>("accepted_tokens_file");
        token = info->getValue<std::string>("token");
    }
    ~FakeApiServer() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int status = 0;
            for (int i = 0; i < 100; ++i) {
                if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                    return;
                }
                std::this_thread::sleep_for(20ms);
            }
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
        }
    }
    FakeApiServer(const FakeApiServer&) = delete;
    FakeApiServer& operator=(const FakeApiServer&) = delete;

    // POST (or GET when body is empty and get is true) to the control port.
    Poco::JSON::Object::Ptr control(const std::string& path, const std::string& body = "{}",
                                    bool get = false) const {
        const Poco::URI uri(control_url);
        Poco::Net::HTTPClientSession s(uri.getHost(), uri.getPort());
        s.setTimeout(Poco::Timespan(20, 0));
        Poco::Net::HTTPRequest req(get ? "GET" : "POST", path, Poco::Net::HTTPMessage::HTTP_1_1);
        if (!get) {
            req.setContentType("application/json");
            req.setContentLength(static_cast<std::streamsize>(body.size()));
        }
        std::ostream& os = s.sendRequest(req);
        if (!get) {
            os << body;
        }
        Poco::Net::HTTPResponse resp;
        std::istream& is = s.receiveResponse(resp);
        std::string out;
        Poco::StreamCopier::copyToString(is, out);
        if (resp.getStatus() != Poco::Net::HTTPResponse::HTTP_OK) {
            throw std::runtime_error("control " + path + ": " + out);
        }
        return parse(out);
    }

    // Creates or replaces an object (JSON text); returns its new resourceVersion.
    std::string apply(const std::string& object_json) const {
        const auto r = control("/apply", object_json);
        return r->getValue<std::string>("resourceVersion");
    }
    void remove(const std::string& kind, const std::string& ns, const std::string& name) const {
        control("/delete", R"({"kind":")" + kind + R"(","namespace":")" + ns + R"(","name":")" +
                               name + R"("})");
    }
    // Requests whose "METHOD path?query" contains `path` (and method when given).
    int count(const std::string& method, const std::string& path) const {
        Poco::URI u("/count");
        u.addQueryParameter("method", method);
        u.addQueryParameter("path", path);
        return control(u.getPathAndQuery(), "", true)->getValue<int>("count");
    }
    Poco::JSON::Object::Ptr get(const std::string& kind, const std::string& ns,
                                const std::string& name) const {
        Poco::URI u("/get");
        u.addQueryParameter("kind", kind);
        u.addQueryParameter("namespace", ns);
        u.addQueryParameter("name", name);
        return control(u.getPathAndQuery(), "", true);
    }
    int open_watches() const { return control("/state", "", true)->getValue<int>("openWatches"); }
    // Replaces the token the client reads and revokes every other token.
    void rotate_token(const std::string& fresh) const {
        write_file(accepted_tokens_file, fresh + "\n");
        write_file(token_file, fresh + "\n");
    }
    static void write_file(const std::string& path, const std::string& content) {
        const std::string tmp = path + ".tmp";
        std::ofstream(tmp) << content;
        fs::rename(tmp, path);
    }

    std::string url;
    std::string control_url;
    std::string ca_file;
    std::string token_file;
    std::string accepted_tokens_file;
    std::string token;

private:
    TempDir dir_;
    pid_t pid_ = -1;
};

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

// A logger that keeps every line.
class CaptureLogger : public crossover::Logger {
public:
    void log(crossover::LogLevel level, std::string_view component,
             std::string_view message) noexcept override {
        std::lock_guard<std::mutex> lock(mutex_);
        lines_.push_back(std::to_string(static_cast<int>(level)) + " " + std::string(component) +
                         ": " + std::string(message));
        if (std::getenv("KUBE_TEST_VERBOSE") != nullptr) {
            std::fprintf(stderr, "%s\n", lines_.back().c_str());
        }
    }
    [[nodiscard]] bool enabled(crossover::LogLevel) const noexcept override { return true; }
    bool contains(const std::string& needle) const {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& l : lines_) {
            if (l.find(needle) != std::string::npos) {
                return true;
            }
        }
        return false;
    }
    std::vector<std::string> lines() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return lines_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<std::string> lines_;
};

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
    return "apiserver: " + server.url + "\nca_file: " + server.ca_file +
           "\ntoken_file: " + server.token_file + "\nnamespace: test\n";
}

// Number of list (non-watch) GET requests whose path contains `fragment`.
inline int list_requests(const FakeApiServer& server, const std::string& fragment) {
    const auto counts = server.control("/counts", "", true)->getObject("counts");
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
    const auto counts = server.control("/counts", "", true)->getObject("counts");
    int n = 0;
    for (const auto& [key, value] : *counts) {
        if (key.find(fragment) != std::string::npos) {
            n += value.convert<int>();
        }
    }
    return n;
}

}  // namespace kube_test
