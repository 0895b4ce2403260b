// A compact tree of one YAML or JSON document, read without a general YAML
// parser when the text stays within what xDS files use.
//
// scan_document() reads the text in one pass into nodes held in one vector
// (maps, sequences, scalars and nulls, in document order); a scalar's value is
// a view into the text unless escapes had to be decoded. Each node carries
// the byte offset and line yaml-cpp would report for it (Node::Mark()), so a
// caller can splice the text by offset. The scanner accepts block mappings
// and sequences, plain and quoted scalars on one line, comments, a leading
// `---`, and flow collections ({...}, [...]: JSON is YAML); anything else
// (anchors, aliases, tags, block scalars, multi-line scalars, complex or
// duplicate keys, tabs, CR, a byte order mark, invalid UTF-8, more than one
// document...) is refused with a reason, and the caller reads the text with
// yaml-cpp and converts that tree with tree_from_yaml() (doc_tree_yaml.h), so
// the code that walks the tree is written once. The scanner never accepts a
// text yaml-cpp would read differently: the fuzz target doc_tree compares
// both on every input the scanner accepts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crossover::xds {

enum class DocKind : std::uint8_t { Null, Scalar, Map, Sequence };

struct DocNode {
    DocKind kind = DocKind::Null;
    bool flow = false;       // a collection written {...} or [...]
    bool quoted = false;     // a scalar written in quotes (or a block scalar)
    std::uint32_t line = 0;  // 0-based, as yaml-cpp's Mark().line
    std::size_t pos = 0;     // byte offset, as yaml-cpp's Mark().pos
    std::size_t end = 0;     // one past the node's last byte (scanned trees only)
    // Index one past this node's subtree: a collection's children are the
    // nodes from its index + 1 up to here, each skipping to its own `next`.
    std::uint32_t next = 0;
    std::string_view value;  // a scalar's decoded value
};

// The nodes of one document; index 0 is the root. Scalar values view the text
// given to scan_document() (which must outlive the tree) or strings the tree
// owns.
class DocTree {
public:
    static constexpr std::uint32_t npos = UINT32_MAX;

    DocTree() = default;
    DocTree(DocTree&&) = default;
    DocTree& operator=(DocTree&&) = default;
    DocTree(const DocTree&) = delete;  // values may view strings this tree owns
    DocTree& operator=(const DocTree&) = delete;
    ~DocTree() = default;

    [[nodiscard]] const DocNode& operator[](std::uint32_t i) const { return nodes_[i]; }
    [[nodiscard]] std::uint32_t size() const { return static_cast<std::uint32_t>(nodes_.size()); }
    [[nodiscard]] bool empty() const { return nodes_.empty(); }

    [[nodiscard]] bool is_map(std::uint32_t i) const {
        return i != npos && nodes_[i].kind == DocKind::Map;
    }
    [[nodiscard]] bool is_seq(std::uint32_t i) const {
        return i != npos && nodes_[i].kind == DocKind::Sequence;
    }
    [[nodiscard]] bool is_scalar(std::uint32_t i) const {
        return i != npos && nodes_[i].kind == DocKind::Scalar;
    }
    // A scalar's value, or "" for anything else (as smi_merge reads names).
    [[nodiscard]] std::string_view scalar(std::uint32_t i) const {
        return is_scalar(i) ? nodes_[i].value : std::string_view();
    }

    // Children of a collection in order (a map's alternate key, value).
    class Children {
    public:
        class iterator {
        public:
            iterator(const DocTree* tree, std::uint32_t at) : tree_(tree), at_(at) {}
            std::uint32_t operator*() const { return at_; }
            iterator& operator++() {
                at_ = (*tree_)[at_].next;
                return *this;
            }
            bool operator!=(const iterator& o) const { return at_ != o.at_; }

        private:
            const DocTree* tree_;
            std::uint32_t at_;
        };
        Children(const DocTree* tree, std::uint32_t first, std::uint32_t end)
            : tree_(tree), first_(first), end_(end) {}
        [[nodiscard]] iterator begin() const { return {tree_, first_}; }
        [[nodiscard]] iterator end() const { return {tree_, end_}; }

    private:
        const DocTree* tree_;
        std::uint32_t first_;
        std::uint32_t end_;
    };
    [[nodiscard]] Children children(std::uint32_t i) const {
        if (i == npos || (nodes_[i].kind != DocKind::Map && nodes_[i].kind != DocKind::Sequence)) {
            return {this, 0, 0};
        }
        return {this, i + 1, nodes_[i].next};
    }
    // The value of a map's first entry whose key is a scalar equal to one of
    // `keys`, or npos.
    [[nodiscard]] std::uint32_t find(std::uint32_t map,
                                     std::initializer_list<std::string_view> keys) const {
        return find_entry(map, keys).second;
    }
    // The key and the value of that entry, or {npos, npos}.
    [[nodiscard]] std::pair<std::uint32_t, std::uint32_t> find_entry(
        std::uint32_t map, std::initializer_list<std::string_view> keys) const {
        if (!is_map(map)) {
            return {npos, npos};
        }
        const std::uint32_t end = nodes_[map].next;
        for (std::uint32_t k = map + 1; k < end;) {
            const std::uint32_t v = nodes_[k].next;
            if (nodes_[k].kind == DocKind::Scalar) {
                for (std::string_view key : keys) {
                    if (nodes_[k].value == key) {
                        return {k, v};
                    }
                }
            }
            k = nodes_[v].next;
        }
        return {npos, npos};
    }
    // Number of children (a map's entries count twice).
    [[nodiscard]] std::size_t child_count(std::uint32_t i) const {
        std::size_t n = 0;
        for ([[maybe_unused]] std::uint32_t c : children(i)) {
            ++n;
        }
        return n;
    }

    // Building (the scanner and tree_from_yaml).
    std::vector<DocNode>& nodes() { return nodes_; }
    [[nodiscard]] const std::vector<DocNode>& nodes() const { return nodes_; }
    // Keeps a decoded value alive as long as the tree; the view stays valid.
    std::string_view own(std::string value) { return owned_.emplace_back(std::move(value)); }

private:
    std::vector<DocNode> nodes_;
    std::deque<std::string> owned_;  // a deque never moves its strings
};

struct ScanResult {
    bool accepted = false;
    DocTree tree;
    // Why the text was refused, and where: "tab at line 3". Meant for
    // counting fallbacks, not for users (yaml-cpp reports real errors).
    std::string refusal;
    std::size_t refusal_pos = 0;
};

// Reads `text` (which must outlive the tree) if it stays within the subset
// above. Never throws on any input; refusal says why not.
ScanResult scan_document(std::string_view text);

}  // namespace crossover::xds
