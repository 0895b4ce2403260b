// "Did you mean" hints for misspelt names (options, plugin types, commands).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace crossover::core {

// Levenshtein distance between two words.
std::size_t edit_distance(const std::string& a, const std::string& b);

// The candidate closest to `word` within two edits, or "" when none is.
std::string closest(const std::string& word, const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" when a candidate is close, else " (known: a, b)".
std::string suggest(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace crossover::core
