#include "change_log.h"

namespace crossover::smi_merge {

void log_weight_changes(const ComponentConfig& config, const std::vector<std::string>& changes,
                        std::string_view what) {
    // A canary step is a line or a few; a burst is one summary line rather than one write per
    // object.
    constexpr std::size_t kLinesEach = 3;
    if (changes.size() <= kLinesEach) {
        for (const auto& change : changes) {
            config.log(LogLevel::Info, "weights set: " + change);
        }
        return;
    }
    config.log(LogLevel::Info,
               "weights set for " + std::to_string(changes.size()) + " " + std::string(what) +
                   " and documents, the first: " + changes.front() + " (each at debug level)");
    if (config.logger != nullptr && config.logger->enabled(LogLevel::Debug)) {
        for (const auto& change : changes) {
            config.log(LogLevel::Debug, "weights set: " + change);
        }
    }
}

}  // namespace crossover::smi_merge
