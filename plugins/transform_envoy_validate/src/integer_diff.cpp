#include "integer_diff.h"

#include <algorithm>

namespace crossover::envoy_validate {

namespace {

bool digit(char c) {
    return c >= '0' && c <= '9';
}

}  // namespace

std::optional<std::vector<IntegerChange>> integer_changes(std::string_view before,
                                                          std::string_view after,
                                                          std::size_t max_changes) {
    std::vector<IntegerChange> changes;
    std::size_t i = 0;  // in before
    std::size_t j = 0;  // in after; before[resume..i) == after[j - (i - resume)..j)
    std::size_t resume = 0;
    for (;;) {
        const auto [pa, pb] =
            std::mismatch(before.begin() + static_cast<std::ptrdiff_t>(i), before.end(),
                          after.begin() + static_cast<std::ptrdiff_t>(j), after.end());
        i = static_cast<std::size_t>(pa - before.begin());
        j = static_cast<std::size_t>(pb - after.begin());
        if (i == before.size() && j == after.size()) {
            return changes;
        }
        // Back to the start of the digit run both texts share up to here.
        std::size_t k = 0;
        while (i - k > resume && digit(before[i - k - 1])) {
            ++k;
        }
        IntegerChange c{i - k, 0, j - k, 0};
        std::size_t old_end = i;
        std::size_t new_end = j;
        while (old_end < before.size() && digit(before[old_end])) {
            ++old_end;
        }
        while (new_end < after.size() && digit(after[new_end])) {
            ++new_end;
        }
        c.old_length = old_end - c.old_offset;
        c.new_length = new_end - c.new_offset;
        if (old_end == i && new_end == j) {
            return std::nullopt;  // a difference outside any digit run
        }
        if (c.old_length == 0 || c.new_length == 0 || changes.size() == max_changes) {
            return std::nullopt;
        }
        changes.push_back(c);
        i = old_end;
        j = new_end;
        resume = i;
    }
}

}  // namespace crossover::envoy_validate
