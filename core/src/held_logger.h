// A logger that holds the lines other threads write until the pipeline is known to start.
//
// In one-time mode the engine starts each source's thread as soon as the source exists, while
// the main thread still creates the transforms and sinks after it. Those source threads must
// log as if they had started only after everything was built: their lines wait here and are
// written, in order, once the pipeline runs (release), or never, when building fails and the
// sources are stopped (drop). Lines from the thread that builds the pipeline (the components'
// own start-up messages) pass at once, as before.
#pragma once

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "crossover/log.h"

namespace crossover::core {

class HeldLogger final : public Logger {
public:
    explicit HeldLogger(Logger& target) : target_(target) {}

    // From now on, lines from threads other than the calling one are held.
    void hold();
    // Writes the held lines and passes every later line on at once.
    void release();
    // Forgets the held lines and every later line from another thread.
    void drop();

    void log(LogLevel level, std::string_view component,
             std::string_view message) noexcept override;
    [[nodiscard]] bool enabled(LogLevel level) const noexcept override {
        return target_.enabled(level);
    }

private:
    struct Line {
        LogLevel level;
        std::string component;
        std::string message;
    };
    enum class Mode { Pass, Hold, Drop };

    Logger& target_;
    std::mutex mutex_;
    Mode mode_ = Mode::Pass;
    std::thread::id owner_;  // the thread whose lines are never held
    std::vector<Line> held_;
};

}  // namespace crossover::core
