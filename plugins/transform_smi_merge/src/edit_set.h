// The edits every target made to one document, kept between runs so that a
// canary step swaps one target's edits for its new ones instead of collecting
// and sorting all of them again.
//
// The set holds what apply_edits applies: identical edits (routes sharing text
// through a YAML anchor) once, counted per target that made them, sorted by
// position; two different edits that overlap or sit at the same position are
// a conflict (apply_edits throws EditConflict for them).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "rds_index.h"

namespace crossover::smi_merge {

class EditSet {
public:
    EditSet() = default;
    // From edits apply_edits accepted (no conflicts among them).
    explicit EditSet(std::vector<TextEdit> edits);

    // Removes one target's edit; it must have been added.
    void remove(const TextEdit& edit);
    // Adds one target's edit; false (and nothing added) when it conflicts with
    // another edit of the set.
    [[nodiscard]] bool add(const TextEdit& edit);
    // `content` with the edits applied: what apply_edits returns for them.
    [[nodiscard]] std::string apply(const std::string& content) const;

    [[nodiscard]] std::size_t size() const { return entries_.size(); }

private:
    struct Entry {
        TextEdit edit;
        std::size_t owners = 1;
    };
    std::vector<Entry> entries_;  // by position, at most one per position
};

}  // namespace crossover::smi_merge
