// crossover-registry-bench: the route registry end to end through the real
// binary (route_registry [-> envoy_validate] -> symlink sink):
//  - registration -> files swapped: PUT sent until Envoy's files in the output
//    directory hold the change, p50/p99, with N routes registered;
//  - sustained registrations per second with fsync (concurrent clients, group
//    commit), and the time a PUT takes to be answered.
//
//   crossover-registry-bench [--sizes 100,1000] [--updates 100] [--clients 16]
//                            [--seconds 3] [--validate] [--route-change] [--no-sink-fsync]
//                            [--crossover PATH]
//
// --no-sink-fsync turns the symlink sink's fsync off (a tmpfs output); the
// registry's journal always fsyncs. Each measured change gives r0 a new port
// (its Cluster changes); --route-change also gives it a new timeout, so its
// virtual host in the RDS changes too.
//
// See docs/performance.md.
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "http_client.h"
#include "process.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using crossover::test::HttpClient;

namespace {

const std::string kToken = "bench-token-0123456789abcdef";

struct Settings {
    std::vector<int> sizes = {100, 1000};
    int updates = 100;
    int clients = 16;
    double seconds = 3;
    bool validate = false;
    bool sink_fsync = true;
    // Each measured change also sets r0's timeout, so its virtual host in the
    // RDS changes too (a port alone changes only its Cluster).
    bool route_change = false;
    std::string crossover = CROSSOVER_BENCH_BIN;
};

double ms(Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    const auto i =
        static_cast<std::size_t>(std::lround(p / 100.0 * static_cast<double>(v.size() - 1)));
    return v[std::min(i, v.size() - 1)];
}

std::string body(int i, int port, const std::string& timeout = "") {
    return R"({"domains": ["s)" + std::to_string(i) +
           R"(.example.org"], "endpoints": [{"address": "10.1.)" + std::to_string(i / 250) + "." +
           std::to_string(i % 250 + 1) + R"(", "port": )" + std::to_string(port) +
           R"(}], "protocol": "grpc")" +
           (timeout.empty() ? std::string() : R"(, "timeout": ")" + timeout + "\"") + "}";
}

// Waits (inotify on the output directory) until current/cds.yaml holds `marker`.
bool wait_for_marker(int inotify_fd, const std::string& dir, const std::string& marker,
                     Clock::time_point& noticed) {
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < deadline) {
        noticed = Clock::now();
        if (crossover::test::read_text(dir + "/current/cds.yaml").find(marker) !=
            std::string::npos) {
            return true;
        }
        pollfd p{inotify_fd, POLLIN, 0};
        ::poll(&p, 1, 100);
        char buf[4096];
        while (::read(inotify_fd, buf, sizeof buf) > 0) {
        }
    }
    return false;
}

struct Row {
    int routes = 0;
    double p50 = 0;
    double p99 = 0;
    double put_p50 = 0;
    double put_p99 = 0;
    double per_second = 0;
};

// The pipeline: the registry, envoy_validate when asked, the symlink sink.
std::string registry_pipeline(const Settings& s) {
    std::string pipeline =
        "engine: {debounce: 1ms, max_delay: 20ms}\n"
        "sources:\n"
        "  registry: {type: route_registry, listen: 127.0.0.1:0, token_file: tokens, "
        "state_dir: state}\n";
    std::string input = "registry";
    if (s.validate) {
        pipeline += "transforms:\n  checked: {type: envoy_validate, inputs: [registry]}\n";
        input = "checked";
    }
    pipeline += "sinks:\n  envoy: {type: symlink, inputs: [" + input +
                "], dir: out, fsync: " + (s.sink_fsync ? "true" : "false") + "}\n";
    return pipeline;
}

// The registry's address, from crossover's log.
std::string registry_address(crossover::test::Process& cx) {
    std::string address;
    const std::string mark = "route registry listening on ";
    crossover::test::eventually(
        [&] {
            const std::string err = cx.err();
            const auto at = err.find(mark);
            if (at != std::string::npos) {
                address = err.substr(at + mark.size(), err.find('\n', at) - at - mark.size());
            }
            return !address.empty() || !cx.running();
        },
        std::chrono::seconds(60));
    if (address.empty()) {
        throw std::runtime_error("crossover did not start: " + cx.err());
    }
    return address;
}

// Registers routes r0 .. r(routes-1) from `clients` threads.
void register_all(const Settings& s, const std::string& address, int routes, int port,
                  std::atomic<int>& failures) {
    std::atomic<int> next{0};
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(s.clients));
    for (int c = 0; c < s.clients; ++c) {
        threads.emplace_back([&] {
            HttpClient client(address, kToken);
            for (int i = next++; i < routes; i = next++) {
                if (client.call("PUT", "/v1/routes/r" + std::to_string(i), body(i, port)).status >=
                    300) {
                    ++failures;
                }
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
}

// Sustained: every client replaces routes (a new port each round) for
// `seconds`; fills the row's rate and PUT latencies.
void replace_sustained(const Settings& s, const std::string& address, int routes, Row& row,
                       std::atomic<int>& failures) {
    std::vector<double> put_ms;
    std::mutex put_mutex;
    std::atomic<bool> stop{false};
    std::atomic<long> done{0};
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(s.clients));
    const auto t0 = Clock::now();
    for (int c = 0; c < s.clients; ++c) {
        threads.emplace_back([&, c] {
            HttpClient client(address, kToken);
            std::vector<double> mine;
            for (int k = 0; !stop.load(); ++k) {
                const int i = (c + k * s.clients) % routes;
                const auto a = Clock::now();
                const int status =
                    client.call("PUT", "/v1/routes/r" + std::to_string(i), body(i, 9000 + k % 1000))
                        .status;
                mine.push_back(ms(Clock::now() - a));
                if (status >= 300) {
                    ++failures;
                }
                ++done;
            }
            const std::lock_guard<std::mutex> lock(put_mutex);
            put_ms.insert(put_ms.end(), mine.begin(), mine.end());
        });
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(s.seconds));
    stop = true;
    for (auto& th : threads) {
        th.join();
    }
    row.per_second = static_cast<double>(done.load()) / (ms(Clock::now() - t0) / 1000.0);
    row.put_p50 = percentile(put_ms, 50);
    row.put_p99 = percentile(put_ms, 99);
}

// Registration -> files swapped, one change at a time; the latencies.
std::vector<double> change_to_files(const Settings& s, const std::string& address,
                                    const fs::path& out, std::atomic<int>& failures) {
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    ::inotify_add_watch(fd, out.c_str(), IN_MOVED_TO | IN_CREATE);
    HttpClient client(address, kToken);
    std::vector<double> latencies;
    for (int u = 0; u < s.updates; ++u) {
        const int port = 20000 + u;
        const auto a = Clock::now();
        const std::string change =
            s.route_change ? body(0, port, std::to_string(u % 50 + 1) + "s") : body(0, port);
        if (client.call("PUT", "/v1/routes/r0", change).status >= 300) {
            ++failures;
        }
        Clock::time_point noticed;
        if (!wait_for_marker(fd, out, "port_value: " + std::to_string(port) + "\n", noticed)) {
            ::close(fd);
            throw std::runtime_error("update " + std::to_string(u) + " never reached the files");
        }
        latencies.push_back(ms(noticed - a));
    }
    ::close(fd);
    return latencies;
}

Row run_size(const Settings& s, int routes) {
    crossover::test::TempDir t;
    crossover::test::write_text(t / "tokens", kToken + " bench write\n");
    crossover::test::write_text(t / "p.yaml", registry_pipeline(s));
    fs::create_directories(t / "out");
    crossover::test::Process cx({s.crossover, "run", t / "p.yaml", "--listen", "off"}, t.path());
    const std::string address = registry_address(cx);

    Row row;
    row.routes = routes;
    std::atomic<int> failures{0};
    register_all(s, address, routes, 8080, failures);
    replace_sustained(s, address, routes, row, failures);
    const std::vector<double> latencies = change_to_files(s, address, t / "out", failures);
    if (failures.load() != 0) {
        throw std::runtime_error(std::to_string(failures.load()) + " requests failed");
    }
    row.p50 = percentile(latencies, 50);
    row.p99 = percentile(latencies, 99);
    cx.signal(SIGTERM);
    cx.wait();
    return row;
}

std::vector<int> parse_sizes(const std::string& text) {
    std::vector<int> out;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        out.push_back(std::stoi(item));
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    Settings s;
    try {
        for (int i = 1; i < argc; ++i) {
            const std::string a = argv[i];
            const auto value = [&]() -> std::string {
                if (i + 1 >= argc) {
                    throw std::runtime_error(a + " needs a value");
                }
                return argv[++i];
            };
            if (a == "--sizes") {
                s.sizes = parse_sizes(value());
            } else if (a == "--updates") {
                s.updates = std::stoi(value());
            } else if (a == "--clients") {
                s.clients = std::stoi(value());
            } else if (a == "--seconds") {
                s.seconds = std::stod(value());
            } else if (a == "--no-sink-fsync") {
                s.sink_fsync = false;
            } else if (a == "--validate") {
                s.validate = true;
            } else if (a == "--route-change") {
                s.route_change = true;
            } else if (a == "--crossover") {
                s.crossover = value();
            } else {
                std::cerr
                    << "usage: " << argv[0]
                    << " [--sizes 100,1000] [--updates N] [--clients N] [--seconds S]"
                       " [--validate] [--route-change] [--no-sink-fsync] [--crossover PATH]\n";
                return 2;
            }
        }
        std::cout << "route registry (journal fsync on), symlink sink fsync "
                  << (s.sink_fsync ? "on" : "off") << (s.validate ? ", envoy_validate" : "")
                  << (s.route_change ? ", changes edit the route" : "") << ", " << s.clients
                  << " clients\n"
                  << "routes  change->files p50 ms  p99 ms  PUT p50 ms  PUT p99 ms  "
                     "registrations/s\n";
        for (const int n : s.sizes) {
            const Row r = run_size(s, n);
            std::printf("%6d  %19.2f  %6.2f  %10.2f  %10.2f  %15.0f\n", r.routes, r.p50, r.p99,
                        r.put_p50, r.put_p99, r.per_second);
            std::fflush(stdout);
        }
    } catch (const std::exception& e) {
        std::cerr << "crossover-registry-bench: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
