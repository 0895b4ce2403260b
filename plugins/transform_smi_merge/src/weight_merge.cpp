#include "weight_merge.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <tuple>

#include "crossover/json.h"

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
        if (const auto it = table.find(key); it != table.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
        }
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

}  // namespace

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
            if (b->second->content == document->content) {
                index = b->second;
            }
        }
    }
    if (!index) {
        index = build_index(document->content);
        ++parse_count_;
    }
    next_by_ptr_[key] = PtrEntry{document, index, h};
    next_by_content_.emplace(h, index);
    return index;
}

void WeightMerger::apply(Snapshot& snapshot, const std::vector<WeightTarget>& targets) {
    changes_.clear();
    unmatched_.clear();
    if (targets.empty()) {
        reported_.clear();
        return;  // nothing to merge; the cache is kept for when a target returns
    }
    Snapshot* out = &snapshot;
    next_by_ptr_.clear();
    next_by_content_.clear();
    std::vector<RdsIndexPtr> indexes(out->documents.size());
    for (std::size_t i = 0; i < out->documents.size(); ++i) {
        indexes[i] = index_for(out->documents[i]);
    }
    by_ptr_.swap(next_by_ptr_);
    by_content_.swap(next_by_content_);
    next_by_ptr_.clear();
    next_by_content_.clear();

    std::vector<std::vector<TextEdit>> edits(out->documents.size());
    std::vector<RouteChange> changes;
    std::map<std::tuple<std::size_t, std::size_t, std::size_t, std::size_t>, std::string> claimed;

    for (const WeightTarget& t : targets) {
        std::vector<std::string> names;
        for (const auto& b : t.backends) {
            names.push_back(b.cluster);
        }
        const std::string& root_cluster = t.root_cluster;
        std::size_t matched = 0;
        std::vector<std::string> unparsable;

        for (std::size_t di = 0; di < out->documents.size(); ++di) {
            if (!indexes[di]) {
                continue;
            }
            const RdsIndex& index = *indexes[di];
            const Document& doc = *out->documents[di];
            if (!index.parse_error.empty()) {
                unparsable.push_back(doc.name);
                continue;
            }
            const std::string& text = index.content;
            const bool json = index.json;
            for (const VirtualHostPos& pos : matching_vhosts(index, t)) {
                {
                    const std::size_t ri = pos.first;
                    const std::size_t vi = pos.second;
                    const RouteConfigEntry& rc = index.route_configs[ri];
                    const VirtualHostEntry& vh = rc.virtual_hosts[vi];
                    ++matched;
                    const std::string where =
                        t.describe + ": " + describe_document(doc) + ": RouteConfiguration " +
                        (rc.name.empty() ? "resources[" + std::to_string(rc.index) + "]"
                                         : rc.name) +
                        ": virtual host " + vh.name;
                    std::size_t affected = 0;
                    std::vector<std::string> plain_routes;
                    for (const RouteEntry& route : vh.routes) {
                        if (!t.route_matches.empty() &&
                            std::find(t.route_matches.begin(), t.route_matches.end(),
                                      route.match) == t.route_matches.end()) {
                            continue;
                        }
                        const std::string rwhere = where + ": " + describe_route(route);
                        const auto claim = [&] {
                            const auto key = std::make_tuple(di, ri, vi, route.index);
                            auto [it, fresh] = claimed.emplace(key, t.describe);
                            if (!fresh) {
                                throw Error(rwhere + ": also matched by " + it->second);
                            }
                            if (t.total_weight() == 0) {
                                throw Error(rwhere + ": all backend weights are zero");
                            }
                        };
                        if (route.weighted) {
                            const bool touches =
                                std::any_of(route.clusters.begin(), route.clusters.end(),
                                            [&](const ClusterEntry& c) {
                                                return std::find(names.begin(), names.end(),
                                                                 c.name) != names.end();
                                            });
                            if (!touches) {
                                continue;
                            }
                            claim();
                            ++affected;
                            std::vector<std::string> present;
                            for (const auto& c : route.clusters) {
                                present.push_back(c.name);
                            }
                            for (std::size_t b = 0; b < names.size(); ++b) {
                                if (std::find(present.begin(), present.end(), names[b]) ==
                                    present.end()) {
                                    throw Error(rwhere + ": backend '" + t.backends[b].label +
                                                "' matches no cluster (looked for '" + names[b] +
                                                "', weighted_clusters has " + join(present) + ")");
                                }
                            }
                            std::uint64_t sum = 0;
                            for (const auto& c : route.clusters) {
                                const auto bi = static_cast<std::size_t>(
                                    std::find(names.begin(), names.end(), c.name) - names.begin());
                                std::uint64_t w = 0;
                                if (bi < names.size()) {
                                    w = t.backends[bi].weight;
                                    const std::string wt = std::to_string(w);
                                    if (c.has_weight) {
                                        if (c.weight_text != wt || !c.weight.ok) {
                                            if (!c.weight.ok) {
                                                throw Error(rwhere + ": cluster '" + c.name +
                                                            "': cannot rewrite its weight in "
                                                            "place (unsupported YAML layout)");
                                            }
                                            edits[di].push_back({c.weight.pos, c.weight.len, wt});
                                        }
                                    } else {
                                        if (!c.after_name_ok) {
                                            throw Error(rwhere + ": cluster '" + c.name +
                                                        "': cannot add a weight in place "
                                                        "(unsupported YAML layout)");
                                        }
                                        std::string ins;
                                        if (c.flow) {
                                            ins = ", " + key_text("weight", json) + ": " + wt;
                                        } else {
                                            const bool crlf = c.after_name < text.size() &&
                                                              text[c.after_name] == '\r';
                                            ins = std::string(crlf ? "\r\n" : "\n") +
                                                  c.block_indent + "weight: " + wt;
                                        }
                                        edits[di].push_back({c.after_name, 0, ins});
                                    }
                                } else if (c.has_weight && !parse_u64(c.weight_text, w)) {
                                    throw Error(rwhere + ": cluster '" + c.name + "' has weight '" +
                                                c.weight_text + "', not an integer");
                                }
                                sum += w;
                            }
                            std::string weights;
                            for (std::size_t b = 0; b < names.size(); ++b) {
                                weights += (b == 0 ? "" : " ") + names[b] + "=" +
                                           std::to_string(t.backends[b].weight);
                            }
                            changes.push_back(
                                RouteChange{di, t.describe, std::move(weights),
                                            rc.name + "/" + vh.name + " " + describe_route(route)});
                            if (sum > kMaxWeight) {
                                throw Error(rwhere + ": the weights sum to " + std::to_string(sum) +
                                            ", more than Envoy's limit 4294967295");
                            }
                            const std::string st = std::to_string(sum);
                            if (route.has_total) {
                                if (!route.total.ok) {
                                    throw Error(rwhere +
                                                ": cannot rewrite total_weight in place "
                                                "(unsupported YAML layout)");
                                }
                                if (text.compare(route.total.pos, route.total.len, st) != 0) {
                                    edits[di].push_back({route.total.pos, route.total.len, st});
                                }
                            } else if (rc.legacy_v2 && sum != 100) {
                                // v2 reads a missing total_weight as 100.
                                const InsertPoint& ip = route.weighted_map;
                                if (!ip.ok) {
                                    throw Error(rwhere +
                                                ": cannot add total_weight in place "
                                                "(unsupported YAML layout)");
                                }
                                std::string ins = key_text("total_weight", json) + ": " + st;
                                if (ip.flow) {
                                    ins += ip.flow_empty ? "" : ", ";
                                } else {
                                    ins += "\n" + ip.block_indent;
                                }
                                edits[di].push_back({ip.pos, 0, ins});
                            }
                        } else if (route.plain && ((!root_cluster.empty() &&
                                                    route.plain_cluster == root_cluster) ||
                                                   std::find(names.begin(), names.end(),
                                                             route.plain_cluster) != names.end())) {
                            if (!t.promote) {
                                plain_routes.push_back(describe_route(route));
                                continue;
                            }
                            claim();
                            ++affected;
                            if (!route.plain_entry.ok) {
                                throw Error(rwhere +
                                            ": cannot replace 'cluster' in place (unsupported "
                                            "YAML layout)");
                            }
                            std::string wc = key_text("weighted_clusters", json) + ": {" +
                                             key_text("clusters", json) + ": [";
                            for (std::size_t b = 0; b < names.size(); ++b) {
                                wc += b == 0 ? "{" : ", {";
                                wc += key_text("name", json) + ": " + json::quoted(names[b]) +
                                      ", " + key_text("weight", json) + ": " +
                                      std::to_string(t.backends[b].weight) + "}";
                            }
                            wc += "]";
                            if (rc.legacy_v2 && t.total_weight() != 100) {
                                wc += ", " + key_text("total_weight", json) + ": " +
                                      std::to_string(t.total_weight());
                            }
                            wc += "}";
                            edits[di].push_back({route.plain_entry.pos, route.plain_entry.len, wc});
                            changes.push_back(
                                RouteChange{di, t.describe, "promoted to weighted_clusters",
                                            rc.name + "/" + vh.name + " " + describe_route(route)});
                        }
                    }
                    if (affected == 0) {
                        std::string msg =
                            where + ": no route " +
                            (t.route_matches.empty() ? std::string()
                                                     : "matching " + join(t.route_matches) + " ") +
                            "has weighted_clusters naming the "
                            "backends' clusters (" +
                            join(names) + ")";
                        if (!plain_routes.empty()) {
                            msg += "; " + join(plain_routes) + " routes to plain cluster '" +
                                   root_cluster + "': set promote: true to convert it";
                        }
                        throw Error(msg);
                    }
                }
            }
        }
        if (matched == 0) {
            std::string msg = t.describe + ": matches no virtual host: " + t.wanted +
                              " in any RouteConfiguration";
            std::vector<std::string> searched;
            for (std::size_t di = 0; di < out->documents.size(); ++di) {
                if (indexes[di] && indexes[di]->parse_error.empty() &&
                    !indexes[di]->route_configs.empty()) {
                    searched.push_back(out->documents[di]->name);
                }
            }
            msg += searched.empty() ? " (no document holds one)"
                                    : " (searched " + join(searched) + ")";
            if (!unparsable.empty()) {
                msg += "; not valid YAML: " + join(unparsable);
            }
            if (t.skip_unmatched) {
                unmatched_.emplace_back(t.describe, msg + "; left out (" + t.skip_reason + ")");
                continue;
            }
            throw Error(msg);
        }
    }

    std::vector<bool> changed(out->documents.size(), false);
    for (std::size_t di = 0; di < out->documents.size(); ++di) {
        if (edits[di].empty()) {
            continue;
        }
        const Document& old = *out->documents[di];
        std::string content;
        try {
            content = apply_edits(indexes[di]->content, std::move(edits[di]));
        } catch (const EditConflict& e) {
            throw Error(describe_document(old) + ": line " +
                        std::to_string(line_of(indexes[di]->content, e.pos)) +
                        ": routes share this text through a YAML anchor or alias but need "
                        "different weights");
        }
        if (content != old.content) {
            out->documents[di] = std::make_shared<const Document>(
                Document{old.name, std::move(content), old.origin});
            changed[di] = true;
        }
    }
    std::map<std::pair<std::string, std::string>, std::string> reported;
    for (auto& [key, lines] : summarize(changes, out->documents, changed)) {
        std::string all;
        for (const auto& l : lines) {
            all += l + "\n";
        }
        if (const auto it = reported_.find(key); it == reported_.end() || it->second != all) {
            changes_.insert(changes_.end(), lines.begin(), lines.end());
        }
        reported[key] = std::move(all);
    }
    reported_ = std::move(reported);
}

}  // namespace crossover::smi_merge
