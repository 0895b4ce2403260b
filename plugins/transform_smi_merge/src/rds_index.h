// A positional index of the RouteConfigurations inside one xDS document.
//
// The document is read once (by common_envoy's scanner, or yaml-cpp for what
// the scanner refuses: crossover_envoy/doc_tree.h); what the merge needs (virtual
// hosts, routes, weighted clusters, and the byte ranges of the scalars it may
// rewrite) is recorded here and the tree is dropped. Each canary step then
// edits the original text in place (see TextEdit), so comments, key order and
// layout survive and a step costs a copy of the text, not a parse and an emit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crossover/status.h"

namespace crossover::smi_merge {

// Byte range [pos, pos + len) of a scalar token in the text, including its
// quotes. `ok` is false when the token's layout is one the splicer does not
// rewrite (multi-line plain scalars, tags, anchors, block scalars).
struct Span {
    std::size_t pos = 0;
    std::size_t len = 0;
    bool ok = false;
};

// Where a new key can be added to a map.
struct InsertPoint {
    std::size_t pos = 0;
    bool ok = false;
    bool flow = false;         // flow map: insert "key: value, " at pos
    bool flow_empty = false;   // flow map with no entries: insert "key: value"
    std::string block_indent;  // block map: insert "key: value\n" + indent at pos
};

struct ClusterEntry {
    std::string name;
    bool has_weight = false;
    std::string weight_text;  // the scalar as parsed (when has_weight)
    Span weight;              // value token of `weight`
    // Where to add a missing `weight`: right after the `name` entry.
    std::size_t after_name = 0;
    bool after_name_ok = false;
    bool flow = false;
    std::string block_indent;  // indentation of the map's keys (block style)
};

struct RouteEntry {
    std::size_t index = 0;
    std::string name;  // route `name`, may be empty
    // The path match, "prefix /api", "path /x", "safe_regex ^/a", "path_separated_prefix /b"
    // (route_match_text), empty when the route matches otherwise.
    std::string match;
    int line = 0;  // 1-based line of the route in the document
    bool weighted = false;
    std::vector<ClusterEntry> clusters;
    bool has_total = false;
    Span total;                // value token of `total_weight`
    InsertPoint weighted_map;  // the weighted_clusters map, to add total_weight
    // Plain `cluster: X` routes (candidates for promotion).
    bool plain = false;
    std::string plain_cluster;
    Span plain_entry;  // from the `cluster` key to the end of its value
};

struct VirtualHostEntry {
    std::size_t index = 0;
    std::string name;
    std::vector<std::string> domains;
    std::vector<RouteEntry> routes;
};

struct RouteConfigEntry {
    std::size_t index = 0;  // position in `resources`
    std::string name;
    bool legacy_v2 = false;  // envoy.api.v2.RouteConfiguration
    std::vector<VirtualHostEntry> virtual_hosts;
};

// A virtual host's position: route_configs[first].virtual_hosts[second].
using VirtualHostPos = std::pair<std::size_t, std::size_t>;

// Virtual hosts by a key (a name or a domain). One sorted vector whose keys view the index's own
// strings, rather than a hash map with a node, a key and a vector per key: a full recompute of a
// large RDS builds and frees the tables of its index, and that was tens of thousands of
// allocations.
class VirtualHostTable {
public:
    // `key` must outlive the table (the index's strings, which do not move once built).
    void add(std::string_view key, VirtualHostPos pos) { entries_.emplace_back(key, pos); }
    // Sorts the entries (by key, then document order) and drops repeats; before any find().
    void seal();
    // Appends the positions of the virtual hosts with `key` to `out`, in document order.
    void find(std::string_view key, std::vector<VirtualHostPos>& out) const;

private:
    std::vector<std::pair<std::string_view, VirtualHostPos>> entries_;
};

struct RdsIndex {
    RdsIndex() = default;
    RdsIndex(const RdsIndex&) = delete;  // the tables view its strings
    RdsIndex& operator=(const RdsIndex&) = delete;
    ~RdsIndex() = default;

    // The text the index was built from: the input document's own bytes,
    // shared with it rather than copied.
    std::shared_ptr<const std::string> text;
    [[nodiscard]] const std::string& content() const { return *text; }
    bool json = false;  // the document is JSON (keys are written quoted)
    std::string parse_error;
    bool scanned = false;  // read by the scanner (false: by yaml-cpp)
    std::vector<RouteConfigEntry> route_configs;
    // Virtual hosts by name and by each of their domains, in document order, so that a
    // TrafficSplit finds its virtual hosts without scanning all of them.
    VirtualHostTable by_name;
    VirtualHostTable by_domain;
};

using RdsIndexPtr = std::shared_ptr<const RdsIndex>;

// Cheap test before parsing: can this text hold a RouteConfiguration?
bool may_hold_route_configuration(const std::string& content);

// Parses `text` and indexes its RouteConfigurations; the index keeps `text`
// (pass a pointer that shares the document's ownership, so the bytes are not
// held twice). Never throws: a document that is not valid YAML gets
// `parse_error` set and no entries.
RdsIndexPtr build_index(std::shared_ptr<const std::string> text);
// The same over a copy of `content`.
RdsIndexPtr build_index(std::string content);

// One replacement in the text; applied back to front.
struct TextEdit {
    std::size_t pos = 0;
    std::size_t len = 0;
    std::string text;
};

// Thrown by apply_edits when two different edits touch the same text (routes
// that share clusters through a YAML anchor/alias but need other weights).
class EditConflict : public Error {
public:
    EditConflict(std::size_t position, std::string message)
        : Error(std::move(message)), pos(position) {}
    std::size_t pos;
};

// Applies edits to `content`. Identical edits are applied once; different
// edits that overlap or insert at the same position throw EditConflict.
std::string apply_edits(const std::string& content, std::vector<TextEdit> edits);

// 1-based line of byte `pos`.
int line_of(const std::string& content, std::size_t pos);

}  // namespace crossover::smi_merge
