// The smi_merge transform: TrafficSplit weights into Envoy RouteConfigurations.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "crossover/name_pattern.h"
#include "crossover/sdk.h"
#include "crossover_smi/trafficsplit.h"
#include "weight_merge.h"

namespace crossover::smi_merge {

// A cluster-name pattern such as "{{service}}.{{namespace}}".
class ClusterPattern {
public:
    // Throws crossover::Error("<reason>") for unknown or unclosed placeholders.
    ClusterPattern() : ClusterPattern("{{service}}") {}
    explicit ClusterPattern(const std::string& pattern)
        : pattern_(pattern, {"service", "backend", "namespace", "root", "name"}) {}
    // The cluster name for `service` (a backend's or the root service) of `ts`.
    [[nodiscard]] std::string render(const std::string& service, const smi::TrafficSplit& ts,
                                     bool dot_to_underscore) const;

private:
    NamePattern pattern_;
};

// What a TrafficSplit that matches no virtual host does.
enum class Unmatched {
    Error,  // nothing is written
    Skip,   // warned once per object version and left out
    Auto,   // Error for a split the user named, Skip for one selected by namespace or label
};

struct Options {
    Match match = Match::Name;
    ClusterPattern cluster_name;
    bool dot_to_underscore = false;
    bool promote = false;
    Unmatched unmatched = Unmatched::Auto;
};

// The options as the pipeline file gives them (the plugin's option table).
struct SmiMergeOptions {
    std::string match = "name";
    std::string cluster_name = "{{service}}";
    bool dot_to_underscore = false;
    bool promote = false;
    std::string unmatched = "auto";
};

extern const OptionTable<SmiMergeOptions> kSmiMergeOptions;

// The merge's options from the decoded table.
Options to_options(const SmiMergeOptions& given);

// Something the user should hear about once per object version (a TrafficSplit
// left out), not on every run.
struct Note {
    LogLevel level = LogLevel::Warn;
    std::string text;
};

// Reads and checks the options (throws crossover::Error naming the option).
Options read_options(const ComponentConfig& config);

// The merge itself, with the caches that make canary steps cheap: a step that
// changes some TrafficSplits (the others passed on as the same objects, the
// documents as the same documents) re-applies only those onto the previous
// output; anything else (a split added or removed, new routes) merges all.
class Merger {
public:
    explicit Merger(Options options) : options_(std::move(options)) {}

    // Throws crossover::Error when a TrafficSplit cannot be applied.
    SnapshotPtr run(const std::vector<Input>& inputs);

    // For tests: TrafficSplits applied so far (a canary step applies the changed ones),
    // and how many runs merged everything or re-applied only what changed.
    [[nodiscard]] std::size_t applied_count() const { return engine_.applied_count(); }
    [[nodiscard]] std::size_t full_merge_count() const { return full_merge_count_; }
    [[nodiscard]] std::size_t reapply_count() const { return engine_.reapply_count(); }

    // For tests and logs: how many documents were parsed so far, and how many
    // indexes are cached now.
    [[nodiscard]] std::size_t parse_count() const { return engine_.parse_count(); }
    // TrafficSplit objects parsed so far (an object seen in the last run is not parsed again).
    [[nodiscard]] std::size_t split_parse_count() const { return split_parse_count_; }
    [[nodiscard]] std::size_t cache_size() const { return engine_.cache_size(); }
    // What the last successful run changed that earlier runs had not reported
    // (see WeightMerger::changes).
    [[nodiscard]] const std::vector<std::string>& changes() const { return engine_.changes(); }
    // TrafficSplits the last successful run left out (spec.matches; no virtual host
    // with unmatched: skip) and not reported before for this resourceVersion.
    [[nodiscard]] const std::vector<Note>& notes() const { return notes_; }
    // TrafficSplits the last run left out (reported or not).
    [[nodiscard]] std::size_t skipped() const { return skipped_; }

private:
    // Re-applies the TrafficSplits that changed since the last run; false when it
    // cannot (then nothing was changed and merge_all runs).
    bool reapply_changed(Snapshot& out);
    void merge_all(Snapshot& out);
    // The split of object `o`, parsed once per object.
    std::shared_ptr<const smi::TrafficSplit> parsed(const ObjectPtr& o);
    [[nodiscard]] WeightTarget target_for(const smi::TrafficSplit& ts, bool named) const;

    Options options_;
    WeightMerger engine_;
    std::size_t split_parse_count_ = 0;
    std::size_t full_merge_count_ = 0;
    // The last successful run's objects and, for each, its index in the engine's
    // targets (kNotSplit, kLeftOut: none).
    static constexpr std::size_t kNotSplit = static_cast<std::size_t>(-1);
    static constexpr std::size_t kLeftOut = static_cast<std::size_t>(-2);
    // Held weakly: the sources own their objects, and an object dropped there is freed
    // there, not in the next run's merge.
    struct LastObject {
        std::weak_ptr<const Object> object;
        const Object* address = nullptr;
        std::shared_ptr<const smi::TrafficSplit> split;  // parsed, when a TrafficSplit
        std::size_t target = kNotSplit;
    };
    bool last_valid_ = false;
    std::vector<LastObject> last_;
    std::vector<Note> notes_;
    std::size_t skipped_ = 0;
    // Notes reported, by TrafficSplit: "resourceVersion\nmessage".
    std::map<std::string, std::string> reported_;
    // Last run's TrafficSplits, parsed, by object address.
    struct SplitEntry {
        std::weak_ptr<const Object> object;
        std::shared_ptr<const smi::TrafficSplit> split;
    };
    std::map<const Object*, SplitEntry> parsed_splits_;
};

class SmiMergeTransform : public Transform {
public:
    SmiMergeTransform(const ComponentConfig& config, const SmiMergeOptions& options)
        : config_(config), merger_(to_options(options)) {}
    Status transform(const std::vector<Input>& inputs, SnapshotPtr& output) noexcept override;

private:
    ComponentConfig config_;
    Merger merger_;
};

}  // namespace crossover::smi_merge
