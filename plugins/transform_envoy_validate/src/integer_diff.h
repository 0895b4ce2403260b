// Where two texts differ, when they differ only in runs of decimal digits:
// a canary step rewrites weights and nothing else. Used to re-check only the
// numbers that changed instead of reading a whole document again.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace crossover::envoy_validate {

struct IntegerChange {
    std::size_t old_offset = 0;  // the whole digit run in the old text
    std::size_t old_length = 0;
    std::size_t new_offset = 0;  // and in the new one
    std::size_t new_length = 0;
};

// The digit runs that differ, in order; an empty list when the texts are
// equal; nullopt when anything but whole digit runs differs (or when there
// are more than `max_changes` of them).
std::optional<std::vector<IntegerChange>> integer_changes(std::string_view before,
                                                          std::string_view after,
                                                          std::size_t max_changes);

}  // namespace crossover::envoy_validate
