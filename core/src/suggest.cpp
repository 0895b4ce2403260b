#include "suggest.h"

#include <algorithm>

namespace crossover::core {

std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> prev(b.size() + 1);
    std::vector<std::size_t> cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) {
        prev[j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::string closest(const std::string& word, const std::vector<std::string>& candidates) {
    std::string best;
    std::size_t best_d = 3;
    for (const auto& c : candidates) {
        const std::size_t d = edit_distance(word, c);
        if (d < best_d) {
            best_d = d;
            best = c;
        }
    }
    return best;
}

std::string suggest(const std::string& word, const std::vector<std::string>& candidates) {
    if (const std::string best = closest(word, candidates); !best.empty()) {
        return " (did you mean '" + best + "'?)";
    }
    if (candidates.empty()) {
        return "";
    }
    std::string out = " (known: ";
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        out += (i ? ", " : "") + candidates[i];
    }
    return out + ")";
}

}  // namespace crossover::core
