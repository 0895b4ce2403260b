// The path of a field inside a message being read or checked, such as
// "resources[0].virtual_hosts[1].routes[0].route", written out only when it
// is named (an error, a noted cluster): a chain of segments on the stack,
// each pointing at the one before, so that a walk over thousands of fields
// builds no string for each. A segment points at its parent: keep the parent
// alive (a named local or a parameter, never a temporary in the same
// expression).
#pragma once

#include <charconv>
#include <string>

#include "crossover/json.h"

namespace crossover::envoy {

struct FieldPath {
    const FieldPath* parent = nullptr;
    const std::string* name = nullptr;  // a field's name; without a parent, the whole path
    int index = -1;                     // "[index]"
    const std::string* key = nullptr;   // "[\"key\"]"

    // A path given whole ("" for the document itself); `text` must outlive it.
    static FieldPath root(const std::string& text) {
        return FieldPath{nullptr, &text, -1, nullptr};
    }
    // "parent.name" ("name" when parent is empty); `name` must outlive it.
    static FieldPath field(const FieldPath& parent, const std::string& name) {
        return FieldPath{&parent, &name, -1, nullptr};
    }
    // "parent[index]".
    static FieldPath item(const FieldPath& parent, int index) {
        return FieldPath{&parent, nullptr, index, nullptr};
    }
    // "parent[\"key\"]"; `key` must outlive it.
    static FieldPath entry(const FieldPath& parent, const std::string& key) {
        return FieldPath{&parent, nullptr, -1, &key};
    }

    [[nodiscard]] std::string str() const {
        std::string out;
        out.reserve(96);
        append_to(out);
        return out;
    }
    void append_to(std::string& out) const {
        if (parent == nullptr) {
            if (name != nullptr) {
                out += *name;
            }
            return;
        }
        parent->append_to(out);
        if (name != nullptr) {
            out += out.empty() ? "" : ".";
            out += *name;
        } else {
            out += '[';
            if (key != nullptr) {
                out += json::quoted(*key);
            } else {
                char digits[16];
                const auto end = std::to_chars(digits, digits + sizeof digits, index).ptr;
                out.append(digits, end);
            }
            out += ']';
        }
    }
};

}  // namespace crossover::envoy
