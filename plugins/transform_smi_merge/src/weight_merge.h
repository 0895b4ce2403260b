// The merge engine shared by smi_merge (TrafficSplits) and httproute_merge
// (HTTPRoutes): sets weights of Envoy weighted_clusters in the RDS documents
// of a snapshot by editing their text in place.
//
// A transform turns its objects into WeightTargets (which virtual hosts and
// routes, which clusters, which weights); the engine finds them through the
// cached RdsIndex of each document, checks them and splices the numbers in.
// Errors name the target, the document, the RouteConfiguration, the virtual
// host and the route.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "crossover/sdk.h"
#include "rds_index.h"

namespace crossover::smi_merge {

enum class Match { Name, Domain };

struct WeightBackend {
    std::string label;    // what the object names ("podinfo-canary"), for messages
    std::string cluster;  // the Envoy cluster it stands for
    std::uint32_t weight = 0;
};

// One set of weights: a TrafficSplit, or one rule of an HTTPRoute.
struct WeightTarget {
    std::string describe;  // "TrafficSplit test/podinfo", "HTTPRoute test/web: spec.rules[1]"
    Match match = Match::Name;
    std::vector<std::string> keys;  // virtual host names (Name) or domains (Domain)
    std::string wanted;             // "no virtual host named 'x'", for the error
    // Only routes whose match is one of these ("prefix /api"); empty: every route.
    std::vector<std::string> route_matches;
    std::vector<WeightBackend> backends;
    std::string root_cluster;  // a plain `cluster:` route naming it may be promoted
    bool promote = false;
    // No matching virtual host: left out (see WeightMerger::unmatched) instead of an error.
    bool skip_unmatched = false;
    // Why it is left out, for the message.
    std::string skip_reason = "unmatched: skip";

    [[nodiscard]] std::uint64_t total_weight() const;
};

// A RouteConfiguration match ("prefix /", "path /x", "safe_regex ^/a.*") as the
// index records it (RouteEntry::match).
std::string route_match_text(const std::string& kind, const std::string& value);

// A target to apply again: its position in the last apply's targets, and what it is now.
struct ChangedTarget {
    std::size_t index = 0;
    const WeightTarget* target = nullptr;
};

class WeightMerger {
public:
    WeightMerger();
    ~WeightMerger();
    WeightMerger(const WeightMerger&) = delete;
    WeightMerger& operator=(const WeightMerger&) = delete;
    WeightMerger(WeightMerger&&) noexcept;
    WeightMerger& operator=(WeightMerger&&) noexcept;

    // Applies `targets` to `out`'s documents; changed documents are replaced by
    // new ones, the others keep their pointers. Throws crossover::Error.
    void apply(Snapshot& out, const std::vector<WeightTarget>& targets);

    // A canary step: applies only `changed` (in ascending index order, each
    // replacing the target at that index of the last successful apply, under the
    // same `describe`) and keeps every other target's edits, so that its cost
    // follows the change, not the number of targets. `out` must hold the very
    // documents of the last apply. The result, changes() and unmatched() are
    // what apply() would give for the whole new list of targets (a document that
    // starts or stops differing from its input reports every target's lines on
    // it, or none, as apply() does). Returns false, having changed nothing that
    // apply() depends on, when that cannot be assured (other documents, an
    // error, a conflict): the caller then calls apply(). Never throws
    // crossover::Error.
    bool reapply(Snapshot& out, const std::vector<ChangedTarget>& changed);

    // Targets applied so far, by apply() and reapply(): a canary step applies one.
    [[nodiscard]] std::size_t applied_count() const { return applied_count_; }
    // Successful reapply() calls so far.
    [[nodiscard]] std::size_t reapply_count() const { return reapply_count_; }

    [[nodiscard]] std::size_t parse_count() const { return parse_count_; }
    [[nodiscard]] std::size_t cache_size() const { return by_content_.size(); }
    // What the last apply changed that the applies before had not reported, one
    // line per target and document however many routes it covers: "TrafficSplit
    // test/podinfo: rds.yaml: podinfo-canary=5 podinfo-primary=95 on 1 route
    // (local_route/podinfo routes[0] (line 11))". A repeat that changes nothing
    // reports nothing.
    [[nodiscard]] const std::vector<std::string>& changes() const { return changes_; }
    // Targets with skip_unmatched that matched no virtual host in the last apply:
    // (describe, message).
    [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& unmatched() const {
        return unmatched_;
    }

private:
    // The document's index, or null when it cannot hold a RouteConfiguration.
    RdsIndexPtr index_for(const DocumentPtr& document);

    std::size_t parse_count_ = 0;
    std::size_t applied_count_ = 0;
    std::size_t reapply_count_ = 0;
    // What the last successful apply (or reapply) did, target by target.
    struct Memo;
    std::unique_ptr<Memo> memo_;
    std::vector<std::string> changes_;
    std::vector<std::pair<std::string, std::string>> unmatched_;
    // The change lines reported, by (target, document).
    std::map<std::pair<std::string, std::string>, std::string> reported_;
    struct PtrEntry {
        std::weak_ptr<const Document> document;
        RdsIndexPtr index;  // null: the document cannot hold routes
        std::size_t hash = 0;
    };
    // Last run's documents by address (no hashing when a document is reused),
    // then by content hash (a source that re-creates an unchanged document).
    std::map<const Document*, PtrEntry> by_ptr_;
    std::unordered_multimap<std::size_t, RdsIndexPtr> by_content_;
    std::map<const Document*, PtrEntry> next_by_ptr_;
    std::unordered_multimap<std::size_t, RdsIndexPtr> next_by_content_;
};

}  // namespace crossover::smi_merge
