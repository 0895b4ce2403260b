// Parsing YAML that comes from outside (manifests, documents, pipeline files)
// within limits, so that no input can make a plugin walk an unbounded tree.
//
// yaml-cpp keeps an alias as a second reference to the node it names: nine
// nested levels of ten aliases parse in microseconds into a tree that every
// walk (validation, conversion, emitting) visits 10^9 times, and "&a [*a]" is a
// cycle that never ends. load_yaml() and load_yaml_all() first walk the
// parser's events once, counting what the aliases would expand to, and refuse
// such input with a YAML::ParserException at the line of the alias; the
// callers report it as they report any syntax error. Text without aliases
// skips that walk unless duplicate keys are checked. An unclosed '[' or '{'
// is reported on its own line, not where yaml-cpp gave up looking for the
// bracket (often lines later). Everything is inline.
#pragma once

#include <algorithm>
#include <cstddef>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

namespace crossover {

struct YamlLimits {
    // Nesting, counted through aliases.
    int max_depth = 200;
    // Values that aliases add once expanded, beyond those written in the text.
    std::size_t max_alias_values = 100000;
    // Refuse a key given twice in one map, as kubectl does (yaml-cpp keeps the
    // first and ignores the rest).
    bool refuse_duplicate_keys = false;
};

namespace detail {

// Counts, per document, the values the tree holds with aliases expanded, and
// checks keys. Throws YAML::ParserException at the offending mark.
class YamlLimitCheck final : public YAML::EventHandler {
public:
    explicit YamlLimitCheck(const YamlLimits& limits) : limits_(limits) {}

    void OnDocumentStart(const YAML::Mark& mark) override {
        // yaml-cpp 0.7 never returns from LoadAll on a stray token after a
        // document ("{a: b},"): it yields an empty document at that same place.
        if (started_ && mark.pos == last_.pos) {
            throw YAML::ParserException(mark, "unexpected text after the document");
        }
        started_ = true;
        last_ = mark;
        anchors_.clear();
        stack_.clear();
        alias_values_ = 0;
    }
    void OnDocumentEnd() override {}

    void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
        leaf(mark, anchor, nullptr);
    }
    void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  const std::string& value) override {
        leaf(mark, anchor, &value);
    }
    void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
        child_of_parent(mark, nullptr);
        const auto it = anchors_.find(anchor);
        if (it == anchors_.end()) {
            return;  // unknown anchor: yaml-cpp reports it
        }
        if (!it->second.closed) {
            throw YAML::ParserException(
                mark, "nested deeper than " + std::to_string(limits_.max_depth) +
                          " levels (or an alias refers to a node that contains it)");
        }
        alias_values_ += it->second.values;
        if (alias_values_ > limits_.max_alias_values) {
            throw YAML::ParserException(mark, "aliases add more than " +
                                                  std::to_string(limits_.max_alias_values) +
                                                  " values once expanded");
        }
        check_depth(mark, depth() + it->second.height);
        finish_child(it->second.values, it->second.height);
    }
    void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                         YAML::EmitterStyle::value style) override {
        open(mark, anchor, false, style == YAML::EmitterStyle::Flow);
    }
    void OnSequenceEnd() override { close(); }
    void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                    YAML::EmitterStyle::value style) override {
        open(mark, anchor, true, style == YAML::EmitterStyle::Flow);
    }
    void OnMapEnd() override { close(); }

    // The innermost '[' or '{' still open, if any: where a "flow not found"
    // error really is (yaml-cpp reports where it gave up, often lines later).
    [[nodiscard]] const YAML::Mark* open_flow() const {
        for (auto it = stack_.rbegin(); it != stack_.rend(); ++it) {
            if (it->flow) {
                return &it->mark;
            }
        }
        return nullptr;
    }

private:
    struct Anchor {
        bool closed = false;
        std::size_t values = 1;
        int height = 1;
    };
    struct Frame {
        bool map = false;
        bool flow = false;
        YAML::Mark mark;
        YAML::anchor_t anchor = 0;
        std::size_t values = 1;  // this node and everything below, aliases expanded
        int child_height = 0;
        bool expect_key = true;
        std::set<std::string> keys;
    };

    [[nodiscard]] int depth() const { return static_cast<int>(stack_.size()); }

    void check_depth(const YAML::Mark& mark, int d) const {
        if (d > limits_.max_depth) {
            throw YAML::ParserException(
                mark, "nested deeper than " + std::to_string(limits_.max_depth) +
                          " levels (or an alias refers to a node that contains it)");
        }
    }

    // Book-keeping in the enclosing map: keys and values alternate there.
    void child_of_parent(const YAML::Mark& mark, const std::string* scalar) {
        if (stack_.empty() || !stack_.back().map) {
            return;
        }
        Frame& parent = stack_.back();
        if (parent.expect_key && scalar != nullptr && limits_.refuse_duplicate_keys &&
            !parent.keys.insert(*scalar).second) {
            throw YAML::ParserException(
                mark, "duplicate key '" + *scalar + "' (each key may appear once in a map)");
        }
        parent.expect_key = !parent.expect_key;
    }

    void finish_child(std::size_t values, int height) {
        if (!stack_.empty()) {
            stack_.back().values += values;
            stack_.back().child_height = std::max(stack_.back().child_height, height);
        }
    }

    void leaf(const YAML::Mark& mark, YAML::anchor_t anchor, const std::string* value) {
        child_of_parent(mark, value);
        check_depth(mark, depth() + 1);
        if (anchor != 0) {
            anchors_[anchor] = Anchor{true, 1, 1};
        }
        finish_child(1, 1);
    }

    void open(const YAML::Mark& mark, YAML::anchor_t anchor, bool map, bool flow) {
        child_of_parent(mark, nullptr);
        check_depth(mark, depth() + 1);
        if (anchor != 0) {
            anchors_[anchor] = Anchor{false, 1, 1};
        }
        Frame f;
        f.map = map;
        f.flow = flow;
        f.mark = mark;
        f.anchor = anchor;
        stack_.push_back(std::move(f));
    }

    void close() {
        if (stack_.empty()) {
            return;
        }
        const std::size_t values = stack_.back().values;
        const int height = stack_.back().child_height + 1;
        const YAML::anchor_t anchor = stack_.back().anchor;
        stack_.pop_back();
        if (anchor != 0) {
            anchors_[anchor] = Anchor{true, values, height};
        }
        finish_child(values, height);
    }

    YamlLimits limits_;
    bool started_ = false;
    YAML::Mark last_;
    std::map<YAML::anchor_t, Anchor> anchors_;
    std::vector<Frame> stack_;
    std::size_t alias_values_ = 0;
};

inline bool unclosed_flow(const YAML::ParserException& e) {
    return e.msg == YAML::ErrorMsg::END_OF_SEQ_FLOW || e.msg == YAML::ErrorMsg::END_OF_MAP_FLOW;
}

// Walks the events of `text`; throws YAML::ParserException.
inline void walk_events(const std::string& text, const YamlLimits& limits, bool multi_document) {
    std::istringstream in(text);
    YAML::Parser parser(in);
    YamlLimitCheck check(limits);
    try {
        while (parser.HandleNextDocument(check)) {
            if (!multi_document) {
                break;
            }
        }
    } catch (const YAML::ParserException& e) {
        const YAML::Mark* opened = check.open_flow();
        if (unclosed_flow(e) && opened != nullptr) {
            throw YAML::ParserException(*opened, e.msg +
                                                     " (the bracket opened here is never "
                                                     "closed)");
        }
        throw;
    }
}

inline void check_yaml_limits(const std::string& text, const YamlLimits& limits,
                              bool multi_document) {
    if (!limits.refuse_duplicate_keys && text.find('*') == std::string::npos && !multi_document) {
        return;  // no alias, nothing to count
    }
    walk_events(text, limits, multi_document);
}

// Runs `load`; a syntax error is reported where it is, not where yaml-cpp
// noticed it.
template <typename F>
auto load_located(const std::string& text, const YamlLimits& limits, bool multi_document,
                  F&& load) {
    try {
        return load();
    } catch (const YAML::ParserException& e) {
        if (unclosed_flow(e)) {
            walk_events(text, limits, multi_document);  // throws the located error
        }
        throw;
    }
}

}  // namespace detail

// YAML::Load within `limits`. Throws YAML::Exception (the mark says where).
inline YAML::Node load_yaml(const std::string& text, const YamlLimits& limits = {}) {
    detail::check_yaml_limits(text, limits, false);
    return detail::load_located(text, limits, false, [&] { return YAML::Load(text); });
}

// YAML::LoadAll within `limits`. Throws YAML::Exception (the mark says where).
inline std::vector<YAML::Node> load_yaml_all(const std::string& text,
                                             const YamlLimits& limits = {}) {
    detail::check_yaml_limits(text, limits, true);
    return detail::load_located(text, limits, true, [&] { return YAML::LoadAll(text); });
}

}  // namespace crossover
