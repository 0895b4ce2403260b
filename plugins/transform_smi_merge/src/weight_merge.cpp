#include "weight_merge.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "crossover/json.h"
#include "edit_set.h"

namespace crossover::smi_merge {
namespace {

constexpr std::uint64_t kMaxWeight = std::numeric_limits<std::uint32_t>::max();

bool parse_u64(const std::string& text, std::uint64_t& out) {
    if (text.empty() || text.size() > 19) {
        return false;
    }
    out = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            return false;
        }
        out = out * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return true;
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) {
        out += out.empty() ? "" : ", ";
        out += i;
    }
    return out;
}

std::string describe_document(const Document& d) {
    std::string out = "document " + d.name;
    if (!d.origin.kind.empty()) {
        out += " (" + d.origin.describe() + ")";
    }
    return out;
}

std::string describe_route(const RouteEntry& r) {
    std::string out = "routes[" + std::to_string(r.index) + "]";
    if (!r.name.empty()) {
        out += " '" + r.name + "'";
    }
    out += " (line " + std::to_string(r.line) + ")";
    return out;
}

// The virtual hosts of `index` a target applies to, in document order.
std::vector<VirtualHostPos> matching_vhosts(const RdsIndex& index, const WeightTarget& t) {
    const auto& table = t.match == Match::Name ? index.by_name : index.by_domain;
    std::vector<VirtualHostPos> out;
    for (const auto& key : t.keys) {
        table.find(key, out);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::string key_text(const std::string& key, bool json) {
    return json ? json::quoted(key) : key;
}

// A route one target changed, for the log.
struct RouteChange {
    std::size_t document = 0;
    std::string target;  // "TrafficSplit ns/name"
    std::string what;    // "a=5 b=95" or "promoted to weighted_clusters"
    std::string route;   // "local_route/podinfo routes[0] (line 11)"
};

// One line per target, document and kind of change, naming the first routes of the
// changed documents: "TrafficSplit test/podinfo: rds.yaml: a=5 b=95 on 1000 routes
// (r/vh routes[0] (line 11), ... and 997 more)". Keyed by (target, document).
std::map<std::pair<std::string, std::string>, std::vector<std::string>> summarize(
    const std::vector<RouteChange>& changes, const std::vector<DocumentPtr>& documents,
    const std::vector<bool>& changed) {
    constexpr std::size_t kNamed = 3;
    struct Group {
        std::size_t count = 0;
        std::vector<std::string> routes;
    };
    std::map<std::tuple<std::string, std::string, std::string>, Group> groups;
    for (const auto& c : changes) {
        if (!changed[c.document]) {
            continue;
        }
        Group& g = groups[{c.target, documents[c.document]->name, c.what}];
        ++g.count;
        if (g.routes.size() < kNamed) {
            g.routes.push_back(c.route);
        }
    }
    std::map<std::pair<std::string, std::string>, std::vector<std::string>> out;
    for (const auto& [key, g] : groups) {
        const auto& [target, document, what] = key;
        std::string line = target + ": " + document + ": " + what + " on " +
                           std::to_string(g.count) + (g.count == 1 ? " route (" : " routes (") +
                           join(g.routes);
        if (g.count > g.routes.size()) {
            line += " and " + std::to_string(g.count - g.routes.size()) + " more";
        }
        out[{target, document}].push_back(line + ")");
    }
    return out;
}

// A route: (document, RouteConfiguration, virtual host, route) indexes.
using ClaimKey = std::tuple<std::size_t, std::size_t, std::size_t, std::size_t>;

// The describe() of a target outside the pass that holds a route, or null.
using ClaimedElsewhere = std::function<const std::string*(const ClaimKey&)>;

// What one target did in a pass, kept so that a canary step can take it back.
struct TargetResult {
    std::string describe;
    std::vector<std::pair<std::size_t, TextEdit>> edits;  // (document, edit)
    std::vector<ClaimKey> claims;
    std::vector<RouteChange> changes;
    std::optional<std::string> unmatched;  // it matched nothing and was left out
};

// Where a route sits: its document, RouteConfiguration, virtual host and the
// text of its messages' prefix.
struct RoutePlace {
    std::size_t di = 0;
    std::size_t ri = 0;
    std::size_t vi = 0;
    const RouteConfigEntry* rc = nullptr;
    const VirtualHostEntry* vh = nullptr;
    std::string where;  // "TrafficSplit x: rds.yaml: RouteConfiguration r: virtual host v"
};

// One apply: the targets' edits of the documents' texts and the changes they
// make, collected target by target, then written.
class MergePass {
public:
    // `elsewhere` names the routes targets outside this pass hold (a canary step
    // applies the changed targets only).
    MergePass(const Snapshot& snapshot, const std::vector<RdsIndexPtr>& indexes,
              ClaimedElsewhere elsewhere = {})
        : snapshot_(snapshot),
          indexes_(indexes),
          edits_(snapshot.documents.size()),
          elsewhere_(std::move(elsewhere)) {}

    std::vector<RouteChange> changes;

    // What each target applied so far did, in order.
    std::vector<TargetResult> take_results() { return std::move(results_); }

    // Applies `t` to every virtual host it matches. Returns the message when
    // it matches none and may be left out (skip_unmatched); throws Error when
    // it matches none otherwise, or cannot be applied.
    std::optional<std::string> apply_target(const WeightTarget& t) {
        results_.push_back(TargetResult{t.describe, {}, {}, {}, std::nullopt});
        std::vector<std::string> names;
        for (const auto& b : t.backends) {
            names.push_back(b.cluster);
        }
        std::size_t matched = 0;
        std::vector<std::string> unparsable;
        for (std::size_t di = 0; di < snapshot_.documents.size(); ++di) {
            if (!indexes_[di]) {
                continue;
            }
            const RdsIndex& index = *indexes_[di];
            const Document& doc = *snapshot_.documents[di];
            if (!index.parse_error.empty()) {
                unparsable.push_back(doc.name);
                continue;
            }
            for (const VirtualHostPos& pos : matching_vhosts(index, t)) {
                ++matched;
                RoutePlace place;
                place.di = di;
                place.ri = pos.first;
                place.vi = pos.second;
                place.rc = &index.route_configs[pos.first];
                place.vh = &place.rc->virtual_hosts[pos.second];
                place.where =
                    t.describe + ": " + describe_document(doc) + ": RouteConfiguration " +
                    (place.rc->name.empty() ? "resources[" + std::to_string(place.rc->index) + "]"
                                            : place.rc->name) +
                    ": virtual host " + place.vh->name;
                apply_to_virtual_host(t, names, index, place);
            }
        }
        if (matched > 0) {
            return std::nullopt;
        }
        std::string msg = unmatched_message(t, unparsable);
        if (t.skip_unmatched) {
            results_.back().unmatched = msg + "; left out (" + t.skip_reason + ")";
            return results_.back().unmatched;
        }
        throw Error(msg);
    }

    // Replaces the documents with edits by new ones; returns which changed.
    std::vector<bool> write(Snapshot& out) {
        std::vector<bool> changed(out.documents.size(), false);
        for (std::size_t di = 0; di < out.documents.size(); ++di) {
            if (edits_[di].empty()) {
                continue;
            }
            const Document& old = *out.documents[di];
            std::string content;
            try {
                content = apply_edits(indexes_[di]->content(), std::move(edits_[di]));
            } catch (const EditConflict& e) {
                throw Error(describe_document(old) + ": line " +
                            std::to_string(line_of(indexes_[di]->content(), e.pos)) +
                            ": routes share this text through a YAML anchor or alias but need "
                            "different weights");
            }
            if (content != old.content) {
                out.documents[di] = std::make_shared<const Document>(
                    Document{old.name, std::move(content), old.origin});
                changed[di] = true;
            }
        }
        return changed;
    }

private:
    void add_edit(std::size_t di, TextEdit edit) {
        results_.back().edits.emplace_back(di, edit);
        edits_[di].push_back(std::move(edit));
    }

    void add_change(RouteChange change) {
        results_.back().changes.push_back(change);
        changes.push_back(std::move(change));
    }

    // The routes of one matched virtual host that `t` sets; throws when none.
    void apply_to_virtual_host(const WeightTarget& t, const std::vector<std::string>& names,
                               const RdsIndex& index, const RoutePlace& place) {
        std::size_t affected = 0;
        std::vector<std::string> plain_routes;
        for (const RouteEntry& route : place.vh->routes) {
            if (!t.route_matches.empty() &&
                std::find(t.route_matches.begin(), t.route_matches.end(), route.match) ==
                    t.route_matches.end()) {
                continue;
            }
            const std::string rwhere = place.where + ": " + describe_route(route);
            if (route.weighted) {
                const bool touches = std::any_of(
                    route.clusters.begin(), route.clusters.end(), [&](const ClusterEntry& c) {
                        return std::find(names.begin(), names.end(), c.name) != names.end();
                    });
                if (!touches) {
                    continue;
                }
                claim(t, place, route, rwhere);
                ++affected;
                set_weights(t, names, index, place, route, rwhere);
            } else if (route.plain &&
                       ((!t.root_cluster.empty() && route.plain_cluster == t.root_cluster) ||
                        std::find(names.begin(), names.end(), route.plain_cluster) !=
                            names.end())) {
                if (!t.promote) {
                    plain_routes.push_back(describe_route(route));
                    continue;
                }
                claim(t, place, route, rwhere);
                ++affected;
                promote(t, names, index.json, place, route, rwhere);
            }
        }
        if (affected == 0) {
            std::string msg =
                place.where + ": no route " +
                (t.route_matches.empty() ? std::string()
                                         : "matching " + join(t.route_matches) + " ") +
                "has weighted_clusters naming the backends' clusters (" + join(names) + ")";
            if (!plain_routes.empty()) {
                msg += "; " + join(plain_routes) + " routes to plain cluster '" + t.root_cluster +
                       "': set promote: true to convert it";
            }
            throw Error(msg);
        }
    }

    // A route is set by one target only, and only to weights that are not all zero.
    void claim(const WeightTarget& t, const RoutePlace& place, const RouteEntry& route,
               const std::string& rwhere) {
        const auto key = std::make_tuple(place.di, place.ri, place.vi, route.index);
        auto [it, fresh] = claimed_.emplace(key, t.describe);
        if (!fresh) {
            throw Error(rwhere + ": also matched by " + it->second);
        }
        if (elsewhere_) {
            if (const std::string* other = elsewhere_(key)) {
                throw Error(rwhere + ": also matched by " + *other);
            }
        }
        results_.back().claims.push_back(key);
        if (t.total_weight() == 0) {
            throw Error(rwhere + ": all backend weights are zero");
        }
    }

    // The edit giving cluster `c` of a weighted route the weight `wt`.
    void set_cluster_weight(const ClusterEntry& c, const std::string& wt, const RdsIndex& index,
                            std::size_t di, const std::string& rwhere) {
        if (c.has_weight) {
            if (c.weight_text == wt && c.weight.ok) {
                return;
            }
            if (!c.weight.ok) {
                throw Error(rwhere + ": cluster '" + c.name +
                            "': cannot rewrite its weight in place (unsupported YAML layout)");
            }
            add_edit(di, {c.weight.pos, c.weight.len, wt});
            return;
        }
        if (!c.after_name_ok) {
            throw Error(rwhere + ": cluster '" + c.name +
                        "': cannot add a weight in place (unsupported YAML layout)");
        }
        std::string ins;
        if (c.flow) {
            ins = ", " + key_text("weight", index.json) + ": " + wt;
        } else {
            const bool crlf =
                c.after_name < index.content().size() && index.content()[c.after_name] == '\r';
            ins = std::string(crlf ? "\r\n" : "\n") + c.block_indent + "weight: " + wt;
        }
        add_edit(di, {c.after_name, 0, ins});
    }

    // The weights of a weighted_clusters route, and its total_weight.
    void set_weights(const WeightTarget& t, const std::vector<std::string>& names,
                     const RdsIndex& index, const RoutePlace& place, const RouteEntry& route,
                     const std::string& rwhere) {
        std::vector<std::string> present;
        for (const auto& c : route.clusters) {
            present.push_back(c.name);
        }
        for (std::size_t b = 0; b < names.size(); ++b) {
            if (std::find(present.begin(), present.end(), names[b]) == present.end()) {
                throw Error(rwhere + ": backend '" + t.backends[b].label +
                            "' matches no cluster (looked for '" + names[b] +
                            "', weighted_clusters has " + join(present) + ")");
            }
        }
        std::uint64_t sum = 0;
        for (const auto& c : route.clusters) {
            const auto bi = static_cast<std::size_t>(std::find(names.begin(), names.end(), c.name) -
                                                     names.begin());
            std::uint64_t w = 0;
            if (bi < names.size()) {
                w = t.backends[bi].weight;
                set_cluster_weight(c, std::to_string(w), index, place.di, rwhere);
            } else if (c.has_weight && !parse_u64(c.weight_text, w)) {
                throw Error(rwhere + ": cluster '" + c.name + "' has weight '" + c.weight_text +
                            "', not an integer");
            }
            sum += w;
        }
        std::string weights;
        for (std::size_t b = 0; b < names.size(); ++b) {
            weights += (b == 0 ? "" : " ") + names[b] + "=" + std::to_string(t.backends[b].weight);
        }
        add_change(
            RouteChange{place.di, t.describe, std::move(weights),
                        place.rc->name + "/" + place.vh->name + " " + describe_route(route)});
        if (sum > kMaxWeight) {
            throw Error(rwhere + ": the weights sum to " + std::to_string(sum) +
                        ", more than Envoy's limit 4294967295");
        }
        set_total_weight(sum, index, place, route, rwhere);
    }

    // total_weight: rewritten when present; added for v2 (which reads a missing one as 100).
    void set_total_weight(std::uint64_t sum, const RdsIndex& index, const RoutePlace& place,
                          const RouteEntry& route, const std::string& rwhere) {
        const std::string st = std::to_string(sum);
        if (route.has_total) {
            if (!route.total.ok) {
                throw Error(rwhere +
                            ": cannot rewrite total_weight in place (unsupported YAML layout)");
            }
            if (index.content().compare(route.total.pos, route.total.len, st) != 0) {
                add_edit(place.di, {route.total.pos, route.total.len, st});
            }
        } else if (place.rc->legacy_v2 && sum != 100) {
            const InsertPoint& ip = route.weighted_map;
            if (!ip.ok) {
                throw Error(rwhere +
                            ": cannot add total_weight in place (unsupported YAML layout)");
            }
            std::string ins = key_text("total_weight", index.json) + ": " + st;
            if (ip.flow) {
                ins += ip.flow_empty ? "" : ", ";
            } else {
                ins += "\n" + ip.block_indent;
            }
            add_edit(place.di, {ip.pos, 0, ins});
        }
    }

    // A plain `cluster:` route becomes weighted_clusters over the backends.
    void promote(const WeightTarget& t, const std::vector<std::string>& names, bool json,
                 const RoutePlace& place, const RouteEntry& route, const std::string& rwhere) {
        if (!route.plain_entry.ok) {
            throw Error(rwhere + ": cannot replace 'cluster' in place (unsupported YAML layout)");
        }
        std::string wc =
            key_text("weighted_clusters", json) + ": {" + key_text("clusters", json) + ": [";
        for (std::size_t b = 0; b < names.size(); ++b) {
            wc += b == 0 ? "{" : ", {";
            wc += key_text("name", json) + ": " + json::quoted(names[b]) + ", " +
                  key_text("weight", json) + ": " + std::to_string(t.backends[b].weight) + "}";
        }
        wc += "]";
        if (place.rc->legacy_v2 && t.total_weight() != 100) {
            wc += ", " + key_text("total_weight", json) + ": " + std::to_string(t.total_weight());
        }
        wc += "}";
        add_edit(place.di, {route.plain_entry.pos, route.plain_entry.len, wc});
        add_change(
            RouteChange{place.di, t.describe, "promoted to weighted_clusters",
                        place.rc->name + "/" + place.vh->name + " " + describe_route(route)});
    }

    // Why `t` matched no virtual host, and where it looked.
    [[nodiscard]] std::string unmatched_message(const WeightTarget& t,
                                                const std::vector<std::string>& unparsable) const {
        std::string msg =
            t.describe + ": matches no virtual host: " + t.wanted + " in any RouteConfiguration";
        std::vector<std::string> searched;
        for (std::size_t di = 0; di < snapshot_.documents.size(); ++di) {
            if (indexes_[di] && indexes_[di]->parse_error.empty() &&
                !indexes_[di]->route_configs.empty()) {
                searched.push_back(snapshot_.documents[di]->name);
            }
        }
        msg += searched.empty() ? " (no document holds one)" : " (searched " + join(searched) + ")";
        if (!unparsable.empty()) {
            msg += "; not valid YAML: " + join(unparsable);
        }
        return msg;
    }

    const Snapshot& snapshot_;
    const std::vector<RdsIndexPtr>& indexes_;
    std::vector<std::vector<TextEdit>> edits_;
    std::map<ClaimKey, std::string> claimed_;
    ClaimedElsewhere elsewhere_;
    std::vector<TargetResult> results_;
};

std::string joined_lines(const std::vector<std::string>& lines) {
    std::string all;
    for (const auto& l : lines) {
        all += l + "\n";
    }
    return all;
}

}  // namespace

// The last successful apply, target by target: what a canary step starts from.
struct WeightMerger::Memo {
    bool valid = false;
    // The documents as given, held weakly (their source owns them; a weak pointer keeps
    // the address from being another document's).
    std::vector<std::weak_ptr<const Document>> inputs;
    std::vector<RdsIndexPtr> indexes;
    std::vector<DocumentPtr> outputs;  // as written
    std::vector<bool> changed;         // outputs[i] differs from inputs[i]
    std::vector<TargetResult> targets;
    std::map<ClaimKey, std::size_t> claims;  // route -> index in targets
    std::vector<EditSet> edits;              // per document, every target's
};

WeightMerger::WeightMerger() : memo_(std::make_unique<Memo>()) {}
WeightMerger::~WeightMerger() = default;
WeightMerger::WeightMerger(WeightMerger&&) noexcept = default;
WeightMerger& WeightMerger::operator=(WeightMerger&&) noexcept = default;

std::uint64_t WeightTarget::total_weight() const {
    std::uint64_t sum = 0;
    for (const auto& b : backends) {
        sum += b.weight;
    }
    return sum;
}

std::string route_match_text(const std::string& kind, const std::string& value) {
    return kind + " " + value;
}

RdsIndexPtr WeightMerger::index_for(const DocumentPtr& document) {
    const Document* key = document.get();
    if (auto it = by_ptr_.find(key);
        it != by_ptr_.end() && it->second.document.lock() == document) {
        // The same document as last time: no scan, no hash.
        next_by_ptr_[key] = it->second;
        if (it->second.index) {
            next_by_content_.emplace(it->second.hash, it->second.index);
        }
        return it->second.index;
    }
    if (!may_hold_route_configuration(document->content)) {
        next_by_ptr_[key] = PtrEntry{document, nullptr, 0};
        return nullptr;
    }
    const std::size_t h = std::hash<std::string>{}(document->content);
    RdsIndexPtr index;
    for (const auto* cache : {&by_content_, &next_by_content_}) {
        for (auto [b, e] = cache->equal_range(h); b != e && !index; ++b) {
            if (b->second->content() == document->content) {
                index = b->second;
            }
        }
    }
    if (!index) {
        // The index refers to the document's own text (and keeps the document).
        index = build_index(std::shared_ptr<const std::string>(document, &document->content));
        ++parse_count_;
    }
    next_by_ptr_[key] = PtrEntry{document, index, h};
    next_by_content_.emplace(h, index);
    return index;
}

void WeightMerger::apply(Snapshot& snapshot, const std::vector<WeightTarget>& targets) {
    if (!memo_) {
        memo_ = std::make_unique<Memo>();
    }
    memo_->valid = false;
    changes_.clear();
    unmatched_.clear();
    if (targets.empty()) {
        reported_.clear();
        return;  // nothing to merge; the cache is kept for when a target returns
    }
    next_by_ptr_.clear();
    next_by_content_.clear();
    std::vector<RdsIndexPtr> indexes(snapshot.documents.size());
    for (std::size_t i = 0; i < snapshot.documents.size(); ++i) {
        indexes[i] = index_for(snapshot.documents[i]);
    }
    by_ptr_.swap(next_by_ptr_);
    by_content_.swap(next_by_content_);
    next_by_ptr_.clear();
    next_by_content_.clear();

    const std::vector<DocumentPtr> inputs = snapshot.documents;
    MergePass pass(snapshot, indexes);
    for (const WeightTarget& t : targets) {
        ++applied_count_;
        if (auto unmatched = pass.apply_target(t)) {
            unmatched_.emplace_back(t.describe, std::move(*unmatched));
        }
    }
    const std::vector<bool> changed = pass.write(snapshot);
    std::map<std::pair<std::string, std::string>, std::string> reported;
    for (auto& [key, lines] : summarize(pass.changes, snapshot.documents, changed)) {
        std::string all = joined_lines(lines);
        if (const auto it = reported_.find(key); it == reported_.end() || it->second != all) {
            changes_.insert(changes_.end(), lines.begin(), lines.end());
        }
        reported[key] = std::move(all);
    }
    reported_ = std::move(reported);

    Memo& m = *memo_;
    m.inputs.assign(inputs.begin(), inputs.end());
    m.indexes = std::move(indexes);
    m.outputs = snapshot.documents;
    m.changed = changed;
    m.targets = pass.take_results();
    m.claims.clear();
    std::vector<std::vector<TextEdit>> edits(inputs.size());
    std::set<std::string> describes;
    for (std::size_t k = 0; k < m.targets.size(); ++k) {
        for (const auto& key : m.targets[k].claims) {
            m.claims[key] = k;
        }
        for (const auto& [di, edit] : m.targets[k].edits) {
            edits[di].push_back(edit);
        }
        describes.insert(m.targets[k].describe);
    }
    m.edits.clear();
    for (auto& e : edits) {
        m.edits.emplace_back(std::move(e));
    }
    // A target is found again by its describe(): they must be unique.
    m.valid = describes.size() == m.targets.size();
}

namespace {

// The change lines reported, by (target, document).
using Reported = std::map<std::pair<std::string, std::string>, std::string>;

// A canary step's change lines when a document started or stopped differing from its input.
void report_all(const std::vector<TargetResult>& targets, const std::vector<ChangedTarget>& changed,
                const std::vector<TargetResult>& results, const std::vector<DocumentPtr>& outputs,
                const std::vector<bool>& differing, Reported& last_reported,
                std::vector<std::string>& changes) {
    // Every target's changes in the order a whole merge applies them, the changed targets'
    // from this pass; reported as apply() reports them.
    std::vector<RouteChange> route_changes;
    std::size_t next = 0;
    for (std::size_t k = 0; k < targets.size(); ++k) {
        const bool now = next < changed.size() && changed[next].index == k;
        const std::vector<RouteChange>& of = now ? results[next++].changes : targets[k].changes;
        route_changes.insert(route_changes.end(), of.begin(), of.end());
    }
    Reported reported;
    for (auto& [key, lines] : summarize(route_changes, outputs, differing)) {
        std::string all = joined_lines(lines);
        if (const auto it = last_reported.find(key);
            it == last_reported.end() || it->second != all) {
            changes.insert(changes.end(), lines.begin(), lines.end());
        }
        reported[key] = std::move(all);
    }
    last_reported = std::move(reported);
}

// A canary step's change lines otherwise.
void report_changed(const std::vector<ChangedTarget>& changed,
                    const std::vector<TargetResult>& results,
                    const std::vector<DocumentPtr>& outputs, const std::vector<bool>& differing,
                    Reported& last_reported, std::vector<std::string>& changes) {
    // The changed targets' lines; the others' are as reported before.
    std::vector<RouteChange> route_changes;
    for (const auto& r : results) {
        route_changes.insert(route_changes.end(), r.changes.begin(), r.changes.end());
    }
    Reported before;
    for (const ChangedTarget& c : changed) {
        const std::string& name = c.target->describe;
        for (auto it = last_reported.lower_bound({name, std::string()});
             it != last_reported.end() && it->first.first == name;) {
            before.insert(*it);
            it = last_reported.erase(it);
        }
    }
    for (auto& [key, lines] : summarize(route_changes, outputs, differing)) {
        std::string all = joined_lines(lines);
        if (const auto it = before.find(key); it == before.end() || it->second != all) {
            changes.insert(changes.end(), lines.begin(), lines.end());
        }
        last_reported[key] = std::move(all);
    }
}

}  // namespace

bool WeightMerger::reapply(Snapshot& snapshot, const std::vector<ChangedTarget>& changed) {
    if (!memo_ || !memo_->valid || snapshot.documents.size() != memo_->inputs.size()) {
        return false;
    }
    Memo& m = *memo_;
    for (std::size_t di = 0; di < m.inputs.size(); ++di) {
        const DocumentPtr& d = snapshot.documents[di];
        if (m.inputs[di].owner_before(d) || d.owner_before(m.inputs[di])) {
            return false;  // other documents: apply() indexes them
        }
    }
    const std::vector<DocumentPtr> inputs = snapshot.documents;
    for (std::size_t i = 0; i < changed.size(); ++i) {
        const ChangedTarget& c = changed[i];
        if (c.target == nullptr || c.index >= m.targets.size() ||
            (i > 0 && c.index <= changed[i - 1].index) ||
            c.target->describe != m.targets[c.index].describe) {
            return false;
        }
    }
    const auto is_changed = [&](std::size_t k) {
        return std::binary_search(
            changed.begin(), changed.end(), ChangedTarget{k, nullptr},
            [](const ChangedTarget& a, const ChangedTarget& b) { return a.index < b.index; });
    };
    // The changed targets against the routes the others hold.
    MergePass pass(snapshot, m.indexes, [&](const ClaimKey& key) -> const std::string* {
        const auto it = m.claims.find(key);
        if (it == m.claims.end() || is_changed(it->second)) {
            return nullptr;
        }
        return &m.targets[it->second].describe;
    });
    try {
        for (const ChangedTarget& c : changed) {
            ++applied_count_;
            (void)pass.apply_target(*c.target);
        }
    } catch (const Error&) {
        return false;  // apply() gives the error as a whole merge gives it
    }
    std::vector<TargetResult> results = pass.take_results();

    // Each changed target's edits out, its new edits in.
    std::vector<bool> touched(m.inputs.size(), false);
    for (const ChangedTarget& c : changed) {
        for (const auto& [di, edit] : m.targets[c.index].edits) {
            m.edits[di].remove(edit);
            touched[di] = true;
        }
    }
    for (const auto& r : results) {
        for (const auto& [di, edit] : r.edits) {
            touched[di] = true;
            if (!m.edits[di].add(edit)) {
                m.valid = false;  // a conflict: apply() names it
                return false;
            }
        }
    }
    std::vector<DocumentPtr> outputs = m.outputs;
    std::vector<bool> differing = m.changed;
    bool flipped = false;
    for (std::size_t di = 0; di < outputs.size(); ++di) {
        if (!touched[di]) {
            continue;
        }
        std::string content = m.edits[di].apply(m.indexes[di]->content());
        const DocumentPtr& input = inputs[di];
        const bool differs = content != input->content;
        if (differs != differing[di]) {
            // The document starts (or stops) differing from its input: every target's lines
            // on it are reported (or none are), as below.
            differing[di] = differs;
            flipped = true;
        }
        if (!differs) {
            outputs[di] = input;
        } else if (content != outputs[di]->content) {
            outputs[di] = std::make_shared<const Document>(
                Document{input->name, std::move(content), input->origin});
        }
    }

    changes_.clear();
    if (flipped) {
        report_all(m.targets, changed, results, outputs, differing, reported_, changes_);
    } else {
        report_changed(changed, results, outputs, differing, reported_, changes_);
    }
    m.changed = std::move(differing);

    for (const ChangedTarget& c : changed) {
        for (const auto& key : m.targets[c.index].claims) {
            if (const auto it = m.claims.find(key); it != m.claims.end() && it->second == c.index) {
                m.claims.erase(it);
            }
        }
    }
    for (std::size_t i = 0; i < changed.size(); ++i) {
        for (const auto& key : results[i].claims) {
            m.claims[key] = changed[i].index;
        }
        m.targets[changed[i].index] = std::move(results[i]);
    }
    unmatched_.clear();
    for (const auto& t : m.targets) {
        if (t.unmatched) {
            unmatched_.emplace_back(t.describe, *t.unmatched);
        }
    }
    m.outputs = outputs;
    snapshot.documents = std::move(outputs);
    ++reapply_count_;
    return true;
}

}  // namespace crossover::smi_merge
