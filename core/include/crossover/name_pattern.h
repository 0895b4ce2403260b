// Names built from a pattern with {{placeholder}}s, such as the cluster-name
// options of smi_merge ("{{service}}.{{namespace}}"), kubernetes_endpoints
// ("{{namespace}}/{{service}}:{{port}}") and httproute_merge. A plugin lists
// the placeholders it knows; the pattern is checked once, when the plugin is
// configured, and rendered cheaply per name.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crossover/status.h"

namespace crossover {

class NamePattern {
public:
    // Throws crossover::Error for an empty pattern, an unclosed '{{' or a
    // placeholder not in `known` (spaces inside the braces are ignored).
    NamePattern(const std::string& pattern, std::vector<std::string> known)
        : known_(std::move(known)) {
        if (pattern.empty()) {
            throw Error("empty pattern");
        }
        std::size_t at = 0;
        while (at < pattern.size()) {
            const auto open = pattern.find("{{", at);
            if (open == std::string::npos) {
                pieces_.push_back({kLiteral, pattern.substr(at)});
                break;
            }
            if (open > at) {
                pieces_.push_back({kLiteral, pattern.substr(at, open - at)});
            }
            const auto close = pattern.find("}}", open + 2);
            if (close == std::string::npos) {
                throw Error("unclosed '{{' in '" + pattern + "'");
            }
            std::string var = pattern.substr(open + 2, close - open - 2);
            var.erase(0, var.find_first_not_of(" \t"));
            var.erase(var.find_last_not_of(" \t") + 1);
            std::size_t index = 0;
            while (index < known_.size() && known_[index] != var) {
                ++index;
            }
            if (index == known_.size()) {
                std::string list;
                for (const auto& k : known_) {
                    list += (list.empty() ? "" : ", ") + k;
                }
                throw Error("unknown placeholder '{{" + var + "}}' (known: " + list + ")");
            }
            pieces_.push_back({index, {}});
            at = close + 2;
        }
    }

    // True when the pattern uses the placeholder.
    [[nodiscard]] bool uses(std::string_view var) const {
        for (const auto& p : pieces_) {
            if (p.var != kLiteral && known_[p.var] == var) {
                return true;
            }
        }
        return false;
    }

    // The name, with values[i] standing for known[i].
    [[nodiscard]] std::string render(const std::vector<std::string_view>& values) const {
        std::string out;
        for (const auto& p : pieces_) {
            if (p.var == kLiteral) {
                out += p.text;
            } else if (p.var < values.size()) {
                out += values[p.var];
            }
        }
        return out;
    }

private:
    static constexpr std::size_t kLiteral = static_cast<std::size_t>(-1);
    struct Piece {
        std::size_t var;  // index into known_, or kLiteral
        std::string text;
    };
    std::vector<std::string> known_;
    std::vector<Piece> pieces_;
};

}  // namespace crossover
