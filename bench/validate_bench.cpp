// crossover-validate-bench: envoy_validate's checks of one RouteConfiguration of
// R virtual hosts (the document of the test timing_1000_route_rds), in process,
// the validator linked in: a full check of a new document, a canary step (every
// weight rewritten: re-checked from the numbers alone) and one virtual host
// changed (re-read on its own). Prints min / median / max per case.
//
//   crossover-validate-bench [--routes R] [--runs N] [--protos DIR] [--once]
//
// It also prints the heap each case holds at its peak over what the validator
// held before it (operator new's bytes: the protobuf arena's blocks, the
// document tree, the findings kept), for the full check and for a change of
// `version_info` alone (a ConfigMap update of the bench's document).
//
// --once runs one full check inside `measured_full_check`, after a warm-up,
// for an instruction count of that check alone:
//   valgrind --tool=callgrind --toggle-collect='*measured_full_check*'
//       crossover-validate-bench --once   (one command line)
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <new>
#include <string>
#include <vector>

#include "envoy_validator.h"

using crossover::envoy_validate::Validator;
using crossover::envoy_validate::ValidatorOptions;
using Clock = std::chrono::steady_clock;

// Heap bytes taken through operator new while `counting` (the bytes freed
// then, taken before or not, count off), and the most held since counting
// started. Off, the timed cases pay one branch per allocation.
namespace heap {
bool counting = false;
long long live = 0;
long long peak = 0;
void* take(std::size_t n) {
    void* p = std::malloc(n == 0 ? 1 : n);
    if (p == nullptr) {
        throw std::bad_alloc();
    }
    if (counting) {
        live += static_cast<long long>(malloc_usable_size(p));
        peak = std::max(peak, live);
    }
    return p;
}
void give(void* p) noexcept {
    if (p != nullptr && counting) {
        live -= static_cast<long long>(malloc_usable_size(p));
    }
    std::free(p);
}
}  // namespace heap

void* operator new(std::size_t n) {
    return heap::take(n);
}
void* operator new[](std::size_t n) {
    return heap::take(n);
}
void operator delete(void* p) noexcept {
    heap::give(p);
}
void operator delete[](void* p) noexcept {
    heap::give(p);
}
void operator delete(void* p, std::size_t) noexcept {
    heap::give(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    heap::give(p);
}
// The nothrow forms too (std::stable_sort's buffer): a sanitizer's own would otherwise
// take what the delete above gives back to malloc.
void* operator new(std::size_t n, const std::nothrow_t& /*tag*/) noexcept {
    try {
        return heap::take(n);
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, const std::nothrow_t& tag) noexcept {
    return operator new(n, tag);
}
void operator delete(void* p, const std::nothrow_t& /*tag*/) noexcept {
    heap::give(p);
}
void operator delete[](void* p, const std::nothrow_t& /*tag*/) noexcept {
    heap::give(p);
}

namespace {

struct BenchArgs {
    int routes = 1000;
    int runs = 30;
    std::string protos = CROSSOVER_VALIDATE_BENCH_PROTOS;
    bool once = false;
};

bool parse_args(int argc, char** argv, BenchArgs& args) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--routes" && i + 1 < argc) {
            args.routes = std::max(1, std::atoi(argv[++i]));
        } else if (a == "--runs" && i + 1 < argc) {
            args.runs = std::max(1, std::atoi(argv[++i]));
        } else if (a == "--protos" && i + 1 < argc) {
            args.protos = argv[++i];
        } else if (a == "--once") {
            args.once = true;
        } else {
            return false;
        }
    }
    return true;
}

// The RDS of the test timing_1000_route_rds, with `routes` virtual hosts, each
// weighted `primary`/100 - `primary` and named under `route_name`.
std::string make_rds(int routes, int primary, const std::string& route_name,
                     const std::string& version = "1") {
    std::string rds = "version_info: \"" + version +
                      "\"\nresources:\n"
                      "- \"@type\": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n"
                      "  name: " +
                      route_name + "\n  virtual_hosts:\n";
    const std::string w = std::to_string(primary);
    const std::string c = std::to_string(100 - primary);
    for (int i = 0; i < routes; ++i) {
        const std::string n = std::to_string(i);
        rds += "  - name: app" + n + "\n    domains: [\"app" + n + "\", \"app" + n +
               ".test.svc.cluster.local\"]\n    routes:\n    - match: {prefix: \"/\"}\n" +
               "      route:\n        timeout: 15s\n        weighted_clusters:\n" +
               "          clusters:\n          - {name: app" + n + "-primary, weight: " + w +
               "}\n          - {name: app" + n + "-canary, weight: " + c + "}\n";
    }
    return rds;
}

// One check; exits when the document is refused (the bench's documents are valid).
void check(Validator& v, const std::string& name, const std::string& text) {
    const std::vector<std::string> errors = v.validate({{&name, &text, ""}});
    if (!errors.empty()) {
        std::fprintf(stderr, "the document was refused: %s\n", errors.front().c_str());
        std::exit(1);
    }
}

__attribute__((noinline)) void measured_full_check(Validator& v, const std::string& name,
                                                   const std::string& text) {
    check(v, name, text);
}

// Runs `step(i)` `runs` times and prints min / median / max in ms.
void time_case(const char* label, int runs, const std::function<void(int)>& step) {
    std::vector<double> ms;
    for (int i = 0; i < runs; ++i) {
        const auto t0 = Clock::now();
        step(i);
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("%-44s min %8.2f  median %8.2f  max %8.2f ms\n", label, ms.front(),
                ms[ms.size() / 2], ms.back());
}

}  // namespace

int main(int argc, char** argv) {
    BenchArgs args;
    if (!parse_args(argc, argv, args)) {
        std::fprintf(stderr,
                     "usage: crossover-validate-bench [--routes R] [--runs N] [--protos DIR] "
                     "[--once]\n");
        return 2;
    }
    if (!crossover::envoy_validate::protos_present(args.protos)) {
        std::printf("SKIPPED: Envoy protos absent from %s\n", args.protos.c_str());
        return 0;
    }
    ValidatorOptions options;
    options.proto_path = args.protos;
    Validator v(options);
    // Warm-up on another document: the descriptors and rule plans are built
    // once per process, not per check.
    check(v, "warm.yaml", make_rds(args.routes, 90, "warm_route"));
    const std::string rds = make_rds(args.routes, 90, "local_route");
    if (args.once) {
        measured_full_check(v, "rds.yaml", rds);
        std::printf("one full check of %d virtual hosts (%zu KiB)\n", args.routes,
                    rds.size() / 1024);
        return 0;
    }
    std::printf("%d virtual hosts in one RouteConfiguration (%zu KiB), %d runs per case\n",
                args.routes, rds.size() / 1024, args.runs);
    // A new document name each time: nothing of an earlier check is reused.
    time_case("full check of a new document", args.runs,
              [&](int i) { check(v, "new-" + std::to_string(i) + ".yaml", rds); });
    // Every weight rewritten, alternating, as canary steps do.
    const std::string a = make_rds(args.routes, 85, "local_route");
    const std::string b = make_rds(args.routes, 80, "local_route");
    check(v, "steps.yaml", rds);
    time_case("every weight changed (a canary step)", args.runs,
              [&](int i) { check(v, "steps.yaml", i % 2 == 0 ? a : b); });
    // One virtual host's domain changed, alternating.
    const std::string marker = "\"app0.test.svc.cluster.local\"";
    std::string one = rds;
    one.replace(one.find(marker), marker.size(), "\"app0.other.svc.cluster.local\"");
    check(v, "host.yaml", rds);
    time_case("one virtual host changed", args.runs,
              [&](int i) { check(v, "host.yaml", i % 2 == 0 ? one : rds); });
    // The heap at the peak of one check over what was held before it.
    const auto peak_of = [&](const char* label, const std::string& name, const std::string& text) {
        const std::size_t full = v.full_checks();
        heap::live = 0;
        heap::peak = 0;
        heap::counting = true;
        check(v, name, text);
        heap::counting = false;
        std::printf("%-44s peak +%7.1f KiB  kept %+7.1f KiB%s\n", label,
                    static_cast<double>(heap::peak) / 1024.0,
                    static_cast<double>(heap::live) / 1024.0,
                    v.full_checks() > full ? "  (read in full)" : "");
    };
    std::printf("heap (operator new), the document %zu KiB:\n", rds.size() / 1024);
    peak_of("full check of a new document", "heap.yaml", rds);
    check(v, "cm.yaml", make_rds(args.routes, 90, "local_route", "v0"));
    peak_of("version_info changed (a ConfigMap update)", "cm.yaml",
            make_rds(args.routes, 90, "local_route", "v1"));
    return 0;
}
