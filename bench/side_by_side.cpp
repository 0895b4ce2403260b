#include "side_by_side.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_process.h"
#include "bench_workload.h"
#include "fake_apiserver.h"

namespace crossover::bench {

namespace {

using std::chrono::milliseconds;

// A figure of one binary in one case: measured, failed (the binary did not produce the
// output within the bound, or exited), or not measured (crossover's own part of a
// change for a binary that does not log it).
struct Cell {
    enum class Kind { Missing, Failed, Value };
    Kind kind = Kind::Missing;
    double value = 0;
    static Cell of(double v) { return {Kind::Value, v}; }
    static Cell failed() { return {Kind::Failed, 0}; }
};

struct Figures {
    std::map<std::string, Cell> cells;
    std::string result = "ok";  // or why it failed
    std::string floor_result;   // why the library floor was not measured, when it failed
    MemoryMap steady_map;       // at the steady sample (ok: taken)
    MemoryMap floor_map;        // the library floor's, sampled the same way
    std::vector<UpdateLine> updates;
};

// The rows of a watching case's memory: crossover's steady RSS, its split, the library floor
// (library_floor.cpp) and what is left to crossover.
constexpr const char* kSteady = "RSS steady MiB";
constexpr const char* kSteadyAnon = "RSS steady: anonymous MiB";
constexpr const char* kSteadyFile = "RSS steady: file pages MiB";
constexpr const char* kFloor = "library floor MiB";
constexpr const char* kFloorAnon = "library floor: anonymous MiB";
constexpr const char* kFloorFile = "library floor: file pages MiB";
constexpr const char* kOwn = "crossover's own (RSS - floor) MiB";

struct Binary {
    std::string label;
    std::string tag;  // the label in lower case, for namespace names
    std::string path;
    std::vector<std::string> extra;  // given after the original's flags
    bool is_crossover = false;       // answers --version as crossover: also gets --listen
    std::string version;
    std::string validation;
};

std::vector<std::string> split_words(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string w; in >> w;) {
        out.push_back(w);
    }
    return out;
}

// Runs argv to its exit within `timeout`; returns its exit status (-1 on a signal or the
// timeout) and its output (stdout and stderr together).
std::pair<int, std::string> run_to_exit(const std::vector<std::string>& argv,
                                        const std::string& log, milliseconds timeout) {
    Child child(argv, log);
    const int rc = child.wait(timeout);
    return {rc, read_file(log)};
}

std::string first_line(const std::string& text) {
    return text.substr(0, text.find('\n'));
}

// The last lines of a log, to say why a binary failed.
std::string log_tail(const std::string& path, std::size_t lines) {
    std::string text = read_file(path);
    std::size_t at = text.size();
    for (std::size_t n = 0; n <= lines; ++n) {
        if (at == 0 || (at = text.rfind('\n', at - 1)) == std::string::npos) {
            return text;
        }
    }
    return text.substr(at + 1);
}

std::string log_tail_or_empty(const std::string& path) {
    const std::string tail = log_tail(path, 5);
    return tail.empty() ? "(nothing)\n" : tail;
}

// OutputWatch::wait_for that gives up as soon as the child has exited.
std::optional<Clock::time_point> wait_output(OutputWatch& watch, Child& child,
                                             const std::string& marker, milliseconds bound) {
    const auto deadline = Clock::now() + bound;
    for (;;) {
        const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
        auto seen = watch.wait_for("rds.yaml", marker,
                                   std::clamp(left, milliseconds(0), milliseconds(250)));
        if (seen || left.count() <= 0 || !child.running()) {
            return seen;
        }
    }
}

class SideBySide {
public:
    explicit SideBySide(SideBySideSettings s) : s_(std::move(s)) {
        char templ[] = "/tmp/crossover-bench-sbs-XXXXXX";
        if (::mkdtemp(templ) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        work_ = templ;
        timeout_ = milliseconds(static_cast<long>(s_.timeout_seconds * 1000));
    }
    SideBySide(const SideBySide&) = delete;
    SideBySide& operator=(const SideBySide&) = delete;
    SideBySide(SideBySide&&) = delete;
    SideBySide& operator=(SideBySide&&) = delete;
    ~SideBySide() {
        std::error_code ec;
        fs::remove_all(work_, ec);
    }

    void add_binary(const std::string& spec) {
        Binary b;
        auto words = split_words(spec);
        if (words.empty()) {
            throw std::invalid_argument("--compare needs a path");
        }
        b.path = words.front();
        const auto eq = b.path.find('=');
        if (eq != std::string::npos && b.path.find('/') > eq) {
            b.label = b.path.substr(0, eq);
            b.path = b.path.substr(eq + 1);
        } else {
            b.label = std::string(1, static_cast<char>('A' + binaries_.size()));
        }
        b.extra.assign(words.begin() + 1, words.end());
        if (b.label.empty()) {
            throw std::invalid_argument("--compare " + spec + ": an empty label");
        }
        // Each binary's objects live in namespaces named after its label (DNS labels).
        for (const char c : b.label) {
            const auto u = static_cast<unsigned char>(c);
            b.tag += std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '-';
        }
        for (const auto& other : binaries_) {
            if (other.tag == b.tag) {
                throw std::invalid_argument("--compare " + spec + ": label " + b.label +
                                            " is taken by " + other.path);
            }
        }
        if (::access(b.path.c_str(), X_OK) != 0) {
            throw std::invalid_argument("--compare " + spec + ": " + b.path +
                                        " is not an executable file");
        }
        const auto [rc, out] = run_to_exit({b.path, "--version"}, (work_ / "version.log").string(),
                                           milliseconds(10000));
        b.is_crossover = rc == 0 && out.rfind("crossover ", 0) == 0;
        b.version = b.is_crossover ? first_line(out) : "not crossover: only the original's flags";
        binaries_.push_back(std::move(b));
    }

    void run() {
        for (auto& b : binaries_) {
            b.validation = validation_of(b);
        }
        print_legend();
        for (const int v : s_.sizes) {
            run_case("ConfigMap updates", v, 0);
            for (const int sp : s_.splits) {
                if (sp <= v) {  // every TrafficSplit needs its own virtual host
                    run_case("canary steps", v, sp);
                }
            }
        }
        run_onetime();
    }

private:
    // The original's flags (only flags the Go crossover has), for namespace `ns`: a
    // ConfigMap, and when `splits` > 0 that many TrafficSplits merged into it.
    std::vector<std::string> legacy_args(const Binary& b, const std::string& ns,
                                         const std::string& out, int splits, bool onetime,
                                         std::uint16_t port) const {
        std::vector<std::string> argv = {
            b.path,        "--apiserver", api_.url(), "--token-file", api_.token_file(),
            "--insecure",  "--namespace", ns,         "--output-dir", out,
            "--configmap", "envoy-xds"};
        for (int i = 0; i < splits; ++i) {
            argv.insert(argv.end(), {"--trafficsplit", vhost_name(i)});
        }
        argv.emplace_back(onetime ? "--onetime" : "--watch");
        if (b.is_crossover && !onetime) {
            // crossover serves /metrics on 0.0.0.0:9090 by default: loopback, a free port.
            argv.insert(argv.end(), {"--listen", "127.0.0.1:" + std::to_string(port)});
        }
        argv.insert(argv.end(), b.extra.begin(), b.extra.end());
        return argv;
    }

    // Whether crossover's pipeline for the original's flags holds envoy_validate
    // (--print-pipeline shows it); the original has no validation.
    std::string validation_of(const Binary& b) {
        if (!b.is_crossover) {
            return "none (not crossover)";
        }
        auto argv = legacy_args(b, "validation", (work_ / "unused").string(), 1, false, 0);
        argv.emplace_back("--print-pipeline");
        const auto [rc, out] =
            run_to_exit(argv, (work_ / "print-pipeline.log").string(), milliseconds(10000));
        if (rc != 0) {
            return "unknown (--print-pipeline exited with " + std::to_string(rc) + ")";
        }
        return out.find("type: envoy_validate") != std::string::npos
                   ? "on (envoy_validate in its pipeline)"
                   : "off";
    }

    void print_legend() const {
        std::ostream& out = std::cout;
        out << "crossover-bench side by side: " << s_.updates
            << " updates per case, each binary started with the original's flags:\n"
               "  --apiserver URL --token-file FILE --insecure --namespace NS --output-dir DIR"
               " --configmap envoy-xds [--trafficsplit vh-0] --watch (or --onetime)\n"
               "  crossover binaries also get --listen 127.0.0.1:PORT; then each binary's own"
               " extra arguments\n";
        for (const auto& b : binaries_) {
            out << "  " << b.label << ": " << b.path;
            for (const auto& e : b.extra) {
                out << " " << e;
            }
            out << "\n     " << b.version << "; validation: " << b.validation << "\n";
        }
        if (!s_.floor_bin.empty()) {
            out << "Library floor ('library floor' and 'crossover's own' rows): " << s_.floor_bin
                << " next to a crossover without validation,\n  "
                << (s_.floor_protobuf_bin.empty() ? std::string("none") : s_.floor_protobuf_bin)
                << " (also libprotobuf) next to one with it: no crossover code, the\n"
                   "  libraries crossover's Kubernetes process maps, one HTTPS GET of the case's"
                   " ConfigMap with OpenSSL,\n  read with Poco JSON and yaml-cpp, one"
                   " prometheus-cpp counter, then idle. The floor is a LOWER BOUND of the\n"
                   "  libraries' share (crossover runs more of each library's code), so"
                   " 'crossover's own' is an upper bound.\n";
        }
        out << "A change not in the output within " << fixed(s_.timeout_seconds, 0)
            << " s (or an exit) is reported as failed. X/" << binaries_.front().label
            << " columns: X's figure divided by " << binaries_.front().label
            << "'s (below 1: X took less). Times in ms.\n";
    }

    // Puts the ConfigMap (RDS of `vhosts` virtual hosts, version "bench-0") and `splits`
    // TrafficSplits into namespace `ns`.
    void seed(const std::string& ns, int vhosts, int splits) {
        api_.apply(configmap_json(ns, rds_yaml(vhosts, "bench-0")));
        if (splits > 0) {
            std::string all = "{\"objects\":[";
            for (int i = 0; i < splits; ++i) {
                all += (i ? "," : "") + split_json(ns, i, 100, 0);
            }
            api_.apply(all + "]}");
        }
    }

    // One binary watching: its first output, `updates` changes (ConfigMap updates when
    // splits is 0, else canary steps), then steady memory and idle CPU.
    Figures watch_case(const Binary& b, int vhosts, int splits) {
        Figures f;
        const std::string ns = case_namespace(b);
        const fs::path dir = work_ / ns;
        const std::string out = (dir / "out").string();
        fs::create_directories(out);
        seed(ns, vhosts, splits);
        const std::string log = (dir / "log").string();
        OutputWatch watch(out);
        const auto t_start = Clock::now();
        Child cx(legacy_args(b, ns, out, splits, false, free_port()), log);
        const auto fail = [&](const std::string& why) {
            f.result = "failed: " + why;
            std::cerr << "crossover-bench: " << b.label << " " << f.result << "; its log ends:\n"
                      << log_tail_or_empty(log) << std::flush;
        };
        const auto first = wait_output(watch, cx, "bench-0", std::max(timeout_, kStartBound));
        if (!first) {
            fail(cx.running() ? "no first output" : "exited before its first output");
            for (const char* m :
                 {"first output", "e2e p50", "e2e p90", "e2e max", "CPU ms/update",
                  "RSS steady MiB", "RSS peak MiB", "RSS peak, updates MiB", "idle CPU ms/s"}) {
                f.cells[m] = Cell::failed();
            }
            return f;
        }
        f.cells["first output"] = Cell::of(ms_since(t_start, *first));
        std::this_thread::sleep_for(milliseconds(s_.quick ? 200 : 1000));
        std::size_t log_offset = 0;
        (void)own_latencies_ms(log, log_offset);

        std::vector<double> e2e;
        std::vector<double> own;
        const auto cpu0 = sample_proc(cx.pid()).cpu_seconds;
        // The peak while the updates are applied (issue 12: a recompute's peak over the
        // steady RSS), apart from the peak of the start ("RSS peak MiB").
        const double start_peak = sample_proc(cx.pid()).hwm_mib;
        const bool peak_reset = reset_peak_rss(cx.pid());
        for (int u = 1; u <= s_.updates; ++u) {
            std::string marker;
            std::string body;
            if (splits == 0) {
                marker = "bench-" + std::to_string(u);
                body = configmap_json(ns, rds_yaml(vhosts, marker));
            } else {
                const int target = static_cast<int>((static_cast<long>(u) * 7919) % splits);
                const long canary = 1000000 + u;
                marker = "weight: " + std::to_string(canary);
                body = split_json(ns, target, 90, canary);
            }
            const auto t0 = Clock::now();
            api_.apply(body);
            const auto t1 = wait_output(watch, cx, marker, timeout_);
            UpdateLine line{u, {}, {}, {}};
            if (!t1) {
                fail("update " + std::to_string(u) + " of " + std::to_string(s_.updates) +
                     (cx.running() ? " not in the output" : ": it exited"));
                f.updates.push_back(line);
                break;
            }
            e2e.push_back(ms_since(t0, *t1));
            line.e2e_ms = e2e.back();
            std::this_thread::sleep_for(milliseconds(s_.quick ? 5 : 20));
            line.own_ms =
                wait_own_latency_ms(log, log_offset, milliseconds(b.is_crossover ? 250 : 0));
            if (line.own_ms) {
                own.push_back(*line.own_ms);
            }
            line.rss_mib = sample_proc(cx.pid()).rss_mib;
            f.updates.push_back(line);
        }
        const bool updates_ok = f.result == "ok";
        const auto after_updates = sample_proc(cx.pid());
        const auto cpu1 = after_updates.cpu_seconds;
        f.cells["RSS peak, updates MiB"] =
            updates_ok && peak_reset ? Cell::of(after_updates.hwm_mib) : Cell::failed();
        const auto put = [&](const char* name, const std::vector<double>& v, double p) {
            f.cells[name] = updates_ok ? Cell::of(percentile(v, p)) : Cell::failed();
        };
        put("e2e p50", e2e, 50);
        put("e2e p90", e2e, 90);
        put("e2e max", e2e, 100);
        if (!own.empty() && updates_ok) {
            f.cells["own p50 (its log)"] = Cell::of(percentile(own, 50));
        }
        f.cells["CPU ms/update"] =
            updates_ok ? Cell::of((cpu1 - cpu0) * 1000.0 / s_.updates) : Cell::failed();

        std::this_thread::sleep_for(milliseconds(s_.quick ? 200 : 2000));
        const auto gone = [&](const std::string& why) {
            fail(why);
            for (const char* m : {kSteady, "RSS peak MiB", "idle CPU ms/s"}) {
                f.cells[m] = Cell::failed();
            }
            return f;
        };
        if (!cx.running()) {
            return gone("exited");
        }
        const auto steady = sample_proc(cx.pid());
        f.cells[kSteady] = Cell::of(steady.rss_mib);
        f.steady_map = read_memory_map(cx.pid());
        if (f.steady_map.ok) {
            f.cells[kSteadyAnon] = Cell::of(f.steady_map.anon_mib);
            f.cells[kSteadyFile] = Cell::of(f.steady_map.file_mib);
        }
        f.cells["RSS peak MiB"] = Cell::of(std::max(start_peak, steady.hwm_mib));
        std::this_thread::sleep_for(std::chrono::duration<double>(s_.idle_seconds));
        const double idle_cpu = sample_proc(cx.pid()).cpu_seconds - steady.cpu_seconds;
        if (!cx.running()) {
            return gone("exited while idle");
        }
        f.cells["idle CPU ms/s"] = Cell::of(idle_cpu * 1000.0 / s_.idle_seconds);
        return f;
    }

    void run_case(const std::string& what, int vhosts, int splits) {
        ++case_number_;
        const double kib = static_cast<double>(rds_yaml(vhosts, "bench-0").size()) / 1024.0;
        std::ostringstream title;
        title << what << ", " << vhosts << " virtual host" << (vhosts == 1 ? "" : "s") << " ("
              << fixed(kib, kib < 10 ? 1 : 0) << " KiB RDS)";
        if (splits > 0) {
            title << ", " << splits << " TrafficSplit" << (splits == 1 ? "" : "s");
        }
        std::cerr << "crossover-bench: " << title.str() << "..." << std::endl;
        std::vector<Figures> figures;
        figures.reserve(binaries_.size());
        for (const auto& b : binaries_) {
            figures.push_back(watch_case(b, vhosts, splits));
            measure_floor(b, figures.back());
        }
        std::vector<std::string> notes;
        const bool original = std::any_of(binaries_.begin(), binaries_.end(),
                                          [](const Binary& b) { return !b.is_crossover; });
        // Each watch event carries the whole object; the original reads the stream with
        // Go's bufio.Scanner, whose lines are limited to 64 KiB.
        if (original && kib > 60) {
            notes.emplace_back(
                "the Go original's watch cannot read events > 64 KiB: it is expected to fail "
                "here");
        }
        if (original && splits > 1) {
            notes.emplace_back(
                "the Go original pairs the n-th --trafficsplit with the n-th --configmap: it "
                "refuses more TrafficSplits than ConfigMaps");
        }
        print_table(title.str(),
                    {"first output", "e2e p50", "e2e p90", "e2e max", "own p50 (its log)",
                     "CPU ms/update", kSteady, kSteadyAnon, kSteadyFile, kFloor, kFloorAnon,
                     kFloorFile, kOwn, "RSS peak MiB", "RSS peak, updates MiB", "idle CPU ms/s"},
                    figures, notes, vhosts, splits);
        for (std::size_t i = 0; i < figures.size(); ++i) {
            if (!figures[i].floor_result.empty()) {
                std::cout << "   " << binaries_[i].label << "'s library floor "
                          << figures[i].floor_result << "\n";
            }
        }
        if (s_.smaps) {
            print_memory_table(title.str(), figures, vhosts, splits);
        }
        if (!s_.updates_csv.empty()) {
            write_updates_csv(title.str(), figures, vhosts, splits);
        }
    }

    // The namespace and directory of binary b in the current watching case.
    [[nodiscard]] std::string case_namespace(const Binary& b) const {
        return "sbs-" + std::to_string(case_number_) + "-" + b.tag;
    }

    // The floor program for binary b: with libprotobuf when b validates.
    [[nodiscard]] const std::string& floor_program(const Binary& b) const {
        return b.validation.rfind("on", 0) == 0 ? s_.floor_protobuf_bin : s_.floor_bin;
    }

    // The library floor next to a crossover binary's case (f): the floor program for its
    // validation state, against the same API server and ConfigMap, sampled as crossover was
    // (its RSS and smaps, the same settling time after it is ready).
    void measure_floor(const Binary& b, Figures& f) {
        const auto steady = f.cells.find(kSteady);
        const std::string& program = floor_program(b);
        if (!b.is_crossover || program.empty() || steady == f.cells.end() ||
            steady->second.kind != Cell::Kind::Value) {
            return;
        }
        const std::string ns = case_namespace(b);
        const std::string log = (work_ / ns / "floor.log").string();
        Child floor({program, "--apiserver", api_.url(), "--token-file", api_.token_file(),
                     "--namespace", ns, "--configmap", "envoy-xds"},
                    log);
        const auto deadline = Clock::now() + timeout_;
        bool ready = false;
        while (!ready && floor.running() && Clock::now() < deadline) {
            std::this_thread::sleep_for(milliseconds(10));
            ready = read_file(log).find("floor ready") != std::string::npos;
        }
        if (ready) {
            std::this_thread::sleep_for(milliseconds(s_.quick ? 200 : 2000));
            f.floor_map = read_memory_map(floor.pid());
        }
        if (!ready || !floor.running() || !f.floor_map.ok) {
            f.floor_result = "failed: " + program + (ready ? " exited" : " never got ready");
            std::cerr << "crossover-bench: " << b.label << "'s library floor " << f.floor_result
                      << "; its log ends:\n"
                      << log_tail_or_empty(log) << std::flush;
            for (const char* m : {kFloor, kFloorAnon, kFloorFile, kOwn}) {
                f.cells[m] = Cell::failed();
            }
            return;
        }
        f.cells[kFloor] = Cell::of(f.floor_map.rss_mib);
        f.cells[kFloorAnon] = Cell::of(f.floor_map.anon_mib);
        f.cells[kFloorFile] = Cell::of(f.floor_map.file_mib);
        f.cells[kOwn] = Cell::of(steady->second.value - f.floor_map.rss_mib);
    }

    // --smaps: each crossover binary's steady RSS and its floor's by mapping, in MiB: each
    // library's file pages, the program's own code, written pages, heap, other anonymous.
    void print_memory_table(const std::string& title, const std::vector<Figures>& figures,
                            int vhosts, int splits) {
        std::vector<std::string> head = {"mapping"};
        struct Column {
            std::string label;
            std::string path;
            const MemoryMap* map;
        };
        std::vector<Column> columns;
        for (std::size_t i = 0; i < figures.size(); ++i) {
            const auto& b = binaries_[i];
            if (figures[i].steady_map.ok) {
                columns.push_back({b.label, b.path, &figures[i].steady_map});
            }
            if (figures[i].floor_map.ok) {
                columns.push_back({b.label + " floor", floor_program(b), &figures[i].floor_map});
            }
        }
        if (columns.empty()) {
            return;
        }
        // The libraries first, the largest first; then the program, written pages, heap, the
        // rest of the anonymous memory.
        const std::vector<std::string> tail = {MemoryMap::kOwnCode, MemoryMap::kWrittenData,
                                               MemoryMap::kHeap, MemoryMap::kOtherAnon};
        std::map<std::string, double> largest;
        for (const auto& column : columns) {
            for (const auto& [group, mib] : column.map->groups) {
                if (std::find(tail.begin(), tail.end(), group) == tail.end()) {
                    largest[group] = std::max(largest[group], mib);
                }
            }
        }
        std::vector<std::string> groups;
        groups.reserve(largest.size() + tail.size());
        for (const auto& [group, mib] : largest) {
            groups.push_back(group);
        }
        std::stable_sort(groups.begin(), groups.end(),
                         [&](const auto& x, const auto& y) { return largest[x] > largest[y]; });
        groups.insert(groups.end(), tail.begin(), tail.end());
        std::vector<std::vector<std::string>> rows;
        for (const auto& g : groups) {
            rows.push_back({g});
            for (const auto& column : columns) {
                const auto it = column.map->groups.find(g);
                rows.back().push_back(fixed(it == column.map->groups.end() ? 0.0 : it->second));
            }
        }
        rows.push_back({"total (VmRSS)"});
        for (const auto& column : columns) {
            rows.back().push_back(fixed(column.map->rss_mib));
            head.push_back(column.label);
        }
        std::cout << "\n== memory by mapping, MiB: " << title << "\n"
                  << "   note: steady RSS, each mapping's Rss from /proc/PID/smaps; a floor is a"
                     " lower bound of the libraries' share\n";
        print_left_aligned(std::cout, head, rows);
        if (!s_.csv.empty()) {
            std::ofstream csv(s_.csv, std::ios::app);
            for (const auto& row : rows) {
                for (std::size_t c = 1; c < row.size(); ++c) {
                    csv << '"' << title << "\"," << vhosts << "," << splits
                        << ",\"smaps: " << row[0] << " MiB\"," << columns[c - 1].label << ","
                        << columns[c - 1].path << "," << row[c] << "\n";
                }
            }
        }
    }

    // --updates-csv: one line per update of each binary in this case.
    void write_updates_csv(const std::string& title, const std::vector<Figures>& figures,
                           int vhosts, int splits) {
        std::ofstream csv(s_.updates_csv, updates_csv_started_ ? std::ios::app : std::ios::trunc);
        if (!updates_csv_started_) {
            csv << kUpdatesCsvHeader;
            updates_csv_started_ = true;
        }
        for (std::size_t i = 0; i < figures.size(); ++i) {
            write_update_lines(csv, title, vhosts, splits, binaries_[i].label, figures[i].updates);
        }
    }

    // --onetime wall time, from fork to exit, at the smallest and the largest size.
    void run_onetime() {
        std::vector<int> sizes = {*std::min_element(s_.sizes.begin(), s_.sizes.end()),
                                  *std::max_element(s_.sizes.begin(), s_.sizes.end())};
        sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
        std::vector<Figures> figures(binaries_.size());
        std::vector<std::string> rows;
        bool big = false;
        for (const int v : sizes) {
            const std::string ns = "sbs-onetime-v" + std::to_string(v);
            seed(ns, v, 0);
            big = big || static_cast<double>(rds_yaml(v, "bench-0").size()) > 60 * 1024.0;
            const std::string vh = std::to_string(v) + (v == 1 ? " vhost" : " vhosts");
            const std::string p50 = "wall p50, " + vh;
            const std::string min = "wall min, " + vh;
            rows.insert(rows.end(), {p50, min});
            std::cerr << "crossover-bench: --onetime, " << vh << "..." << std::endl;
            // Run by run, each binary in turn: a change of load while the runs go on then
            // falls on every binary alike, not on whichever one's block of runs it met.
            std::vector<std::vector<double>> wall(binaries_.size());
            std::vector<bool> failed(binaries_.size(), false);
            for (int r = 0; r < s_.onetime_runs; ++r) {
                for (std::size_t i = 0; i < binaries_.size(); ++i) {
                    if (failed[i]) {
                        continue;
                    }
                    const auto& b = binaries_[i];
                    const std::string out = (work_ / ("onetime-" + b.tag)).string();
                    const std::string log = (work_ / ("onetime-" + b.tag + ".log")).string();
                    std::error_code ec;
                    fs::remove_all(out, ec);
                    const auto t0 = Clock::now();
                    Child cx(legacy_args(b, ns, out, 0, true, 0), log);
                    const int rc = cx.wait(timeout_);
                    const auto t1 = Clock::now();
                    if (rc != 0 ||
                        read_file(out + "/current/rds.yaml").find("bench-0") == std::string::npos) {
                        figures[i].result = "failed: --onetime at " + vh + " exited with " +
                                            std::to_string(rc) + " or wrote no output";
                        std::cerr << "crossover-bench: " << b.label << " " << figures[i].result
                                  << "; its log ends:\n"
                                  << log_tail_or_empty(log) << std::flush;
                        failed[i] = true;
                        wall[i].clear();
                        continue;
                    }
                    wall[i].push_back(ms_since(t0, t1));
                }
            }
            for (std::size_t i = 0; i < binaries_.size(); ++i) {
                figures[i].cells[p50] =
                    wall[i].empty() ? Cell::failed() : Cell::of(percentile(wall[i], 50));
                figures[i].cells[min] =
                    wall[i].empty() ? Cell::failed() : Cell::of(percentile(wall[i], 0.0001));
            }
        }
        std::vector<std::string> notes = {
            std::to_string(s_.onetime_runs) +
            " runs each, the binaries in turn run by run, ConfigMap only, fork to exit"};
        print_table("--onetime", rows, figures, notes, 0, 0);
    }

    static std::string cell_text(const Cell& c) {
        switch (c.kind) {
            case Cell::Kind::Missing: return "-";
            case Cell::Kind::Failed: return "failed";
            case Cell::Kind::Value: return fixed(c.value, c.value >= 100 ? 1 : 2);
        }
        return "";
    }

    static std::string ratio_text(const Cell& mine, const Cell& base) {
        if (mine.kind != Cell::Kind::Value || base.kind != Cell::Kind::Value || base.value <= 0) {
            return "-";
        }
        return fixed(mine.value / base.value, 2);
    }

    void print_table(const std::string& title, const std::vector<std::string>& metrics,
                     const std::vector<Figures>& figures, const std::vector<std::string>& notes,
                     int vhosts, int splits) {
        std::ostream& out = std::cout;
        out << "\n== " << title << "\n";
        for (const auto& n : notes) {
            out << "   note: " << n << "\n";
        }
        std::vector<std::string> head = {"metric"};
        for (const auto& b : binaries_) {
            head.push_back(b.label);
        }
        for (std::size_t i = 1; i < binaries_.size(); ++i) {
            head.push_back(binaries_[i].label + "/" + binaries_.front().label);
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& m : metrics) {
            std::vector<std::string> row = {m};
            for (const auto& f : figures) {
                const auto it = f.cells.find(m);
                row.push_back(cell_text(it == f.cells.end() ? Cell{} : it->second));
            }
            const auto base_it = figures.front().cells.find(m);
            const Cell base = base_it == figures.front().cells.end() ? Cell{} : base_it->second;
            for (std::size_t i = 1; i < figures.size(); ++i) {
                const auto it = figures[i].cells.find(m);
                row.push_back(ratio_text(it == figures[i].cells.end() ? Cell{} : it->second, base));
            }
            rows.push_back(std::move(row));
        }
        print_left_aligned(out, head, rows);
        for (std::size_t i = 0; i < figures.size(); ++i) {
            if (figures[i].result != "ok") {
                out << "   " << binaries_[i].label << " " << figures[i].result << "\n";
            }
        }
        if (!s_.csv.empty()) {
            write_csv(title, metrics, figures, vhosts, splits);
        }
    }

    void write_csv(const std::string& title, const std::vector<std::string>& metrics,
                   const std::vector<Figures>& figures, int vhosts, int splits) {
        std::ofstream csv(s_.csv, csv_started_ ? std::ios::app : std::ios::trunc);
        if (!csv_started_) {
            csv << "case,vhosts,splits,metric,binary,path,value\n";
            csv_started_ = true;
        }
        for (const auto& m : metrics) {
            for (std::size_t i = 0; i < figures.size(); ++i) {
                const auto it = figures[i].cells.find(m);
                csv << '"' << title << "\"," << vhosts << "," << splits << ",\"" << m << "\","
                    << binaries_[i].label << "," << binaries_[i].path << ","
                    << cell_text(it == figures[i].cells.end() ? Cell{} : it->second) << "\n";
            }
        }
    }

    // A table whose first column (the names) is left-aligned, the figures right-aligned.
    static void print_left_aligned(std::ostream& out, const std::vector<std::string>& head,
                                   const std::vector<std::vector<std::string>>& rows) {
        std::vector<int> widths(head.size(), 0);
        for (std::size_t c = 0; c < head.size(); ++c) {
            widths[c] = static_cast<int>(head[c].size());
        }
        for (const auto& r : rows) {
            for (std::size_t c = 0; c < r.size(); ++c) {
                widths[c] = std::max(widths[c], static_cast<int>(r[c].size()));
            }
        }
        const auto left = [&](std::vector<std::string> r) {
            r[0].resize(static_cast<std::size_t>(widths[0]), ' ');
            return r;
        };
        print_row(out, left(head), widths);
        for (const auto& r : rows) {
            print_row(out, left(r), widths);
        }
    }

    static constexpr milliseconds kStartBound{30000};

    SideBySideSettings s_;
    crossover::testing::FakeApiServer api_;
    fs::path work_;
    milliseconds timeout_{10000};
    std::vector<Binary> binaries_;
    int case_number_ = 0;
    bool csv_started_ = false;
    bool updates_csv_started_ = false;
};

}  // namespace

std::string side_by_side_usage() {
    return "Side by side (docs/performance.md): the same cases against each binary, started\n"
           "with the original Go crossover's flags; one table per case with each binary's\n"
           "figures and their ratios to the first:\n"
           "  --compare '[LABEL=]PATH [ARG...]'  a binary to run (repeat; the first is the\n"
           "                          baseline; ARGs follow the original's flags, e.g.\n"
           "                          '--no-validate'); labels default to A, B, C...\n"
           "  --timeout SECONDS       a change not in the output by then is 'failed' (10)\n"
           "  --updates-csv FILE      one line per update: case, binary, update, e2e ms,\n"
           "                          crossover's own ms (its log), RSS MiB after it\n"
           "  --smaps                 also each crossover's steady RSS and its library floor's\n"
           "                          by mapping: libraries, its own code, heap, the rest\n"
           "  --floor PATH, --floor-protobuf PATH  the library floor programs (built beside\n"
           "                          the bench; the -protobuf one for a validating crossover):\n"
           "                          a LOWER BOUND of the libraries' share of the RSS\n"
           "  with --compare, --sizes defaults to 1,100,1000, --splits to 1, --updates to 30,\n"
           "  --idle to 10, --onetime-runs to 5; --quick: 1,100, 5 updates, 1 s idle, 2 runs\n";
}

int run_side_by_side(const SideBySideSettings& settings) {
    std::unique_ptr<SideBySide> bench;
    try {
        bench = std::make_unique<SideBySide>(settings);
        for (const auto& spec : settings.binaries) {
            bench->add_binary(spec);
        }
    } catch (const std::invalid_argument& e) {
        std::cerr << "crossover-bench: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "crossover-bench: " << e.what() << "\n";
        return 1;
    }
    try {
        bench->run();
    } catch (const std::exception& e) {
        std::cerr << "crossover-bench: " << e.what() << "\n";
        return 1;
    }
    return 0;
}

}  // namespace crossover::bench
