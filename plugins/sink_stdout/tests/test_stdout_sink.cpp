#define BOOST_TEST_MODULE sink_stdout
#include <fcntl.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "stdout_sink.h"

extern "C" const crossover::PluginDescriptor* crossover_plugin_entry();

namespace crossover {
inline std::ostream& operator<<(std::ostream& os, WriteOutcome o) {
    return os << (o == WriteOutcome::Written ? "Written" : "Unchanged");
}
}  // namespace crossover

namespace {

struct SinkDeleter {
    void operator()(crossover::Sink* s) const { crossover_plugin_entry()->destroy(s); }
};
using SinkPtr = std::unique_ptr<crossover::Sink, SinkDeleter>;

SinkPtr make_sink(const std::string& options, std::string& error) {
    const crossover::PluginDescriptor* d = crossover_plugin_entry();
    crossover::ComponentConfig config;
    config.name = "preview";
    config.type = d->name;
    config.path = "sinks.preview";
    config.options = YAML::Load(options);
    for (std::size_t i = 0; i < d->option_count; ++i) {
        if (!config.options[d->options[i].name] && d->options[i].default_value != nullptr) {
            config.options[d->options[i].name] = YAML::Load(d->options[i].default_value);
        }
    }
    crossover::Component* c = d->create(config, error);
    return SinkPtr(c == nullptr ? nullptr : dynamic_cast<crossover::Sink*>(c));
}

SinkPtr make_sink(const std::string& options) {
    std::string error;
    SinkPtr s = make_sink(options, error);
    if (!s) {
        throw std::runtime_error(error);
    }
    return s;
}

crossover::Snapshot snapshot(const std::vector<std::pair<std::string, std::string>>& files) {
    crossover::Snapshot s;
    for (const auto& [name, content] : files) {
        auto d = std::make_shared<crossover::Document>();
        d->name = name;
        d->content = content;
        d->origin = crossover::ObjectRef{"ConfigMap", "test", "envoy-xds", "1"};
        s.documents.push_back(d);
    }
    return s;
}

// Sends standard output into a pipe drained by a thread, for the lifetime of
// the object; text() returns everything written meanwhile.
class CaptureStdout {
public:
    CaptureStdout() {
        int fds[2];
        if (::pipe(fds) != 0) {
            throw std::runtime_error("pipe failed");
        }
        saved_ = ::dup(STDOUT_FILENO);
        ::dup2(fds[1], STDOUT_FILENO);
        ::close(fds[1]);
        read_fd_ = fds[0];
        reader_ = std::thread([this] {
            char buf[4096];
            for (;;) {
                const ssize_t n = ::read(read_fd_, buf, sizeof buf);
                if (n <= 0) {
                    break;
                }
                text_.append(buf, static_cast<std::size_t>(n));
            }
        });
    }
    ~CaptureStdout() { finish(); }
    CaptureStdout(const CaptureStdout&) = delete;
    CaptureStdout& operator=(const CaptureStdout&) = delete;

    std::string text() {
        finish();
        return text_;
    }

private:
    void finish() {
        if (saved_ < 0) {
            return;
        }
        ::dup2(saved_, STDOUT_FILENO);  // closes the pipe's write end
        ::close(saved_);
        saved_ = -1;
        reader_.join();
        ::close(read_fd_);
    }

    int saved_ = -1;
    int read_fd_ = -1;
    std::thread reader_;
    std::string text_;
};

}  // namespace

BOOST_AUTO_TEST_CASE(descriptor) {
    const crossover::PluginDescriptor* d = crossover_plugin_entry();
    BOOST_TEST(std::string(d->name) == "stdout");
    BOOST_TEST(static_cast<int>(d->kind) == static_cast<int>(crossover::Kind::Sink));
    BOOST_TEST_REQUIRE(d->option_count == 1u);
    BOOST_TEST(std::string(d->options[0].name) == "format");
    BOOST_TEST(std::string(d->options[0].default_value) == "headers");
}

BOOST_AUTO_TEST_CASE(headers_format) {
    auto sink = make_sink("{}");
    CaptureStdout capture;
    crossover::WriteOutcome outcome = crossover::WriteOutcome::Unchanged;
    // Out of order on purpose: output is by name.
    const auto status = sink->write(
        snapshot({{"rds.yaml", "routes: 1\n"}, {"cds.yaml", "clusters: 1"}, {"empty", ""}}),
        outcome);
    BOOST_TEST_REQUIRE(status.is_ok(), status.message());
    BOOST_TEST(outcome == crossover::WriteOutcome::Written);
    BOOST_TEST(capture.text() ==
               "--- # cds.yaml\nclusters: 1\n--- # empty\n--- # rds.yaml\nroutes: 1\n");
}

BOOST_AUTO_TEST_CASE(raw_format) {
    auto sink = make_sink("{format: raw}");
    CaptureStdout capture;
    crossover::WriteOutcome outcome = crossover::WriteOutcome::Unchanged;
    BOOST_TEST_REQUIRE(sink->write(snapshot({{"b", "2"}, {"a", "1\n"}}), outcome).is_ok());
    BOOST_TEST(capture.text() == "1\n2");
}

BOOST_AUTO_TEST_CASE(prints_again_only_on_change) {
    auto sink = make_sink("{}");
    CaptureStdout capture;
    crossover::WriteOutcome outcome = crossover::WriteOutcome::Unchanged;
    BOOST_TEST_REQUIRE(sink->write(snapshot({{"a", "1\n"}}), outcome).is_ok());
    BOOST_TEST(outcome == crossover::WriteOutcome::Written);
    BOOST_TEST_REQUIRE(sink->write(snapshot({{"a", "1\n"}}), outcome).is_ok());
    BOOST_TEST(outcome == crossover::WriteOutcome::Unchanged);
    BOOST_TEST_REQUIRE(sink->write(snapshot({{"a", "2\n"}}), outcome).is_ok());
    BOOST_TEST(outcome == crossover::WriteOutcome::Written);
    BOOST_TEST_REQUIRE(sink->write(snapshot({}), outcome).is_ok());
    BOOST_TEST(outcome == crossover::WriteOutcome::Written);
    BOOST_TEST(capture.text() == "--- # a\n1\n--- # a\n2\n");
}

BOOST_AUTO_TEST_CASE(bad_format_is_refused) {
    std::string error;
    BOOST_TEST(!make_sink("{format: json}", error));
    BOOST_TEST(error == "sinks.preview: option 'format': expected 'headers' or 'raw', got 'json'");
}

BOOST_AUTO_TEST_CASE(concurrent_writers_never_interleave) {
    // Writes far larger than PIPE_BUF into a pipe interleave unless each is
    // finished under one lock.
    constexpr int kSinks = 4;
    constexpr int kRounds = 40;
    constexpr std::size_t kSize = 200000;
    std::vector<SinkPtr> sinks;
    for (int i = 0; i < kSinks; ++i) {
        sinks.push_back(make_sink("{}"));
    }
    CaptureStdout capture;
    std::vector<std::thread> threads;
    for (int i = 0; i < kSinks; ++i) {
        threads.emplace_back([&, i] {
            for (int r = 0; r < kRounds; ++r) {
                const char fill = static_cast<char>('a' + (i * kRounds + r) % 26);
                crossover::WriteOutcome outcome = crossover::WriteOutcome::Unchanged;
                (void)sinks[static_cast<std::size_t>(i)]->write(
                    snapshot({{"s" + std::to_string(i) + "-" + std::to_string(r),
                               std::string(kSize, fill) + "\n"}}),
                    outcome);
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    const std::string text = capture.text();
    // Every block is a header line and one uniform line of kSize bytes.
    std::size_t pos = 0;
    int blocks = 0;
    while (pos < text.size()) {
        const std::size_t nl = text.find('\n', pos);
        BOOST_TEST_REQUIRE(nl != std::string::npos);
        BOOST_TEST_REQUIRE(text.compare(pos, 6, "--- # ") == 0);
        const std::size_t body = nl + 1;
        const std::size_t end = text.find('\n', body);
        BOOST_TEST_REQUIRE(end != std::string::npos);
        BOOST_TEST_REQUIRE(end - body == kSize);
        BOOST_TEST_REQUIRE(text.find_first_not_of(text[body], body) == end);
        pos = end + 1;
        ++blocks;
    }
    BOOST_TEST(blocks == kSinks * kRounds);
}
