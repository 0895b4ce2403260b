// Process-wide logger: one line per event on stderr, text or JSON.
#pragma once

#include <atomic>
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

// One log line as StderrLogger writes it (with the newline).
std::string format_log_line(LogLevel level, std::string_view component, std::string_view message,
                            LogFormat format);

// Errors reported outside the engine (start-up, reload): "error: <message>" on
// stderr, or a JSON log line once set_error_format(Json) was called, so that
// in JSON mode every line is JSON.
void set_error_format(LogFormat format) noexcept;
void print_error(std::string_view message) noexcept;
// A command-line mistake: `crossover: MESSAGE` as text, a JSON error line in JSON mode.
void print_usage_error(std::string_view message) noexcept;
// --log-format json anywhere on the command line makes usage errors JSON, even
// those found before the flag is reached.
void set_error_format_from_args(int argc, char** argv) noexcept;

}  // namespace crossover::core
