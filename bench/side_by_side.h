// crossover-bench --compare: the same cases against several binaries, each started with
// the original Go crossover's command-line flags (the drop-in flags crossover accepts),
// so that a build can be compared with a previous release and with the original in one
// run. See docs/performance.md, "Side by side".
#pragma once

#include <string>
#include <vector>

namespace crossover::bench {

struct SideBySideSettings {
    // "[LABEL=]PATH [EXTRA-ARG...]" as given to --compare, the first is the baseline the
    // ratios are taken against.
    std::vector<std::string> binaries;
    std::vector<int> sizes = {1, 100, 1000};
    // TrafficSplits of the canary-step cases: the original pairs the n-th --trafficsplit
    // with the n-th --configmap, so it handles one per ConfigMap.
    std::vector<int> splits = {1};
    int updates = 30;
    double idle_seconds = 10;
    int onetime_runs = 5;
    // How long a binary may take to show a change (or to start, or to finish --onetime)
    // before it is reported as failed.
    double timeout_seconds = 10;
    bool quick = false;
    std::string csv;
    // One line per update: case, binary, update, end to end, crossover's own part, RSS after.
    std::string updates_csv;
    // Also print each crossover binary's steady RSS, and its library floor's, by mapping.
    bool smaps = false;
    // The library floor programs (library_floor.cpp): without and with libprotobuf, for a
    // crossover run without and with validation. Empty: no floor rows.
    std::string floor_bin;
    std::string floor_protobuf_bin;
};

// Prints one table per case to stdout (progress on stderr); returns the exit status:
// 0 when the run completed, even when a binary failed a case (that is a result), 1 when
// the bench itself could not run, 2 on a bad --compare.
int run_side_by_side(const SideBySideSettings& settings);

// The help text of the side-by-side options.
std::string side_by_side_usage();

}  // namespace crossover::bench
