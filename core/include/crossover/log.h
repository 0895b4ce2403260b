// Logging service the core lends to every component.
#pragma once

#include <string_view>

namespace crossover {

enum class LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3 };

class Logger {
public:
    virtual ~Logger() = default;
    // Thread-safe. `component` is the user's name for the component.
    virtual void log(LogLevel level, std::string_view component,
                     std::string_view message) noexcept = 0;
    [[nodiscard]] virtual bool enabled(LogLevel level) const noexcept = 0;
};

}  // namespace crossover
