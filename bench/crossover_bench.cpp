// crossover-bench: runs the real crossover binary against the test Kubernetes API
// server (TLS) and prints change-to-output latency, crossover's own part of it,
// full recompute time, memory, CPU and --onetime wall time. See docs/performance.md.
//
//   crossover-bench [--quick] [--csv FILE] [--idle SECONDS] [--updates N]
//                   [--sizes 1,100,1000,10000] [--splits 1,1000] [--onetime-runs N]
//                   [--no-fsync] [--crossover PATH] [--source-dir DIR]
//
// --no-fsync sets the symlink sink's `fsync: false` (what a tmpfs output uses), to
// separate the disk's flush time from crossover's own work.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "fake_apiserver.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Settings {
    bool quick = false;
    std::string csv;
    double idle_seconds = 60;
    int updates = 50;
    int onetime_runs = 10;
    std::vector<int> sizes = {1, 100, 1000, 10000};
    std::vector<int> splits = {1, 1000};
    bool fsync = true;
    std::string crossover;
    std::string source_dir;
};

double ms_since(Clock::time_point t0, Clock::time_point t1) {
    return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) {
        throw std::runtime_error("cannot write " + path);
    }
}

std::vector<int> parse_int_list(const std::string& text) {
    std::vector<int> out;
    std::stringstream in(text);
    for (std::string item; std::getline(in, item, ',');) {
        out.push_back(std::stoi(item));
    }
    return out;
}

// Percentile by the nearest-rank method; 0 for an empty sample.
double percentile(std::vector<double> v, double p) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    const auto rank = static_cast<std::size_t>(
        std::max(1.0, std::ceil(p / 100.0 * static_cast<double>(v.size()))));
    return v[std::min(rank, v.size()) - 1];
}

std::string fixed(double v, int digits = 2) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

// ---- /proc

struct ProcSample {
    double rss_mib = 0;
    double hwm_mib = 0;
    double cpu_seconds = 0;
};

ProcSample sample_proc(pid_t pid) {
    ProcSample s;
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);) {
        const auto kib = [&] { return std::stod(line.substr(line.find(':') + 1)) / 1024.0; };
        if (line.rfind("VmRSS:", 0) == 0) {
            s.rss_mib = kib();
        } else if (line.rfind("VmHWM:", 0) == 0) {
            s.hwm_mib = kib();
        }
    }
    const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    const auto close = stat.rfind(')');
    if (close != std::string::npos) {
        std::istringstream in(stat.substr(close + 2));
        std::vector<std::string> f;
        for (std::string w; in >> w;) {
            f.push_back(w);
        }
        // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15.
        if (f.size() > 12) {
            const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
            s.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;
        }
    }
    return s;
}

// ---- child processes

class Child {
public:
    Child(const std::vector<std::string>& argv, const std::string& log_path,
          const std::vector<std::string>& env = {}) {
        pid_ = ::fork();
        if (pid_ < 0) {
            throw std::runtime_error("fork failed");
        }
        if (pid_ == 0) {
            const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) {
                ::dup2(fd, 1);
                ::dup2(fd, 2);
                ::close(fd);
            }
            for (const auto& e : env) {
                ::putenv(const_cast<char*>(e.c_str()));
            }
            std::vector<char*> args;
            args.reserve(argv.size() + 1);
            for (const auto& a : argv) {
                args.push_back(const_cast<char*>(a.c_str()));
            }
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    Child(Child&&) = delete;
    Child& operator=(Child&&) = delete;
    ~Child() { stop(); }

    [[nodiscard]] pid_t pid() const { return pid_; }

    bool running() {
        if (pid_ <= 0) {
            return false;
        }
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            pid_ = -1;
            status_ = status;
            return false;
        }
        return true;
    }

    // Waits for the exit; returns the exit code (-1 on a signal or timeout).
    int wait(std::chrono::milliseconds timeout) {
        const auto deadline = Clock::now() + timeout;
        while (running()) {
            if (Clock::now() > deadline) {
                stop();
                return -1;
            }
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
    }

    void stop() noexcept {
        if (pid_ <= 0) {
            return;
        }
        ::kill(pid_, SIGTERM);
        const auto deadline = Clock::now() + std::chrono::seconds(10);
        while (running() && Clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status_, 0);
            pid_ = -1;
        }
    }

private:
    pid_t pid_ = -1;
    int status_ = 0;
};

std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(fd);
        throw std::runtime_error("cannot find a free port");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

// Plain HTTP GET on 127.0.0.1; returns the body (empty on failure).
std::string http_get(std::uint16_t port, const std::string& path) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return {};
    }
    const std::string req =
        "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) < 0) {
        ::close(fd);
        return {};
    }
    std::string resp;
    char buf[8192];
    for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            break;
        }
        resp.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    const auto body = resp.find("\r\n\r\n");
    return body == std::string::npos ? std::string() : resp.substr(body + 4);
}

// ---- the output directory

// Waits (inotify on DIR) until DIR/current is a new version whose FILE contains
// `marker`. Returns the moment the swap was noticed, or nothing on timeout.
class OutputWatch {
public:
    explicit OutputWatch(std::string dir) : dir_(std::move(dir)) {
        fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (fd_ < 0 || ::inotify_add_watch(fd_, dir_.c_str(), IN_MOVED_TO | IN_CREATE) < 0) {
            throw std::runtime_error("inotify on " + dir_ + ": " + std::strerror(errno));
        }
    }
    OutputWatch(const OutputWatch&) = delete;
    OutputWatch& operator=(const OutputWatch&) = delete;
    OutputWatch(OutputWatch&&) = delete;
    OutputWatch& operator=(OutputWatch&&) = delete;
    ~OutputWatch() { ::close(fd_); }

    std::optional<Clock::time_point> wait_for(const std::string& file, const std::string& marker,
                                              std::chrono::milliseconds timeout,
                                              std::size_t times = 1) {
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            const auto noticed = Clock::now();
            std::error_code ec;
            const auto link = fs::read_symlink(dir_ + "/current", ec);
            if (!ec && link != last_) {
                const std::string text = read_file(dir_ + "/current/" + file);
                if (count_marker(text, marker, times) >= times) {
                    last_ = link;
                    return noticed;
                }
            }
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0) {
                return std::nullopt;
            }
            pollfd p{fd_, POLLIN, 0};
            ::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 100)));
            char buf[4096];
            while (::read(fd_, buf, sizeof buf) > 0) {
            }
        }
    }

private:
    // Occurrences (up to `enough`) of `marker` followed by something other than a digit
    // (weights are numbers).
    static std::size_t count_marker(const std::string& text, const std::string& marker,
                                    std::size_t enough) {
        std::size_t n = 0;
        for (auto at = text.find(marker); at != std::string::npos && n < enough;
             at = text.find(marker, at + 1)) {
            const auto end = at + marker.size();
            if (end >= text.size() || text[end] < '0' || text[end] > '9') {
                ++n;
            }
        }
        return n;
    }

    std::string dir_;
    int fd_ = -1;
    fs::path last_;
};

// ---- the workload

std::string vhost_name(int i) {
    return "vh-" + std::to_string(i);
}

// An RDS DiscoveryResponse with `vhosts` virtual hosts, each routing by
// weighted_clusters to <vh>-primary (100) and <vh>-canary (0).
std::string rds_yaml(int vhosts, const std::string& version) {
    std::string y;
    y.reserve(static_cast<std::size_t>(vhosts) * 260 + 200);
    y += "version_info: \"" + version + "\"\n";
    y += "resources:\n";
    y += "- \"@type\": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n";
    y += "  name: local_route\n";
    y += "  virtual_hosts:\n";
    for (int i = 0; i < vhosts; ++i) {
        const std::string n = vhost_name(i);
        y += "  - name: " + n + "\n";
        y += "    domains: [\"" + n + "\", \"" + n + ".bench.svc.cluster.local\"]\n";
        y += "    routes:\n";
        y += "    - match: {prefix: \"/\"}\n";
        y += "      route:\n";
        y += "        timeout: 15s\n";
        y += "        weighted_clusters:\n";
        y += "          clusters:\n";
        y += "          - name: " + n + "-primary\n";
        y += "            weight: 100\n";
        y += "          - name: " + n + "-canary\n";
        y += "            weight: 0\n";
    }
    return y;
}

std::string json_string(const std::string& s) {
    return crossover::testing::fake_apiserver_detail::json_quote(s);
}

std::string configmap_json(const std::string& ns, const std::string& rds) {
    return R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"envoy-xds","namespace":)" +
           json_string(ns) + R"(},"data":{"rds.yaml":)" + json_string(rds) + "}}";
}

std::string split_json(const std::string& ns, int i, long primary, long canary) {
    const std::string n = vhost_name(i);
    return R"({"apiVersion":"split.smi-spec.io/v1alpha2","kind":"TrafficSplit","metadata":{"name":)" +
           json_string(n) + R"(,"namespace":)" + json_string(ns) + R"(},"spec":{"service":)" +
           json_string(n) + R"(,"backends":[{"service":)" + json_string(n + "-primary") +
           R"(,"weight":)" + std::to_string(primary) + R"(},{"service":)" +
           json_string(n + "-canary") + R"(,"weight":)" + std::to_string(canary) + "}]}}";
}

std::string pipeline_yaml(const crossover::testing::FakeApiServer& api, const std::string& ns,
                          const std::string& out_dir, bool fsync) {
    std::string conn = "    apiserver: " + api.url() + "\n    ca_file: " + api.ca_file() +
                       "\n    token_file: " + api.token_file() + "\n    namespace: " + ns + "\n";
    return "sources:\n  xds:\n    type: kubernetes_configmap\n" + conn +
           "    names: [envoy-xds]\n  splits:\n    type: smi_trafficsplit\n" + conn +
           "    api_version: v1alpha2\ntransforms:\n  weighted:\n    type: smi_merge\n"
           "    inputs: [xds, splits]\nsinks:\n  envoy:\n    type: symlink\n"
           "    inputs: [weighted]\n    dir: " +
           out_dir + "\n" + (fsync ? "" : "    fsync: false\n");
}

// "wrote new output (N us after the change)" lines of the log since `offset`.
std::vector<double> own_latencies_ms(const std::string& log_path, std::size_t& offset) {
    const std::string text = read_file(log_path);
    std::vector<double> out;
    const std::string needle = "wrote new output (";
    for (auto at = text.find(needle, offset); at != std::string::npos;
         at = text.find(needle, at + 1)) {
        out.push_back(std::stod(text.substr(at + needle.size())) / 1000.0);
    }
    offset = text.size();
    return out;
}

// p99 upper bound (seconds) from crossover's change-to-write histogram.
struct HistogramSummary {
    double count = 0;
    double sum = 0;
    double p99_le = 0;
};

HistogramSummary histogram_from_metrics(const std::string& metrics) {
    HistogramSummary h;
    std::vector<std::pair<double, double>> buckets;
    std::istringstream in(metrics);
    const std::string base = "crossover_change_to_write_latency_seconds";
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(base, 0) != 0) {
            continue;
        }
        const double value = std::stod(line.substr(line.rfind(' ') + 1));
        if (line.rfind(base + "_count", 0) == 0) {
            h.count += value;
        } else if (line.rfind(base + "_sum", 0) == 0) {
            h.sum += value;
        } else if (const auto le = line.find("le=\""); le != std::string::npos) {
            const std::string bound = line.substr(le + 4, line.find('"', le + 4) - le - 4);
            buckets.emplace_back(bound == "+Inf" ? 1e9 : std::stod(bound), value);
        }
    }
    for (const auto& [le, n] : buckets) {
        if (h.count > 0 && n >= 0.99 * h.count) {
            h.p99_le = le;
            break;
        }
    }
    return h;
}

struct CaseResult {
    int vhosts = 0;
    int splits = 0;
    double rds_kib = 0;
    std::vector<double> split_e2e, split_own, cm_e2e, cm_own, all_e2e;
    int lost = 0;
    double startup_ms = 0;
    double rss_start = 0, rss_steady = 0, rss_peak = 0;
    double cpu_per_update_ms = 0;
    double idle_cpu_s = 0;
    double idle_seconds = 0;
    HistogramSummary hist;
};

struct Bench {
    Settings s;
    crossover::testing::FakeApiServer api;
    fs::path work;

    explicit Bench(Settings settings) : s(std::move(settings)) {
        char templ[] = "/tmp/crossover-bench-XXXXXX";
        if (::mkdtemp(templ) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        work = templ;
    }
    Bench(const Bench&) = delete;
    Bench& operator=(const Bench&) = delete;
    Bench(Bench&&) = delete;
    Bench& operator=(Bench&&) = delete;
    ~Bench() {
        std::error_code ec;
        fs::remove_all(work, ec);
    }

    // Sets the ConfigMap and `splits` TrafficSplits of namespace `ns`.
    void seed(const std::string& ns, int vhosts, int splits) {
        api.apply(configmap_json(ns, rds_yaml(vhosts, "0")));
        std::string all = "{\"objects\":[";
        for (int i = 0; i < splits; ++i) {
            all += (i ? "," : "") + split_json(ns, i, 100, 0);
        }
        api.apply(all + "]}");
    }

    CaseResult run_case(int vhosts, int splits) {
        CaseResult r;
        r.vhosts = vhosts;
        r.splits = splits;
        const std::string ns = "bench-v" + std::to_string(vhosts) + "-s" + std::to_string(splits);
        const fs::path dir = work / ns;
        const std::string out = dir / "out";
        fs::create_directories(out);
        r.rds_kib = static_cast<double>(rds_yaml(vhosts, "0").size()) / 1024.0;
        seed(ns, vhosts, splits);
        const std::string pipeline = dir / "pipeline.yaml";
        write_file(pipeline, pipeline_yaml(api, ns, out, s.fsync));
        const std::uint16_t port = free_port();
        const std::string log = dir / "crossover.log";
        OutputWatch watch(out);
        const auto t_start = Clock::now();
        Child cx({s.crossover, "run", pipeline, "--listen", "127.0.0.1:" + std::to_string(port)},
                 log);
        const auto first =
            watch.wait_for("rds.yaml", "version_info: \"0\"", std::chrono::seconds(120));
        if (!first) {
            throw std::runtime_error(ns + ": no first output within 120 s; see " + log);
        }
        r.startup_ms = ms_since(t_start, *first);
        std::this_thread::sleep_for(std::chrono::milliseconds(s.quick ? 200 : 1000));
        r.rss_start = sample_proc(cx.pid()).rss_mib;
        std::size_t log_offset = 0;
        (void)own_latencies_ms(log, log_offset);

        // TrafficSplit updates: one canary step each, on a different split each time.
        const auto cpu0 = sample_proc(cx.pid()).cpu_seconds;
        const int n = s.updates;
        for (int u = 0; u < n; ++u) {
            const int target = static_cast<int>((static_cast<long>(u) * 7919) % splits);
            const long canary = 1000000 + u;
            const auto t0 = Clock::now();
            api.apply(split_json(ns, target, 90, canary));
            const auto t1 = watch.wait_for("rds.yaml", "weight: " + std::to_string(canary),
                                           std::chrono::seconds(30));
            if (!t1) {
                ++r.lost;
                continue;
            }
            r.split_e2e.push_back(ms_since(t0, *t1));
            // Let the log line land, then take crossover's own measurement of this update.
            std::this_thread::sleep_for(std::chrono::milliseconds(s.quick ? 5 : 20));
            const auto own = own_latencies_ms(log, log_offset);
            if (!own.empty()) {
                r.split_own.push_back(own.back());
            }
        }
        const auto cpu1 = sample_proc(cx.pid()).cpu_seconds;
        r.cpu_per_update_ms = n > 0 ? (cpu1 - cpu0) * 1000.0 / n : 0;

        // Every TrafficSplit changes in one write (a relist, a helm upgrade): all of them are
        // merged again, the routes are not re-parsed.
        for (int rep = 0; splits > 1 && rep < 3; ++rep) {
            const long canary = 2000000 + rep;
            std::string all = "{\"objects\":[";
            for (int i = 0; i < splits; ++i) {
                all += (i ? "," : "") + split_json(ns, i, 90, canary);
            }
            all += "]}";
            const auto t0 = Clock::now();
            api.apply(all);
            const auto t1 =
                watch.wait_for("rds.yaml", "weight: " + std::to_string(canary),
                               std::chrono::seconds(60), static_cast<std::size_t>(splits));
            if (!t1) {
                ++r.lost;
                continue;
            }
            r.all_e2e.push_back(ms_since(t0, *t1));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(s.quick ? 5 : 20));
        (void)own_latencies_ms(log, log_offset);

        // ConfigMap updates: new content, so the whole pipeline recomputes.
        const int m = s.quick ? std::min(n, 3) : std::max(5, std::min(n, vhosts >= 10000 ? 20 : n));
        for (int u = 1; u <= m; ++u) {
            const std::string version = "bench-" + std::to_string(u);
            const std::string body = configmap_json(ns, rds_yaml(vhosts, version));
            const auto t0 = Clock::now();
            api.apply(body);
            const auto t1 = watch.wait_for("rds.yaml", "version_info: \"" + version + "\"",
                                           std::chrono::seconds(60));
            if (!t1) {
                ++r.lost;
                continue;
            }
            r.cm_e2e.push_back(ms_since(t0, *t1));
            std::this_thread::sleep_for(std::chrono::milliseconds(s.quick ? 5 : 20));
            const auto own = own_latencies_ms(log, log_offset);
            if (!own.empty()) {
                r.cm_own.push_back(own.back());
            }
        }

        std::this_thread::sleep_for(std::chrono::milliseconds(s.quick ? 200 : 2000));
        const auto steady = sample_proc(cx.pid());
        r.rss_steady = steady.rss_mib;
        r.rss_peak = steady.hwm_mib;
        const auto idle_len = std::chrono::duration<double>(s.idle_seconds);
        std::this_thread::sleep_for(idle_len);
        r.idle_cpu_s = sample_proc(cx.pid()).cpu_seconds - steady.cpu_seconds;
        r.idle_seconds = s.idle_seconds;
        r.hist = histogram_from_metrics(http_get(port, "/metrics"));
        if (!cx.running()) {
            throw std::runtime_error(ns + ": crossover exited during the run; see " + log);
        }
        cx.stop();
        return r;
    }

    // Wall time of `crossover run PIPELINE --onetime` (ms), one per run.
    std::vector<double> onetime(const std::string& pipeline, const std::string& out_dir,
                                const std::vector<std::string>& env) {
        std::vector<double> wall;
        for (int i = 0; i < s.onetime_runs; ++i) {
            std::error_code ec;
            fs::remove_all(out_dir, ec);
            const auto t0 = Clock::now();
            Child cx({s.crossover, "run", pipeline, "--onetime"}, (work / "onetime.log").string(),
                     env);
            const int rc = cx.wait(std::chrono::seconds(60));
            const auto t1 = Clock::now();
            if (rc != 0) {
                throw std::runtime_error("crossover --onetime " + pipeline + " exited with " +
                                         std::to_string(rc) + ": " +
                                         read_file((work / "onetime.log").string()));
            }
            wall.push_back(ms_since(t0, t1));
        }
        return wall;
    }
};

void print_row(std::ostream& out, const std::vector<std::string>& cells,
               const std::vector<int>& widths) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
        const int w = widths[i];
        std::string c = cells[i];
        if (static_cast<int>(c.size()) < w) {
            c.insert(0, static_cast<std::size_t>(w) - c.size(), ' ');
        }
        out << (i ? "  " : "") << c;
    }
    out << "\n";
}

int usage(const char* argv0) {
    std::cerr << "usage: " << argv0
              << " [--quick] [--csv FILE] [--idle SECONDS] [--updates N] [--sizes LIST]\n"
                 "       [--splits LIST] [--onetime-runs N] [--no-fsync] [--crossover PATH]\n"
                 "       [--source-dir DIR]\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    Settings s;
#ifdef CROSSOVER_BENCH_BIN
    s.crossover = CROSSOVER_BENCH_BIN;
#endif
#ifdef CROSSOVER_BENCH_SOURCE_DIR
    s.source_dir = CROSSOVER_BENCH_SOURCE_DIR;
#endif
    bool idle_given = false;
    bool updates_given = false;
    bool runs_given = false;
    bool sizes_given = false;
    bool splits_given = false;
    std::vector<std::string> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        const auto value = [&]() -> std::string {
            if (i + 1 >= args.size()) {
                throw std::invalid_argument(a + " needs a value");
            }
            return args[++i];
        };
        try {
            if (a == "--quick") {
                s.quick = true;
            } else if (a == "--csv") {
                s.csv = value();
            } else if (a == "--idle") {
                s.idle_seconds = std::stod(value());
                idle_given = true;
            } else if (a == "--updates") {
                s.updates = std::stoi(value());
                updates_given = true;
            } else if (a == "--sizes") {
                s.sizes = parse_int_list(value());
                sizes_given = true;
            } else if (a == "--splits") {
                s.splits = parse_int_list(value());
                splits_given = true;
            } else if (a == "--onetime-runs") {
                s.onetime_runs = std::stoi(value());
                runs_given = true;
            } else if (a == "--no-fsync") {
                s.fsync = false;
            } else if (a == "--crossover") {
                s.crossover = value();
            } else if (a == "--source-dir") {
                s.source_dir = value();
            } else if (a == "--help" || a == "-h") {
                usage(argv[0]);
                return 0;
            } else {
                return usage(argv[0]);
            }
        } catch (const std::exception& e) {
            std::cerr << "crossover-bench: " << e.what() << "\n";
            return usage(argv[0]);
        }
    }
    if (s.quick) {
        if (!idle_given) s.idle_seconds = 1;
        if (!updates_given) s.updates = 5;
        if (!runs_given) s.onetime_runs = 2;
        if (!sizes_given) s.sizes = {1, 100};
        if (!splits_given) s.splits = {1, 10};
    }
    if (s.crossover.empty() || s.source_dir.empty()) {
        std::cerr << "crossover-bench: give --crossover and --source-dir\n";
        return 2;
    }
    ::setenv("CROSSOVER_SOURCE_DIR", s.source_dir.c_str(), 0);

    try {
        Bench bench(s);
        std::vector<CaseResult> results;
        for (const int v : s.sizes) {
            for (const int sp : s.splits) {
                if (sp > v) {
                    continue;  // every TrafficSplit needs its own virtual host
                }
                std::cerr << "crossover-bench: " << v << " virtual hosts, " << sp
                          << " TrafficSplits..." << std::endl;
                results.push_back(bench.run_case(v, sp));
            }
        }

        // --onetime: the quick start (file source), and the 1,000-route case over TLS.
        const std::string qs_out = (bench.work / "quickstart-out").string();
        const auto qs = bench.onetime(s.source_dir + "/examples/quickstart/pipeline.yaml", qs_out,
                                      {"CROSSOVER_OUT=" + qs_out});
        const int ot_size = s.quick ? 100 : 1000;
        const std::string ot_ns = "bench-onetime-v" + std::to_string(ot_size);
        const fs::path ot_dir = bench.work / ot_ns;
        fs::create_directories(ot_dir);
        bench.seed(ot_ns, ot_size, 1);
        const std::string ot_pipeline = (ot_dir / "pipeline.yaml").string();
        write_file(ot_pipeline,
                   pipeline_yaml(bench.api, ot_ns, (ot_dir / "out").string(), s.fsync));
        const auto ot = bench.onetime(ot_pipeline, (ot_dir / "out").string(), {});

        // The table.
        std::ostream& out = std::cout;
        out << "crossover-bench: " << s.updates << " TrafficSplit updates per case"
            << (s.fsync ? "" : ", sink fsync off") << "; times in ms\n"
            << "  e2e:  API write (one TrafficSplit) -> the output file shows it\n"
            << "  own:  crossover's part of it, change published -> swap done (its log)\n"
            << "  full: own part of a ConfigMap update (routes re-parsed, every split merged,"
               " written)\n"
            << "  cm e2e: ConfigMap update end to end; all e2e: every TrafficSplit changed in"
               " one write, end to end\n\n";
        const std::vector<std::string> head = {"vhosts",   "splits",     "rds KiB",     "e2e p50",
                                               "e2e p90",  "e2e p99",    "e2e max",     "own p50",
                                               "own p90",  "own p99",    "own max",     "full p50",
                                               "full max", "cm e2e p50", "all e2e p50", "RSS MiB",
                                               "peak MiB", "CPU ms/upd", "idle CPU s",  "lost"};
        std::vector<int> widths;
        widths.reserve(head.size());
        for (const auto& h : head) {
            widths.push_back(std::max<int>(static_cast<int>(h.size()), 7));
        }
        print_row(out, head, widths);
        std::vector<std::vector<std::string>> rows;
        for (const auto& r : results) {
            rows.push_back({std::to_string(r.vhosts),
                            std::to_string(r.splits),
                            fixed(r.rds_kib, 0),
                            fixed(percentile(r.split_e2e, 50)),
                            fixed(percentile(r.split_e2e, 90)),
                            fixed(percentile(r.split_e2e, 99)),
                            fixed(percentile(r.split_e2e, 100)),
                            fixed(percentile(r.split_own, 50)),
                            fixed(percentile(r.split_own, 90)),
                            fixed(percentile(r.split_own, 99)),
                            fixed(percentile(r.split_own, 100)),
                            fixed(percentile(r.cm_own, 50)),
                            fixed(percentile(r.cm_own, 100)),
                            fixed(percentile(r.cm_e2e, 50)),
                            fixed(percentile(r.all_e2e, 50)),
                            fixed(r.rss_steady, 1),
                            fixed(r.rss_peak, 1),
                            fixed(r.cpu_per_update_ms),
                            fixed(r.idle_cpu_s, 2),
                            std::to_string(r.lost)});
            print_row(out, rows.back(), widths);
        }
        out << "\nidle CPU measured over " << fixed(s.idle_seconds, 0)
            << " s per case; startup to first output (ms):";
        for (const auto& r : results) {
            out << " " << r.vhosts << "/" << r.splits << "=" << fixed(r.startup_ms, 0);
        }
        out << "\nhistogram crossover_change_to_write_latency_seconds, p99 bucket bound (ms):";
        for (const auto& r : results) {
            out << " " << r.vhosts << "/" << r.splits << "<="
                << (r.hist.p99_le >= 1e9 ? std::string("+Inf") : fixed(r.hist.p99_le * 1000, 1))
                << " (mean " << fixed(r.hist.count > 0 ? r.hist.sum / r.hist.count * 1000 : 0)
                << ")";
        }
        out << "\n--onetime wall (ms): quickstart p50 " << fixed(percentile(qs, 50)) << " min "
            << fixed(percentile(qs, 0.0001)) << "; " << ot_size << " routes over TLS p50 "
            << fixed(percentile(ot, 50)) << " min " << fixed(percentile(ot, 0.0001)) << " ("
            << s.onetime_runs << " runs each)\n";

        if (!s.csv.empty()) {
            std::ofstream csv(s.csv);
            csv << "kind,vhosts,splits,rds_kib,updates,e2e_p50_ms,e2e_p90_ms,e2e_p99_ms,e2e_max_ms,"
                   "own_p50_ms,own_p90_ms,own_p99_ms,own_max_ms,full_p50_ms,full_max_ms,"
                   "cm_e2e_p50_ms,all_splits_e2e_p50_ms,rss_steady_mib,rss_peak_mib,cpu_ms_per_"
                   "update,idle_cpu_s,"
                   "idle_seconds,lost,startup_ms,hist_p99_le_ms\n";
            for (std::size_t i = 0; i < results.size(); ++i) {
                const auto& r = results[i];
                csv << "watch";
                for (std::size_t c = 0; c < rows[i].size() - 1; ++c) {
                    csv << "," << rows[i][c];
                    if (c == 2) {
                        csv << "," << r.split_e2e.size();
                    }
                }
                csv << "," << fixed(r.idle_seconds, 0) << "," << r.lost << ","
                    << fixed(r.startup_ms, 1) << "," << fixed(r.hist.p99_le * 1000, 2) << "\n";
            }
            const auto onetime_row = [&](const std::string& kind, int vhosts,
                                         const std::vector<double>& wall) {
                std::vector<std::string> cells(25);
                cells[0] = kind;
                if (vhosts > 0) {
                    cells[1] = std::to_string(vhosts);
                    cells[2] = "1";
                }
                cells[4] = std::to_string(wall.size());
                cells[5] = fixed(percentile(wall, 50));
                cells[8] = fixed(percentile(wall, 100));
                for (std::size_t c = 0; c < cells.size(); ++c) {
                    csv << (c ? "," : "") << cells[c];
                }
                csv << "\n";
            };
            onetime_row("onetime_quickstart", 0, qs);
            onetime_row("onetime_tls", ot_size, ot);
        }
        int lost = 0;
        for (const auto& r : results) {
            lost += r.lost;
        }
        if (lost > 0) {
            std::cerr << "crossover-bench: " << lost << " updates never reached the output\n";
            return 1;
        }
    } catch (const std::exception& e) {
        std::cerr << "crossover-bench: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
