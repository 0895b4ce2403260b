// Where each resource of a block-style YAML DiscoveryResponse lies in its
// text, found from the lines' indentation alone (no YAML parse). The
// validator uses it to re-check only the resources whose bytes changed:
//
//   version_info: "7"          <- head: everything before the first item
//   resources:
//   - "@type": ...Cluster      <- item 0: from its "- " line to the next one
//     name: a
//   - "@type": ...Cluster      <- item 1
//     name: b
//   type_url: ...              <- tail: from the first line that ends the list
//
// The scan only proposes a split; callers must confirm it (against yaml-cpp's
// marks after a full parse, or by parsing a changed item on its own) before
// relying on it. Text it cannot split simply (flow style, a `resources` key
// that is quoted or not at column 0, tabs in indentation, %-directives, no
// items) gives nullopt.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace crossover::envoy_validate {

struct ResourceSpan {
    std::size_t begin = 0;  // start of the item's "- " line
    std::size_t end = 0;    // start of the next item's line, or of the tail
};

struct ResourceLayout {
    std::size_t key_line = 0;         // start of the line of the list's key ("resources:")
    std::size_t column = 0;           // of the items' '-'
    std::vector<ResourceSpan> items;  // contiguous, in order, at least one
    [[nodiscard]] std::size_t head_end() const { return items.front().begin; }
    [[nodiscard]] std::size_t tail_begin() const { return items.back().end; }
};

std::optional<ResourceLayout> scan_resources(std::string_view text);

// The same split of the block list under `key`, the first line that holds
// only "key:" at column `key_column`: a RouteConfiguration's
// `virtual_hosts`, scanned in the text of its resource alone
//
//   - "@type": ...RouteConfiguration    <- head: up to the first item
//     name: local
//     virtual_hosts:
//     - name: a                          <- item 0
//       domains: ["a"]
//     - name: b                          <- item 1
//       domains: ["b"]
//     request_headers_to_add: ...        <- tail: from the first line that ends the list
//
// The items may be at the key's column or deeper, never shallower.
std::optional<ResourceLayout> scan_list(std::string_view text, std::string_view key,
                                        std::size_t key_column);

// The column of the first key of the map that the list item `text` (its
// first line "- key: ...") starts with; nullopt when that line holds no key.
std::optional<std::size_t> item_key_column(std::string_view text);

}  // namespace crossover::envoy_validate
