// The document scanner of doc_tree.h. It recognises a strict subset of YAML
// and refuses everything else rather than guess: a refusal only costs the
// caller a yaml-cpp parse, a wrong answer would change what the user wrote.
// Where yaml-cpp's reading is subtle (plain scalars that may continue on the
// next line, `:` inside flow scalars, escapes beyond the common ones), the
// scanner refuses.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "crossover/utf8.h"
#include "crossover_envoy/doc_tree.h"

namespace crossover::xds {
namespace {

struct Refused {
    const char* why;
    std::size_t pos;
};

// Deeper than any xDS document; keeps the recursion bounded.
constexpr int kMaxDepth = 100;
// yaml-cpp refuses simple keys longer than 1024 characters.
constexpr std::size_t kMaxKeyBytes = 1000;
// Maps with more keys than this check duplicates with a hash set.
constexpr std::size_t kLinearKeys = 32;

bool is_null_word(std::string_view s) {
    return s == "~" || s == "null" || s == "Null" || s == "NULL";
}

// Only UTF-8 without control characters (but '\n'), tabs, CR, DEL, C1
// controls, line/paragraph separators or byte order marks: then every byte
// yaml-cpp reads is one byte of the text and no character has a second
// meaning.
void check_bytes(std::string_view t) {
    const auto* s = reinterpret_cast<const unsigned char*>(t.data());
    const std::size_t n = t.size();
    constexpr std::uint64_t kOnes = 0x0101010101010101U;
    constexpr std::uint64_t kHighs = 0x8080808080808080U;
    for (std::size_t i = 0; i < n;) {
        // Eight bytes at once while none is >= 0x80, < 0x20 or 0x7F (most
        // words of a document; a word with a line break takes the byte path).
        if (i + 8 <= n) {
            std::uint64_t w = 0;
            std::memcpy(&w, s + i, 8);
            const std::uint64_t del = w ^ (kOnes * 0x7F);
            const std::uint64_t odd =
                (w & kHighs) | ((w - kOnes * 0x20) & ~w & kHighs) | ((del - kOnes) & ~del & kHighs);
            if (odd == 0) {
                i += 8;
                continue;
            }
        }
        const unsigned c = s[i];
        if (c < 0x80) {
            if ((c < 0x20 && c != '\n') || c == 0x7F) {
                throw Refused{c == '\t'   ? "tab"
                              : c == '\r' ? "carriage return"
                                          : "control character",
                              i};
            }
            ++i;
            continue;
        }
        std::size_t len = 0;
        unsigned cp = 0;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1Fu;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0Fu;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07u;
        } else {
            throw Refused{"invalid UTF-8", i};
        }
        if (i + len > n) {
            throw Refused{"invalid UTF-8", i};
        }
        for (std::size_t k = 1; k < len; ++k) {
            if ((s[i + k] & 0xC0u) != 0x80u) {
                throw Refused{"invalid UTF-8", i};
            }
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF)) {
            throw Refused{"invalid UTF-8", i};
        }
        if (cp < 0xA0 || cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF) {
            throw Refused{cp == 0xFEFF ? "byte order mark" : "control character", i};
        }
        i += len;
    }
}

// A scalar token before it becomes a node (a key is only known to be a key,
// and its map to exist, once the ':' after it is seen).
struct Token {
    std::size_t pos = 0;
    std::size_t end = 0;
    std::uint32_t line = 0;
    std::string_view value;
    bool quoted = false;
};

class Scanner {
public:
    Scanner(std::string_view text, DocTree& tree) : t_(text), n_(text.size()), tree_(tree) {}

    void run() {
        if (n_ >= DocTree::npos) {
            throw Refused{"document too large", 0};
        }
        check_bytes(t_);
        // xDS documents in block style hold about one node per nine or ten bytes: reserving
        // for one per eight spares the vector's doublings, each a copy of every node so far and
        // new pages to fault in (a 1 MiB RDS is about 5 MiB of nodes). Pages reserved but not
        // reached are never touched.
        tree_.nodes().reserve(n_ / 8 + 16);
        if (at_marker()) {
            if (t_.compare(0, 3, "---") != 0) {
                refuse("document end marker");
            }
            p_ = 3;
            if (!line_end_ok()) {
                refuse("content on the '---' line");
            }
        }
        if (!skip_to_content()) {
            push_null(0);
        } else {
            block_node(-1, false);
        }
        if (skip_to_content()) {
            refuse("more than one node at the top level");
        }
    }

private:
    [[noreturn]] void refuse(const char* why) const { throw Refused{why, p_}; }

    [[nodiscard]] char at(std::size_t i) const { return i < n_ ? t_[i] : '\0'; }
    [[nodiscard]] bool blank_or_end(std::size_t i) const {
        return i >= n_ || t_[i] == ' ' || t_[i] == '\n';
    }
    [[nodiscard]] std::size_t column() const { return p_ - line_start_; }

    // "---" or "..." at the start of a line: yaml-cpp ends the document there.
    [[nodiscard]] bool at_marker() const {
        return p_ == line_start_ && p_ + 3 <= n_ &&
               (t_.compare(p_, 3, "---") == 0 || t_.compare(p_, 3, "...") == 0) &&
               blank_or_end(p_ + 3);
    }

    [[nodiscard]] bool comment_here() const {
        return t_[p_] == '#' && (p_ == line_start_ || t_[p_ - 1] == ' ');
    }

    // Past spaces, comments and line breaks to the next content; false at the
    // end of the text.
    bool skip_to_content() {
        for (;;) {
            while (p_ < n_ && t_[p_] == ' ') {
                ++p_;
            }
            if (p_ >= n_) {
                return false;
            }
            if (comment_here()) {
                const std::size_t nl = t_.find('\n', p_);
                p_ = nl == std::string_view::npos ? n_ : nl;
                continue;
            }
            if (t_[p_] != '\n') {
                return true;
            }
            ++p_;
            ++line_;
            line_start_ = p_;
            if (at_marker()) {
                refuse("document marker");
            }
        }
    }

    // Only spaces and maybe a comment up to the end of the line.
    bool line_end_ok() {
        while (p_ < n_ && t_[p_] == ' ') {
            ++p_;
        }
        return p_ >= n_ || t_[p_] == '\n' || comment_here();
    }

    std::uint32_t push(DocKind kind, std::size_t pos, std::uint32_t line) {
        DocNode node;
        node.kind = kind;
        node.pos = pos;
        node.line = line;
        tree_.nodes().push_back(node);
        const auto index = static_cast<std::uint32_t>(tree_.nodes().size() - 1);
        tree_.nodes()[index].next = index + 1;
        return index;
    }
    void push_null(std::size_t pos) {
        push(DocKind::Null, pos, line_);
        tree_.nodes().back().end = pos;
    }
    void push_scalar(const Token& tok) {
        const bool null = !tok.quoted && is_null_word(tok.value);
        push(null ? DocKind::Null : DocKind::Scalar, tok.pos, tok.line);
        DocNode& node = tree_.nodes().back();
        node.end = tok.end;
        node.quoted = tok.quoted;
        if (!null) {
            node.value = tok.value;
        }
    }
    void close(std::uint32_t index, std::size_t end) {
        DocNode& node = tree_.nodes()[index];
        node.next = tree_.size();
        node.end = end;
    }
    [[nodiscard]] std::size_t last_end() const { return tree_.nodes().back().end; }

    void enter() {
        if (++depth_ > kMaxDepth) {
            refuse("nested too deep");
        }
    }

    // ---- scalars --------------------------------------------------------------

    // A single- or double-quoted scalar at p_, on one line. Its value views
    // the text unless '' or a backslash escape had to be decoded.
    Token quoted() {
        const bool single = t_[p_] == '\'';
        Token tok{p_, 0, line_, {}, true};
        const std::size_t start = ++p_;
        bool escaped = false;
        for (;;) {
            const std::size_t q = t_.find_first_of(single ? "'\n" : "\"\\\n", p_);
            if (q == std::string_view::npos || t_[q] == '\n') {
                p_ = q == std::string_view::npos ? n_ : q;
                refuse("quoted scalar over more than one line");
            }
            const bool escape = single ? at(q + 1) == '\'' : t_[q] == '\\';
            p_ = q + 1;
            if (!escape) {
                break;
            }
            if (p_ >= n_ || t_[p_] == '\n') {
                refuse("quoted scalar over more than one line");
            }
            escaped = true;
            ++p_;
        }
        tok.end = p_;
        const std::string_view raw = t_.substr(start, p_ - 1 - start);
        if (!escaped) {
            tok.value = raw;
        } else if (single) {
            std::string value;
            value.reserve(raw.size());
            for (std::size_t i = 0; i < raw.size(); ++i) {
                value.push_back(raw[i]);
                if (raw[i] == '\'') {
                    ++i;  // the second quote of ''
                }
            }
            tok.value = tree_.own(std::move(value));
        } else {
            tok.value = tree_.own(unescape(raw, start));
        }
        return tok;
    }

    // The escapes of a double-quoted scalar; the rarer ones (\N, \_, \L, \P,
    // an escaped space or line break) are refused.
    static std::string unescape(std::string_view raw, std::size_t start) {
        std::string out;
        out.reserve(raw.size());
        for (std::size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] != '\\') {
                out.push_back(raw[i]);
                continue;
            }
            const std::size_t at_escape = start + i;
            const char e = raw[++i];
            switch (e) {
                case '0': out.push_back('\0'); break;
                case 'a': out.push_back('\a'); break;
                case 'b': out.push_back('\b'); break;
                case 't': out.push_back('\t'); break;
                case 'n': out.push_back('\n'); break;
                case 'v': out.push_back('\v'); break;
                case 'f': out.push_back('\f'); break;
                case 'r': out.push_back('\r'); break;
                case 'e': out.push_back('\x1B'); break;
                case '"': out.push_back('"'); break;
                case '/': out.push_back('/'); break;
                case '\\': out.push_back('\\'); break;
                case 'x':
                case 'u':
                case 'U': {
                    const std::size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    if (i + digits >= raw.size()) {
                        throw Refused{"unsupported escape", at_escape};
                    }
                    unsigned cp = 0;
                    for (std::size_t k = 1; k <= digits; ++k) {
                        const int d = hex_digit(raw[i + k]);
                        if (d < 0) {
                            throw Refused{"unsupported escape", at_escape};
                        }
                        cp = (cp << 4) | static_cast<unsigned>(d);
                    }
                    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
                        throw Refused{"unsupported escape", at_escape};
                    }
                    append_utf8(out, cp);
                    i += digits;
                    break;
                }
                default: throw Refused{"unsupported escape", at_escape};
            }
        }
        return out;
    }

    // A plain scalar's first character; stricter than YAML (no '?' or ':'
    // start, '-' only before a digit, a letter or '.').
    void check_plain_start() const {
        const char c = t_[p_];
        if (std::string_view(",[]{}#&*!|>'\"%@`?:").find(c) != std::string_view::npos) {
            refuse(c == '&'               ? "anchor"
                   : c == '*'             ? "alias"
                   : c == '!'             ? "tag"
                   : c == '|' || c == '>' ? "block scalar"
                   : c == '?'             ? "complex key"
                                          : "plain scalar start");
        }
        if (c == '-') {
            const char d = at(p_ + 1);
            if (!((d >= '0' && d <= '9') || (d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z') ||
                  d == '.')) {
                refuse("plain scalar start");
            }
        }
    }

    // Block context: up to ": ", " #" or the end of the line.
    Token block_plain() {
        check_plain_start();
        Token tok{p_, 0, line_, {}, false};
        for (; p_ < n_; ++p_) {
            const char c = t_[p_];
            if (c == '\n' || (c == ':' && blank_or_end(p_ + 1)) ||
                (c == '#' && t_[p_ - 1] == ' ')) {
                break;
            }
        }
        end_plain(tok);
        return tok;
    }

    // A plain scalar ends where the scan stopped, without its trailing spaces.
    void end_plain(Token& tok) const {
        std::size_t end = p_;
        while (t_[end - 1] == ' ') {
            --end;
        }
        tok.end = end;
        tok.value = t_.substr(tok.pos, end - tok.pos);
    }

    // Flow context: up to a ',', a bracket, a ':' or a '?'; on one line.
    Token flow_plain(bool one_line) {
        check_plain_start();
        Token tok{p_, 0, line_, {}, false};
        for (; p_ < n_; ++p_) {
            const char c = t_[p_];
            if (c == '\n' || c == ',' || c == '[' || c == ']' || c == '{' || c == '}' || c == ':' ||
                c == '?' || (c == '#' && t_[p_ - 1] == ' ')) {
                break;
            }
        }
        end_plain(tok);
        // A scalar that goes on after a line break is folded by yaml-cpp; one
        // that stops at '?' or a bracket is read otherwise. In a collection
        // over several lines (JSON) a ',' or the closing bracket may follow
        // on a later line.
        const bool line_end = line_end_ok();
        if (!line_end && p_ < n_ && t_[p_] == ':') {
            return tok;  // the caller decides whether a ':' may follow
        }
        if (line_end && !one_line) {
            skip_to_content();
        }
        if (p_ < n_ && (t_[p_] == ',' || t_[p_] == ']' || t_[p_] == '}')) {
            return tok;
        }
        refuse("plain scalar in a flow collection not ended by ',' or a bracket");
    }

    // ---- keys -------------------------------------------------------------------

    // Remembers the keys of the maps being read, to refuse duplicates.
    struct KeySet {
        std::size_t base = 0;
        std::unordered_set<std::string_view> large;
    };
    void add_key(KeySet& set, const Token& key) {
        if (key.value.size() > kMaxKeyBytes) {
            refuse("key too long");
        }
        if (!key.quoted && is_null_word(key.value)) {
            refuse("null key");
        }
        if (!set.large.empty()) {
            if (!set.large.insert(key.value).second) {
                refuse("duplicate key");
            }
            return;
        }
        const auto begin = keys_.begin() + static_cast<std::ptrdiff_t>(set.base);
        if (std::find(begin, keys_.end(), key.value) != keys_.end()) {
            refuse("duplicate key");
        }
        keys_.push_back(key.value);
        if (keys_.size() - set.base > kLinearKeys) {
            set.large.insert(keys_.begin() + static_cast<std::ptrdiff_t>(set.base), keys_.end());
        }
    }
    void drop_keys(const KeySet& set) { keys_.resize(std::min(keys_.size(), set.base)); }

    // ---- block context -----------------------------------------------------------

    [[nodiscard]] bool at_seq_entry() const {
        return p_ < n_ && t_[p_] == '-' && blank_or_end(p_ + 1);
    }

    // A node starting at p_ (content) in block context. `after_key`: it is on
    // its key's line, so it can only be a scalar or a flow collection.
    void block_node(long parent_indent, bool after_key) {
        const char c = t_[p_];
        if (at_seq_entry()) {
            if (after_key) {
                refuse("sequence on its key's line");
            }
            block_seq();
            return;
        }
        if (c == '[' || c == '{') {
            // Nested in block context a flow collection must close on its
            // line; the top-level one (a JSON document) may span lines.
            flow_node(parent_indent >= 0);
            if (!line_end_ok()) {
                refuse(p_ < n_ && t_[p_] == ':' ? "complex key" : "text after a flow collection");
            }
            return;
        }
        const Token tok = c == '"' || c == '\'' ? quoted() : block_plain();
        if (p_ < n_ && t_[p_] == ':' && blank_or_end(p_ + 1)) {
            if (after_key) {
                refuse("map on its key's line");
            }
            block_map(tok);
            return;
        }
        if (!line_end_ok()) {
            refuse(p_ < n_ && t_[p_] == ':' ? "space before ':'" : "text after a scalar");
        }
        push_scalar(tok);
    }

    // The value of a block map entry or sequence item that starts on a later
    // line (or is empty).
    void block_child_on_next_line(std::size_t indent, bool indentless_seq) {
        const std::size_t here = p_;
        if (!skip_to_content()) {
            push_null(here);
            return;
        }
        if (column() > indent) {
            block_node(static_cast<long>(indent), false);
        } else if (indentless_seq && column() == indent && at_seq_entry()) {
            block_seq();
        } else {
            push_null(here);
        }
    }

    // The value of a map entry (`in_map`) or a sequence item at `indent`,
    // p_ just past its ':' or '-': on this line or the next ones.
    void block_entry_value(std::size_t indent, bool in_map) {
        if (line_end_ok()) {
            block_child_on_next_line(indent, in_map);
        } else {
            block_node(static_cast<long>(indent), in_map);
        }
    }

    // After an entry of the block collection `index` at `indent`: true when
    // the next line holds another entry at that column (p_ on it); else the
    // collection is closed.
    bool next_block_entry(std::uint32_t index, std::size_t indent, const char* deeper) {
        const std::size_t end = last_end();
        if (!skip_to_content() || column() < indent) {
            close(index, end);
            return false;
        }
        if (column() > indent) {
            refuse(deeper);
        }
        return true;
    }

    // A block map whose first key was just read; p_ is at its ':'.
    void block_map(Token key) {
        enter();
        const std::size_t indent = key.pos - line_start_;
        const std::uint32_t index = push(DocKind::Map, key.pos, key.line);
        KeySet keys{keys_.size(), {}};
        for (;;) {
            add_key(keys, key);
            push_scalar(key);
            ++p_;  // ':'
            block_entry_value(indent, true);
            if (!next_block_entry(index, indent, "line indented more than its map's keys")) {
                break;
            }
            if (at_seq_entry()) {
                refuse("sequence entry among map keys");
            }
            const char c = t_[p_];
            key = c == '"' || c == '\'' ? quoted() : block_plain();
            if (!(p_ < n_ && t_[p_] == ':' && blank_or_end(p_ + 1))) {
                refuse("map entry without ': '");
            }
        }
        drop_keys(keys);
        --depth_;
    }

    // A block sequence; p_ is at its first '-'.
    void block_seq() {
        enter();
        const std::size_t indent = column();
        const std::uint32_t index = push(DocKind::Sequence, p_, line_);
        for (;;) {
            ++p_;  // '-'
            block_entry_value(indent, false);
            if (!next_block_entry(index, indent,
                                  "line indented more than its sequence's entries")) {
                break;
            }
            if (!at_seq_entry()) {
                close(index, last_end());  // the next key of the map this sequence is the value of
                break;
            }
        }
        --depth_;
    }

    // ---- flow context -------------------------------------------------------------

    // Past spaces, comments and (unless `one_line`) line breaks.
    void skip_flow_space(bool one_line) {
        if (one_line) {
            if (line_end_ok() && p_ < n_) {
                refuse("flow collection over more than one line");
            }
            return;
        }
        skip_to_content();
    }

    void flow_node(bool one_line) {
        if (p_ >= n_) {
            refuse("unclosed flow collection");
        }
        const char c = t_[p_];
        if (c == '{') {
            flow_map(one_line);
        } else if (c == '[') {
            flow_seq(one_line);
        } else if (c == '"' || c == '\'') {
            push_scalar(quoted());
        } else {
            const Token tok = flow_plain(one_line);
            if (tok.value.empty()) {
                refuse("empty entry in a flow collection");
            }
            push_scalar(tok);
        }
    }

    // Opens the flow collection `kind` at p_; true when it is empty (and
    // then already closed).
    bool open_flow(DocKind kind, bool one_line, std::uint32_t& index) {
        enter();
        index = push(kind, p_, line_);
        tree_.nodes()[index].flow = true;
        ++p_;  // '{' or '['
        skip_flow_space(one_line);
        if (at(p_) != (kind == DocKind::Map ? '}' : ']')) {
            return false;
        }
        ++p_;
        close(index, p_);
        --depth_;
        return true;
    }

    // After an entry of a flow collection: true when a ',' and another entry
    // follow; false past the closing bracket, which closes `index`.
    bool next_flow_entry(bool one_line, std::uint32_t index) {
        const char closer = tree_[index].kind == DocKind::Map ? '}' : ']';
        skip_flow_space(one_line);
        if (at(p_) == ',') {
            ++p_;
            skip_flow_space(one_line);
            if (at(p_) == closer) {
                refuse("trailing ',' in a flow collection");
            }
            return true;
        }
        if (at(p_) == closer) {
            ++p_;
            close(index, p_);
            --depth_;
            return false;
        }
        refuse(closer == ']' && at(p_) == ':' ? "map inside a flow sequence"
                                              : "flow entry not followed by ',' or its bracket");
    }

    void flow_map(bool one_line) {
        std::uint32_t index = 0;
        KeySet keys{keys_.size(), {}};
        if (open_flow(DocKind::Map, one_line, index)) {
            return;
        }
        do {
            if (p_ >= n_) {
                refuse("unclosed flow collection");
            }
            const char c = t_[p_];
            if (c == '{' || c == '[') {
                refuse("complex key");
            }
            const Token key = c == '"' || c == '\'' ? quoted() : flow_plain(one_line);
            if (at(p_) != ':') {
                refuse("flow map entry without ':' right after its key");
            }
            // After a quoted key yaml-cpp takes any ':' as the value
            // indicator (JSON); after a plain one only ": ".
            if (!key.quoted && !blank_or_end(p_ + 1)) {
                refuse("':' in a plain flow key");
            }
            add_key(keys, key);
            push_scalar(key);
            ++p_;
            skip_flow_space(one_line);
            if (p_ >= n_ || t_[p_] == ',' || t_[p_] == '}') {
                refuse("empty value in a flow map");
            }
            flow_node(one_line);
        } while (next_flow_entry(one_line, index));
        drop_keys(keys);
    }

    void flow_seq(bool one_line) {
        std::uint32_t index = 0;
        if (open_flow(DocKind::Sequence, one_line, index)) {
            return;
        }
        do {
            if (p_ >= n_ || t_[p_] == ',') {
                refuse("empty entry in a flow collection");
            }
            flow_node(one_line);
        } while (next_flow_entry(one_line, index));
    }

    std::string_view t_;
    std::size_t n_;
    std::size_t p_ = 0;
    std::uint32_t line_ = 0;
    std::size_t line_start_ = 0;
    int depth_ = 0;
    DocTree& tree_;
    std::vector<std::string_view> keys_;
};

}  // namespace

ScanResult scan_document(std::string_view text) {
    ScanResult result;
    try {
        Scanner(text, result.tree).run();
        result.accepted = true;
    } catch (const Refused& r) {
        result.refusal = r.why;
        result.refusal_pos = r.pos;
        result.tree = DocTree();
    }
    return result;
}

}  // namespace crossover::xds
