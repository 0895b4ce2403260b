#include "resource_layout.h"

namespace crossover::envoy_validate {

namespace {

struct Line {
    std::size_t begin = 0;   // first byte
    std::size_t end = 0;     // the '\n' (or the end of the text)
    std::size_t indent = 0;  // leading spaces
    bool blank_or_comment = false;
    bool tab_in_indent = false;
};

Line line_at(std::string_view text, std::size_t begin) {
    Line l;
    l.begin = begin;
    l.end = text.find('\n', begin);
    if (l.end == std::string_view::npos) {
        l.end = text.size();
    }
    std::size_t p = begin;
    while (p < l.end && text[p] == ' ') {
        ++p;
    }
    l.indent = p - begin;
    l.tab_in_indent = p < l.end && text[p] == '\t';
    l.blank_or_comment = p == l.end || text[p] == '#' || (text[p] == '\r' && p + 1 == l.end);
    return l;
}

std::size_t next_line(std::string_view text, const Line& l) {
    return l.end < text.size() ? l.end + 1 : text.size();
}

// "- item" (or a lone "-") at the line's indentation.
bool is_item(std::string_view text, const Line& l) {
    const std::size_t p = l.begin + l.indent;
    return p < l.end && text[p] == '-' && (p + 1 == l.end || text[p + 1] == ' ');
}

// `key` followed by ':' at the line's indentation, then nothing but spaces
// and a comment.
bool is_key(std::string_view text, const Line& l, std::string_view key) {
    const std::string_view line = text.substr(l.begin + l.indent, l.end - l.begin - l.indent);
    if (line.substr(0, key.size()) != key || line.substr(key.size(), 1) != ":") {
        return false;
    }
    std::size_t p = key.size() + 1;
    if (p == line.size()) {
        return true;
    }
    if (line[p] != ' ') {
        return false;
    }
    while (p < line.size() && line[p] == ' ') {
        ++p;
    }
    return p == line.size() || line[p] == '#';
}

}  // namespace

std::optional<ResourceLayout> scan_resources(std::string_view text) {
    return scan_list(text, "resources", 0);
}

std::optional<ResourceLayout> scan_list(std::string_view text, std::string_view key,
                                        std::size_t key_column) {
    std::size_t pos = 0;
    bool found = false;
    std::size_t key_line = 0;
    while (pos < text.size() && !found) {
        const Line l = line_at(text, pos);
        if (text[l.begin] == '%') {
            return std::nullopt;  // a directive: tags could mean something else in an item alone
        }
        found = l.indent == key_column && is_key(text, l, key);
        key_line = l.begin;
        pos = next_line(text, l);
    }
    if (!found) {
        return std::nullopt;
    }
    ResourceLayout layout;
    layout.key_line = key_line;
    while (pos < text.size()) {
        const Line l = line_at(text, pos);
        if (l.tab_in_indent) {
            return std::nullopt;
        }
        if (!l.blank_or_comment) {
            if (layout.items.empty()) {
                if (!is_item(text, l) || l.indent < key_column) {
                    return std::nullopt;  // a flow list, a scalar, ...
                }
                layout.column = l.indent;
                layout.items.push_back({l.begin, 0});
            } else if (l.indent == layout.column && is_item(text, l)) {
                layout.items.back().end = l.begin;
                layout.items.push_back({l.begin, 0});
            } else if (l.indent <= layout.column) {
                layout.items.back().end = l.begin;  // the list ends: the tail starts here
                return layout;
            }
        }
        pos = next_line(text, l);
    }
    if (layout.items.empty()) {
        return std::nullopt;
    }
    layout.items.back().end = text.size();
    return layout;
}

std::optional<std::size_t> item_key_column(std::string_view text) {
    std::size_t p = 0;
    while (p < text.size() && text[p] == ' ') {
        ++p;
    }
    if (p + 1 >= text.size() || text[p] != '-' || text[p + 1] != ' ') {
        return std::nullopt;
    }
    ++p;
    while (p < text.size() && text[p] == ' ') {
        ++p;
    }
    if (p == text.size() || text[p] == '\n' || text[p] == '\r' || text[p] == '#' ||
        text[p] == '\t') {
        return std::nullopt;
    }
    return p;
}

}  // namespace crossover::envoy_validate
