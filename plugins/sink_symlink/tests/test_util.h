// Helpers shared by the symlink sink's tests.
#pragma once

#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "capture_logger.h"
#include "crossover/sdk.h"
#include "temp_dir.h"

extern "C" const crossover::PluginDescriptor* crossover_plugin_entry();

namespace crossover {
inline std::ostream& operator<<(std::ostream& os, WriteOutcome o) {
    return os << (o == WriteOutcome::Written ? "Written" : "Unchanged");
}
}  // namespace crossover

namespace test {

namespace fs = std::filesystem;

using TempDir = crossover::test::TempDir;

inline crossover::test::CaptureLogger& logger() {
    static crossover::test::CaptureLogger instance;
    return instance;
}

// A configuration as the core would hand it over: the user's options with the
// descriptor's defaults filled in.
inline crossover::ComponentConfig make_config(const std::string& options_yaml) {
    const crossover::PluginDescriptor* d = crossover_plugin_entry();
    crossover::ComponentConfig config;
    config.name = "envoy";
    config.type = d->name;
    config.path = "sinks.envoy";
    config.options = YAML::Load(options_yaml);
    for (std::size_t i = 0; i < d->option_count; ++i) {
        const crossover::OptionSpec& spec = d->options[i];
        if (!config.options[spec.name] && spec.default_value != nullptr) {
            config.options[spec.name] = YAML::Load(spec.default_value);
        }
    }
    config.logger = &logger();
    return config;
}

struct SinkDeleter {
    void operator()(crossover::Sink* sink) const { crossover_plugin_entry()->destroy(sink); }
};
using SinkPtr = std::unique_ptr<crossover::Sink, SinkDeleter>;

// Creates the sink through the plugin's factory; empty pointer and `error`
// set on failure.
inline SinkPtr make_sink(const std::string& options_yaml, std::string& error) {
    const crossover::ComponentConfig config = make_config(options_yaml);
    crossover::Component* c = crossover_plugin_entry()->create(config, error);
    if (c == nullptr) {
        return SinkPtr();
    }
    auto* sink = dynamic_cast<crossover::Sink*>(c);
    if (sink == nullptr) {
        crossover_plugin_entry()->destroy(c);
        error = "not a sink";
        return SinkPtr();
    }
    return SinkPtr(sink);
}

inline SinkPtr make_sink(const std::string& options_yaml) {
    std::string error;
    SinkPtr sink = make_sink(options_yaml, error);
    if (!sink) {
        throw std::runtime_error("cannot create sink: " + error);
    }
    return sink;
}

using Files = std::vector<std::pair<std::string, std::string>>;

inline crossover::Snapshot snapshot(const Files& files) {
    crossover::Snapshot s;
    for (const auto& [name, content] : files) {
        auto d = std::make_shared<crossover::Document>();
        d->name = name;
        d->content = content;
        d->origin = crossover::ObjectRef{"ConfigMap", "test", "envoy-xds", "7"};
        s.documents.push_back(std::move(d));
    }
    return s;
}

struct WriteResult {
    crossover::Status status;
    crossover::WriteOutcome outcome = crossover::WriteOutcome::Unchanged;
};

inline WriteResult write(crossover::Sink& sink, const Files& files) {
    WriteResult r;
    r.status = sink.write(snapshot(files), r.outcome);
    return r;
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read " + path);
    }
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

inline void write_file(const std::string& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
}

// Entries of a directory, sorted.
inline std::vector<std::string> entries(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) {
        out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

inline std::vector<std::string> version_dirs(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& name : entries(dir)) {
        if (name.rfind(".v-", 0) == 0) {
            out.push_back(name);
        }
    }
    return out;
}

inline std::string read_link(const std::string& path) {
    std::error_code ec;
    const fs::path target = fs::read_symlink(path, ec);
    return ec ? std::string() : target.string();
}

inline ino_t inode(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        return 0;
    }
    return st.st_ino;
}

// A real inotify watch on one directory.
class Inotify {
public:
    struct Event {
        std::uint32_t mask;
        std::string name;
    };

    explicit Inotify(const std::string& dir, std::uint32_t mask) {
        fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (fd_ < 0 || ::inotify_add_watch(fd_, dir.c_str(), mask) < 0) {
            throw std::runtime_error("inotify setup failed for " + dir);
        }
    }
    ~Inotify() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    Inotify(const Inotify&) = delete;
    Inotify& operator=(const Inotify&) = delete;

    // Every event queued so far (the kernel queues them synchronously with
    // the file system operation, so nothing is pending once a write returns).
    std::vector<Event> drain() {
        std::vector<Event> events;
        alignas(inotify_event) char buf[65536];
        for (;;) {
            const ssize_t n = ::read(fd_, buf, sizeof buf);
            if (n <= 0) {
                break;
            }
            std::size_t off = 0;
            while (off < static_cast<std::size_t>(n)) {
                inotify_event ev{};
                std::memcpy(&ev, buf + off, sizeof ev);
                std::string name;
                if (ev.len > 0) {
                    name = std::string(buf + off + sizeof ev);
                }
                events.push_back(Event{ev.mask, name});
                off += sizeof ev + ev.len;
            }
        }
        return events;
    }

    // Names of the events matching `mask`, in the order they happened.
    std::vector<std::string> names(std::uint32_t mask) {
        std::vector<std::string> out;
        for (const auto& e : drain()) {
            if ((e.mask & mask) != 0) {
                out.push_back(e.name);
            }
        }
        return out;
    }

private:
    int fd_ = -1;
};

}  // namespace test
