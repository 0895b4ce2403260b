// Process-wide logger: one line per event on stderr, text or JSON.
#pragma once

#include <mutex>
#include <string>
#include <string_view>

#include "crossover/log.h"

namespace crossover::core {

enum class LogFormat { Text, Json };

bool parse_log_level(std::string_view text, LogLevel& out);
bool parse_log_format(std::string_view text, LogFormat& out);

class StderrLogger final : public Logger {
public:
    StderrLogger(LogLevel level, LogFormat format) : level_(level), format_(format) {}
    void log(LogLevel level, std::string_view component,
             std::string_view message) noexcept override;
    [[nodiscard]] bool enabled(LogLevel level) const noexcept override {
        return static_cast<int>(level) >= static_cast<int>(level_);
    }
    void set_level(LogLevel level) noexcept { level_ = level; }

private:
    LogLevel level_;
    LogFormat format_;
    std::mutex mutex_;
};

std::string json_escape(std::string_view text);

}  // namespace crossover::core
