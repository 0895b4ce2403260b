// crossover-bench: runs the real crossover binary against the test Kubernetes API
// server (TLS) and prints change-to-output latency, crossover's own part of it,
// full recompute time, memory, CPU and --onetime wall time. See docs/performance.md.
//
//   crossover-bench [--quick] [--csv FILE] [--idle SECONDS] [--updates N]
//                   [--sizes 1,100,1000,10000] [--splits 1,1000] [--onetime-runs N]
//                   [--no-fsync] [--crossover PATH] [--source-dir DIR] [--bursts N]
//                   [--updates-csv FILE]
//   crossover-bench --compare '[LABEL=]PATH [ARG...]' [--compare ...] [--timeout SECONDS]
//                   [--updates-csv FILE] [--smaps] [--floor PATH] [--floor-protobuf PATH] ...
//
// --compare runs the same cases against each binary given, started with the original's
// command-line flags, and prints each binary's figures side by side (side_by_side.h).
// --no-fsync sets the symlink sink's `fsync: false` (what a tmpfs output uses), to
// separate the disk's flush time from crossover's own work.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_process.h"
#include "bench_workload.h"
#include "fake_apiserver.h"
#include "side_by_side.h"

using namespace crossover::bench;  // NOLINT(google-build-using-namespace): the bench's own kit

namespace {

struct Settings {
    bool quick = false;
    std::string csv;
    double idle_seconds = 60;
    int updates = 50;
    int onetime_runs = 10;
    int bursts = 3;  // writes that change every TrafficSplit ("all e2e")
    std::vector<int> sizes = {1, 100, 1000, 10000};
    std::vector<int> splits = {1, 1000};
    bool fsync = true;
    std::string crossover;
    std::string source_dir;
    SideBySideSettings side_by_side;  // used when --compare is given
};

// ---- the workload

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
    // Each update, for --updates-csv: canary steps, every TrafficSplit in one write, ConfigMap
    // updates.
    std::vector<UpdateLine> split_lines, all_lines, cm_lines;
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
            r.split_lines.push_back(after_update(cx, u + 1, t0, t1, log, log_offset));
            if (!t1) {
                ++r.lost;
                continue;
            }
            r.split_e2e.push_back(*r.split_lines.back().e2e_ms);
            if (const auto own = r.split_lines.back().own_ms) {
                r.split_own.push_back(*own);
            }
        }
        const auto cpu1 = sample_proc(cx.pid()).cpu_seconds;
        r.cpu_per_update_ms = n > 0 ? (cpu1 - cpu0) * 1000.0 / n : 0;

        // Every TrafficSplit changes in one write (a relist, a helm upgrade): all of them are
        // merged again, the routes are not re-parsed.
        for (int rep = 0; splits > 1 && rep < s.bursts; ++rep) {
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
            r.all_lines.push_back(after_update(cx, rep + 1, t0, t1, log, log_offset));
            if (!t1) {
                ++r.lost;
                continue;
            }
            r.all_e2e.push_back(*r.all_lines.back().e2e_ms);
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
            r.cm_lines.push_back(after_update(cx, u, t0, t1, log, log_offset));
            if (!t1) {
                ++r.lost;
                continue;
            }
            r.cm_e2e.push_back(*r.cm_lines.back().e2e_ms);
            if (const auto own = r.cm_lines.back().own_ms) {
                r.cm_own.push_back(*own);
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

    // An update written at t0 and seen in the output at t1 (never, when empty): its end to end
    // time, crossover's own part (its log line, let land and waited for a little) and the RSS
    // right after.
    UpdateLine after_update(Child& cx, int index, Clock::time_point t0,
                            const std::optional<Clock::time_point>& t1, const std::string& log,
                            std::size_t& log_offset) const {
        UpdateLine line{index, {}, {}, {}};
        if (t1) {
            line.e2e_ms = ms_since(t0, *t1);
            std::this_thread::sleep_for(std::chrono::milliseconds(s.quick ? 5 : 20));
            line.own_ms = wait_own_latency_ms(log, log_offset, std::chrono::milliseconds(250));
        }
        line.rss_mib = sample_proc(cx.pid()).rss_mib;
        return line;
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

int usage(const char* argv0, std::ostream& out = std::cerr) {
    out << "usage: " << argv0
        << " [--quick] [--csv FILE] [--idle SECONDS] [--updates N] [--sizes LIST]\n"
           "       [--splits LIST] [--onetime-runs N] [--no-fsync] [--crossover PATH]\n"
           "       [--source-dir DIR] [--bursts N] [--updates-csv FILE]\n"
           "       "
        << argv0
        << " --compare '[LABEL=]PATH [ARG...]' [--compare ...] [--timeout S]\n"
           "       [--quick] [--csv FILE] [--idle SECONDS] [--updates N] [--sizes LIST]\n"
           "       [--splits LIST] [--onetime-runs N] [--updates-csv FILE] [--smaps]\n"
           "       [--floor PATH] [--floor-protobuf PATH]\n\n"
        << side_by_side_usage();
    return 2;
}

}  // namespace

namespace {

// Which options were given on the command line (their defaults depend on the mode).
struct Given {
    bool idle = false;
    bool updates = false;
    bool runs = false;
    bool sizes = false;
    bool splits = false;
};

// Reads the command line into `s`. Returns an exit code when the program ends
// there (--help, a bad option), nullopt to run.
std::optional<int> read_args(int argc, char** argv, Settings& s, Given& given) {
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
                given.idle = true;
            } else if (a == "--updates") {
                s.updates = std::stoi(value());
                given.updates = true;
            } else if (a == "--sizes") {
                s.sizes = parse_int_list(value());
                given.sizes = true;
            } else if (a == "--splits") {
                s.splits = parse_int_list(value());
                given.splits = true;
            } else if (a == "--onetime-runs") {
                s.onetime_runs = std::stoi(value());
                given.runs = true;
            } else if (a == "--bursts") {
                s.bursts = std::stoi(value());
            } else if (a == "--no-fsync") {
                s.fsync = false;
            } else if (a == "--crossover") {
                s.crossover = value();
            } else if (a == "--source-dir") {
                s.source_dir = value();
            } else if (a == "--compare") {
                s.side_by_side.binaries.push_back(value());
            } else if (a == "--timeout") {
                s.side_by_side.timeout_seconds = std::stod(value());
            } else if (a == "--updates-csv") {
                s.side_by_side.updates_csv = value();
            } else if (a == "--smaps") {
                s.side_by_side.smaps = true;
            } else if (a == "--floor") {
                s.side_by_side.floor_bin = value();
            } else if (a == "--floor-protobuf") {
                s.side_by_side.floor_protobuf_bin = value();
            } else if (a == "--help" || a == "-h") {
                usage(argv[0], std::cout);
                return 0;
            } else {
                return usage(argv[0]);
            }
        } catch (const std::exception& e) {
            std::cerr << "crossover-bench: " << e.what() << "\n";
            return usage(argv[0]);
        }
    }
    return std::nullopt;
}

// --compare: the side-by-side cases (side_by_side.cpp) with this mode's defaults.
int run_compare(Settings& s, const Given& given) {
    if (!s.fsync) {
        std::cerr << "crossover-bench: --no-fsync is not a flag of the original; it does not"
                     " go with --compare\n";
        return 2;
    }
    SideBySideSettings& c = s.side_by_side;
    c.quick = s.quick;
    c.csv = s.csv;
    if (s.quick) {
        c.sizes = {1, 100};
        c.updates = 5;
        c.idle_seconds = 1;
        c.onetime_runs = 2;
    }
    if (given.sizes) c.sizes = s.sizes;
    if (given.splits) c.splits = s.splits;
    if (given.updates) c.updates = s.updates;
    if (given.idle) c.idle_seconds = s.idle_seconds;
    if (given.runs) c.onetime_runs = s.onetime_runs;
    if (c.sizes.empty() || c.updates < 1 || c.timeout_seconds <= 0) {
        std::cerr << "crossover-bench: --sizes, --updates and --timeout need positive values\n";
        return 2;
    }
    if (!s.source_dir.empty()) {
        ::setenv("CROSSOVER_SOURCE_DIR", s.source_dir.c_str(), 0);
    }
    return run_side_by_side(c);
}

// --quick: small cases, for the smoke test.
void apply_quick_defaults(Settings& s, const Given& given) {
    if (!given.idle) s.idle_seconds = 1;
    if (!given.updates) s.updates = 5;
    if (!given.runs) s.onetime_runs = 2;
    if (!given.sizes) s.sizes = {1, 100};
    if (!given.splits) s.splits = {1, 10};
}

// --onetime wall times: the quick start (file source), and the 1,000-route case over TLS.
struct OnetimeResults {
    std::vector<double> quickstart;
    std::vector<double> tls;
    int tls_size = 0;
};

OnetimeResults run_onetime_cases(Bench& bench, const Settings& s) {
    OnetimeResults r;
    const std::string qs_out = (bench.work / "quickstart-out").string();
    r.quickstart = bench.onetime(s.source_dir + "/examples/quickstart/pipeline.yaml", qs_out,
                                 {"CROSSOVER_OUT=" + qs_out});
    r.tls_size = s.quick ? 100 : 1000;
    const std::string ot_ns = "bench-onetime-v" + std::to_string(r.tls_size);
    const fs::path ot_dir = bench.work / ot_ns;
    fs::create_directories(ot_dir);
    bench.seed(ot_ns, r.tls_size, 1);
    const std::string ot_pipeline = (ot_dir / "pipeline.yaml").string();
    write_file(ot_pipeline, pipeline_yaml(bench.api, ot_ns, (ot_dir / "out").string(), s.fsync));
    r.tls = bench.onetime(ot_pipeline, (ot_dir / "out").string(), {});

    return r;
}

// Prints the results' table and notes; returns the table's rows (for the CSV).
std::vector<std::vector<std::string>> print_table(std::ostream& out,
                                                  const std::vector<CaseResult>& results,
                                                  const Settings& s, const OnetimeResults& ot) {
    out << "crossover-bench: " << s.updates << " TrafficSplit updates per case"
        << (s.fsync ? "" : ", sink fsync off") << "; times in ms\n"
        << "  e2e:  API write (one TrafficSplit) -> the output file shows it\n"
        << "  own:  crossover's part of it, change published -> swap done (its log)\n"
        << "  full: own part of a ConfigMap update (routes re-parsed, every split merged,"
           " written)\n"
        << "  cm e2e: ConfigMap update end to end; all e2e: every TrafficSplit changed in"
           " one write, end to end\n\n";
    const std::vector<std::string> head = {
        "vhosts",      "splits",  "rds KiB",  "e2e p50",    "e2e p90",    "e2e p99",  "e2e max",
        "own p50",     "own p90", "own p99",  "own max",    "full p50",   "full max", "cm e2e p50",
        "all e2e p50", "RSS MiB", "peak MiB", "CPU ms/upd", "idle CPU s", "lost"};
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
        out << " " << r.vhosts << "/" << r.splits
            << "<=" << (r.hist.p99_le >= 1e9 ? std::string("+Inf") : fixed(r.hist.p99_le * 1000, 1))
            << " (mean " << fixed(r.hist.count > 0 ? r.hist.sum / r.hist.count * 1000 : 0) << ")";
    }
    out << "\n--onetime wall (ms): quickstart p50 " << fixed(percentile(ot.quickstart, 50))
        << " min " << fixed(percentile(ot.quickstart, 0.0001)) << "; " << ot.tls_size
        << " routes over TLS p50 " << fixed(percentile(ot.tls, 50)) << " min "
        << fixed(percentile(ot.tls, 0.0001)) << " (" << s.onetime_runs << " runs each)\n";

    return rows;
}

// --updates-csv FILE: each update of a case, its kind in the case column (started anew with
// the first case).
void write_updates_csv(const std::string& path, const CaseResult& r, bool first) {
    std::ofstream csv(path, first ? std::ios::trunc : std::ios::app);
    if (first) {
        csv << kUpdatesCsvHeader;
    }
    write_update_lines(csv, "canary steps", r.vhosts, r.splits, "crossover", r.split_lines);
    write_update_lines(csv, "every TrafficSplit in one write", r.vhosts, r.splits, "crossover",
                       r.all_lines);
    write_update_lines(csv, "ConfigMap updates", r.vhosts, r.splits, "crossover", r.cm_lines);
}

// --csv FILE: the rows of the table, then the --onetime runs.
void write_csv(const std::string& path, const std::vector<CaseResult>& results,
               const std::vector<std::vector<std::string>>& rows, const OnetimeResults& ot) {
    std::ofstream csv(path);
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
        csv << "," << fixed(r.idle_seconds, 0) << "," << r.lost << "," << fixed(r.startup_ms, 1)
            << "," << fixed(r.hist.p99_le * 1000, 2) << "\n";
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
    onetime_row("onetime_quickstart", 0, ot.quickstart);
    onetime_row("onetime_tls", ot.tls_size, ot.tls);
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
#ifdef CROSSOVER_BENCH_FLOOR_BIN
    s.side_by_side.floor_bin = CROSSOVER_BENCH_FLOOR_BIN;
#endif
#ifdef CROSSOVER_BENCH_FLOOR_PROTOBUF_BIN
    s.side_by_side.floor_protobuf_bin = CROSSOVER_BENCH_FLOOR_PROTOBUF_BIN;
#endif
    Given given;
    if (auto exit = read_args(argc, argv, s, given)) {
        return *exit;
    }
    if (!s.side_by_side.binaries.empty()) {
        return run_compare(s, given);
    }
    if (s.side_by_side.smaps) {
        std::cerr << "crossover-bench: --smaps goes with --compare\n";
        return 2;
    }
    if (s.quick) {
        apply_quick_defaults(s, given);
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
                if (!s.side_by_side.updates_csv.empty()) {
                    write_updates_csv(s.side_by_side.updates_csv, results.back(),
                                      results.size() == 1);
                }
            }
        }
        const OnetimeResults ot = run_onetime_cases(bench, s);
        const auto rows = print_table(std::cout, results, s, ot);
        if (!s.csv.empty()) {
            write_csv(s.csv, results, rows, ot);
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
