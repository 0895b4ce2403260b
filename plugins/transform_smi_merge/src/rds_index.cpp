#include "rds_index.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <tuple>

#include <yaml-cpp/yaml.h>

#include "crossover/status.h"
#include "crossover/yaml_load.h"
#include "crossover_envoy/doc_tree.h"
#include "crossover_envoy/doc_tree_yaml.h"
#include "crossover_envoy/xds.h"

namespace crossover::smi_merge {
namespace {

// The document's tree: from the scanner, or from yaml-cpp when the scanner
// refuses the text (xds::scan_document); the index is built the same way.
using xds::DocTree;
using Node = std::uint32_t;
constexpr Node kNone = DocTree::npos;

bool is_flow(const DocTree& tree, Node node) {
    return node != kNone && tree[node].flow;
}

std::string scalar_of(const DocTree& tree, Node node) {
    return std::string(tree.scalar(node));
}

// Finds the entry of `map` whose key is one of `names`.
bool find_entry(const DocTree& tree, Node map, std::initializer_list<std::string_view> names,
                Node& key, Node& value) {
    std::tie(key, value) = tree.find_entry(map, names);
    return key != kNone;
}

Node child(const DocTree& tree, Node map, std::initializer_list<std::string_view> names) {
    return tree.find(map, names);
}

bool valid_pos(const DocTree& tree, Node node, const std::string& text) {
    return node != kNone && tree[node].pos < text.size();
}

// The items of a sequence; nothing for anything else.
DocTree::Children items(const DocTree& tree, Node node) {
    return tree.children(tree.is_seq(node) ? node : kNone);
}

std::size_t pos_of(const DocTree& tree, Node node) {
    return tree[node].pos;
}

// The byte range of a scalar token, verified against what yaml-cpp parsed.
Span scalar_span(const DocTree& tree, const std::string& text, Node node, bool flow) {
    Span span;
    if (!tree.is_scalar(node) || !valid_pos(tree, node, text)) {
        return span;
    }
    const std::string_view value_parsed = tree[node].value;
    std::size_t pos = pos_of(tree, node);
    const std::size_t n = text.size();
    // Skip a tag and/or an anchor in front of the value ("!!int 5", "&w 5"):
    // they are kept, only the value is replaced.
    while (pos < n && (text[pos] == '!' || text[pos] == '&')) {
        while (pos < n && text[pos] != ' ' && text[pos] != '\t' && text[pos] != '\n') {
            ++pos;
        }
        while (pos < n && (text[pos] == ' ' || text[pos] == '\t')) {
            ++pos;
        }
    }
    if (pos >= n) {
        return span;
    }
    const char first = text[pos];
    std::size_t end = 0;
    if (first == '"') {
        bool escaped = false;
        std::size_t j = pos + 1;
        for (; j < n && text[j] != '"'; ++j) {
            if (text[j] == '\n') {
                return span;
            }
            if (text[j] == '\\') {
                escaped = true;
                ++j;
            }
        }
        if (j >= n) {
            return span;
        }
        end = j + 1;
        if (!escaped && text.compare(pos + 1, j - pos - 1, value_parsed) != 0) {
            return span;
        }
    } else if (first == '\'') {
        std::string value;
        std::size_t j = pos + 1;
        for (; j < n; ++j) {
            if (text[j] == '\n') {
                return span;
            }
            if (text[j] == '\'') {
                if (j + 1 < n && text[j + 1] == '\'') {
                    value.push_back('\'');
                    ++j;
                    continue;
                }
                break;
            }
            value.push_back(text[j]);
        }
        if (j >= n || value != value_parsed) {
            return span;
        }
        end = j + 1;
    } else {
        if (std::string_view("&!|>*\n").find(first) != std::string_view::npos) {
            return span;
        }
        std::size_t j = pos;
        for (; j < n; ++j) {
            const char c = text[j];
            if (c == '\n' || c == '\r') {
                break;
            }
            if (flow && (c == ',' || c == '}' || c == ']')) {
                break;
            }
            if (c == '#' && j > pos && (text[j - 1] == ' ' || text[j - 1] == '\t')) {
                break;
            }
        }
        while (j > pos && (text[j - 1] == ' ' || text[j - 1] == '\t')) {
            --j;
        }
        if (text.compare(pos, j - pos, value_parsed) != 0) {
            return span;  // multi-line or otherwise unusual plain scalar
        }
        end = j;
    }
    span.pos = pos;
    span.len = end - pos;
    span.ok = true;
    return span;
}

// Indentation for a new line holding a key at `pos` of a block map: the
// line's prefix must be spaces and sequence dashes only.
bool block_indent_at(const std::string& text, std::size_t pos, std::string& indent) {
    const std::size_t nl = text.rfind('\n', pos == 0 ? 0 : pos - 1);
    const std::size_t start = (nl == std::string::npos || pos == 0) ? 0 : nl + 1;
    if (pos == 0) {
        indent.clear();
        return true;
    }
    for (std::size_t k = start; k < pos; ++k) {
        if (text[k] != ' ' && text[k] != '-') {
            return false;
        }
    }
    indent.assign(pos - start, ' ');
    return true;
}

InsertPoint map_insert_point(const DocTree& tree, const std::string& text, Node map) {
    InsertPoint ip;
    if (!tree.is_map(map) || !valid_pos(tree, map, text)) {
        return ip;
    }
    if (is_flow(tree, map)) {
        const std::size_t pos = pos_of(tree, map);
        if (text[pos] != '{') {
            return ip;
        }
        std::size_t j = pos + 1;
        while (j < text.size() &&
               (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r')) {
            ++j;
        }
        ip.flow = true;
        ip.flow_empty = j < text.size() && text[j] == '}';
        ip.pos = pos + 1;
        ip.ok = true;
        return ip;
    }
    const Node first_key = map + 1;
    if (first_key >= tree[map].next || !valid_pos(tree, first_key, text)) {
        return ip;
    }
    ip.pos = pos_of(tree, first_key);
    ip.ok = block_indent_at(text, ip.pos, ip.block_indent);
    return ip;
}

bool route_config_type(const std::string& type, bool& legacy) {
    const xds::TypeInfo info = xds::type_info(type);
    legacy = info.v2;
    return info.kind == xds::ResourceKind::RouteConfiguration;
}

ClusterEntry index_cluster(const DocTree& tree, const std::string& text, Node cluster) {
    ClusterEntry c;
    c.flow = is_flow(tree, cluster);
    Node name_key = kNone;
    Node name_value = kNone;
    if (find_entry(tree, cluster, {"name"}, name_key, name_value)) {
        c.name = scalar_of(tree, name_value);
        const Span name_span = scalar_span(tree, text, name_value, c.flow);
        if (name_span.ok) {
            const std::size_t after = name_span.pos + name_span.len;
            if (c.flow) {
                c.after_name = after;
                c.after_name_ok = true;
            } else if (valid_pos(tree, name_key, text) &&
                       block_indent_at(text, pos_of(tree, name_key), c.block_indent)) {
                std::size_t nl = text.find('\n', after);
                if (nl == std::string::npos) {
                    nl = text.size();
                } else if (nl > 0 && text[nl - 1] == '\r') {
                    --nl;
                }
                c.after_name = nl;
                c.after_name_ok = true;
            }
        }
    }
    Node weight_key = kNone;
    Node weight_value = kNone;
    if (find_entry(tree, cluster, {"weight"}, weight_key, weight_value)) {
        c.has_weight = true;
        c.weight_text = scalar_of(tree, weight_value);
        c.weight = scalar_span(tree, text, weight_value, c.flow);
    }
    return c;
}

// The path match of a route's `match` map as route_match_text() spells it. One
// pass over the map (every route of a full recompute comes through here): the
// first entry of each kind counts, as a lookup by key would find it, and
// safe_regex wins over path_separated_prefix over path over prefix.
std::string route_match(const DocTree& tree, Node match) {
    if (!tree.is_map(match)) {
        return {};
    }
    constexpr std::size_t kKinds = 4;
    static constexpr std::array<std::string_view, kKinds> kKeys = {
        "prefix", "path", "path_separated_prefix", "pathSeparatedPrefix"};
    std::array<Node, kKinds> found{};
    std::array<bool, kKinds> seen{};
    Node regex_map = kNone;
    bool regex_seen = false;
    for (Node key_node = match + 1; key_node < tree[match].next;) {
        const Node value = tree[key_node].next;
        const Node next = tree[value].next;
        if (!tree.is_scalar(key_node)) {
            key_node = next;
            continue;
        }
        const std::string_view key = tree[key_node].value;
        key_node = next;
        if (key == "safe_regex" || key == "safeRegex") {
            if (!regex_seen) {
                regex_seen = true;
                regex_map = value;
            }
            continue;
        }
        for (std::size_t k = 0; k < kKinds; ++k) {
            if (!seen[k] && key == kKeys[k]) {
                seen[k] = true;
                found[k] = value;
            }
        }
    }
    if (regex_seen) {
        if (const Node regex = child(tree, regex_map, {"regex"}); tree.is_scalar(regex)) {
            return "safe_regex " + scalar_of(tree, regex);
        }
    }
    for (std::size_t k = kKinds; k-- > 0;) {
        if (seen[k] && tree.is_scalar(found[k])) {
            return std::string(k == 3 ? "path_separated_prefix" : kKeys[k]) + " " +
                   scalar_of(tree, found[k]);
        }
    }
    return {};
}

RouteEntry index_route(const DocTree& tree, const std::string& text, Node route_node,
                       std::size_t index) {
    RouteEntry r;
    r.index = index;
    r.name = scalar_of(tree, child(tree, route_node, {"name"}));
    r.line = static_cast<int>(tree[route_node].line) + 1;
    r.match = route_match(tree, child(tree, route_node, {"match"}));
    const Node action = child(tree, route_node, {"route"});
    if (!tree.is_map(action)) {
        return r;
    }
    const Node weighted = child(tree, action, {"weighted_clusters", "weightedClusters"});
    if (tree.is_map(weighted)) {
        r.weighted = true;
        const Node clusters = child(tree, weighted, {"clusters"});
        for (const Node c : items(tree, clusters)) {
            if (tree.is_map(c)) {
                r.clusters.push_back(index_cluster(tree, text, c));
            }
        }
        Node total_key = kNone;
        Node total_value = kNone;
        if (find_entry(tree, weighted, {"total_weight", "totalWeight"}, total_key, total_value)) {
            r.has_total = true;
            r.total = scalar_span(tree, text, total_value, is_flow(tree, weighted));
        }
        r.weighted_map = map_insert_point(tree, text, weighted);
        return r;
    }
    Node cluster_key = kNone;
    Node cluster_value = kNone;
    if (find_entry(tree, action, {"cluster"}, cluster_key, cluster_value) &&
        tree.is_scalar(cluster_value)) {
        r.plain = true;
        r.plain_cluster = scalar_of(tree, cluster_value);
        const Span value = scalar_span(tree, text, cluster_value, is_flow(tree, action));
        if (value.ok && valid_pos(tree, cluster_key, text) &&
            pos_of(tree, cluster_key) < value.pos) {
            r.plain_entry.pos = pos_of(tree, cluster_key);
            r.plain_entry.len = value.pos + value.len - r.plain_entry.pos;
            r.plain_entry.ok = true;
        }
    }
    return r;
}

// The index is kept for as long as its document: give back the spare
// capacity the vectors grew while it was built.
void shrink(std::vector<RouteEntry>& routes) {
    for (auto& route : routes) {
        route.clusters.shrink_to_fit();
    }
    routes.shrink_to_fit();
}

void shrink(std::vector<RouteConfigEntry>& route_configs) {
    for (auto& rc : route_configs) {
        for (auto& vh : rc.virtual_hosts) {
            vh.domains.shrink_to_fit();
            shrink(vh.routes);
        }
        rc.virtual_hosts.shrink_to_fit();
    }
    route_configs.shrink_to_fit();
}

}  // namespace

void VirtualHostTable::seal() {
    std::sort(entries_.begin(), entries_.end());
    entries_.erase(std::unique(entries_.begin(), entries_.end()), entries_.end());
    entries_.shrink_to_fit();
}

void VirtualHostTable::find(std::string_view key, std::vector<VirtualHostPos>& out) const {
    auto it =
        std::lower_bound(entries_.begin(), entries_.end(), key,
                         [](const auto& entry, std::string_view k) { return entry.first < k; });
    for (; it != entries_.end() && it->first == key; ++it) {
        out.push_back(it->second);
    }
}

bool may_hold_route_configuration(const std::string& content) {
    // Looser than xds::may_contain on purpose: a document that mentions the
    // kind but does not parse is still read, so its YAML error is reported.
    return content.find("RouteConfiguration") != std::string::npos;
}

RdsIndexPtr build_index(std::string content) {
    return build_index(std::make_shared<const std::string>(std::move(content)));
}

RdsIndexPtr build_index(std::shared_ptr<const std::string> shared_text) {
    auto index = std::make_shared<RdsIndex>();
    index->text = std::move(shared_text);
    const std::string& text = index->content();
    const auto first = text.find_first_not_of(" \t\r\n");
    index->json = first != std::string::npos && text[first] == '{';
    // yaml-cpp's marks do not count a byte order mark: parse a copy where the
    // mark is replaced by a comment line of the same length, so offsets stay
    // byte offsets into the original (lines are then one too many).
    const bool bom = text.rfind("\xEF\xBB\xBF", 0) == 0;
    // The scanner reads the usual documents in one pass; what it refuses
    // (anchors, block scalars, a byte order mark...) yaml-cpp reads into the
    // same form, which also reports the syntax errors.
    xds::ScanResult scanned = xds::scan_document(text);
    DocTree tree;
    index->scanned = scanned.accepted;
    if (scanned.accepted) {
        tree = std::move(scanned.tree);
    } else {
        try {
            tree = xds::tree_from_yaml(bom ? load_yaml("# \n" + text.substr(3)) : load_yaml(text));
        } catch (const YAML::Exception& e) {
            index->parse_error = e.what();
            return index;
        }
    }
    const Node resources = child(tree, 0, {"resources"});
    if (!tree.is_seq(resources)) {
        return index;
    }
    std::size_t i = 0;
    for (const Node res : items(tree, resources)) {
        bool legacy = false;
        const std::size_t res_index = i++;
        if (!tree.is_map(res) ||
            !route_config_type(scalar_of(tree, child(tree, res, {"@type"})), legacy)) {
            continue;
        }
        RouteConfigEntry rc;
        rc.index = res_index;
        rc.legacy_v2 = legacy;
        rc.name = scalar_of(tree, child(tree, res, {"name"}));
        std::size_t v = 0;
        for (const Node vh : items(tree, child(tree, res, {"virtual_hosts", "virtualHosts"}))) {
            const std::size_t vh_index = v++;
            if (!tree.is_map(vh)) {
                continue;
            }
            VirtualHostEntry entry;
            entry.index = vh_index;
            entry.name = scalar_of(tree, child(tree, vh, {"name"}));
            for (const Node d : items(tree, child(tree, vh, {"domains"}))) {
                entry.domains.push_back(scalar_of(tree, d));
            }
            std::size_t r = 0;
            for (const Node route : items(tree, child(tree, vh, {"routes"}))) {
                const std::size_t route_index = r++;
                if (tree.is_map(route)) {
                    entry.routes.push_back(index_route(tree, text, route, route_index));
                    entry.routes.back().line -= bom ? 1 : 0;
                }
            }
            rc.virtual_hosts.push_back(std::move(entry));
        }
        index->route_configs.push_back(std::move(rc));
    }
    shrink(index->route_configs);
    // After the shrink: the tables view the entries' strings where they stay.
    for (std::size_t ri = 0; ri < index->route_configs.size(); ++ri) {
        const auto& vhosts = index->route_configs[ri].virtual_hosts;
        for (std::size_t vi = 0; vi < vhosts.size(); ++vi) {
            index->by_name.add(vhosts[vi].name, {ri, vi});
            for (const auto& d : vhosts[vi].domains) {
                index->by_domain.add(d, {ri, vi});
            }
        }
    }
    index->by_name.seal();
    index->by_domain.seal();
    return index;
}

std::string apply_edits(const std::string& content, std::vector<TextEdit> edits) {
    std::stable_sort(edits.begin(), edits.end(),
                     [](const TextEdit& a, const TextEdit& b) { return a.pos < b.pos; });
    edits.erase(std::unique(edits.begin(), edits.end(),
                            [](const TextEdit& a, const TextEdit& b) {
                                return a.pos == b.pos && a.len == b.len && a.text == b.text;
                            }),
                edits.end());
    std::string out;
    std::size_t extra = 0;
    for (const auto& e : edits) {
        extra += e.text.size();
    }
    out.reserve(content.size() + extra);
    std::size_t at = 0;
    for (std::size_t i = 0; i < edits.size(); ++i) {
        const TextEdit& e = edits[i];
        if (e.pos + e.len > content.size()) {
            throw Error("internal error: edit beyond the end of the text");
        }
        if (e.pos < at || (i > 0 && e.pos == edits[i - 1].pos)) {
            throw EditConflict(e.pos, "conflicting edits at byte " + std::to_string(e.pos));
        }
        out.append(content, at, e.pos - at);
        out += e.text;
        at = e.pos + e.len;
    }
    out.append(content, at, std::string::npos);
    return out;
}

int line_of(const std::string& content, std::size_t pos) {
    const auto end = content.begin() + static_cast<std::ptrdiff_t>(std::min(pos, content.size()));
    return 1 + static_cast<int>(std::count(content.begin(), end, '\n'));
}

}  // namespace crossover::smi_merge
