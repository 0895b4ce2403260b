#include "held_logger.h"

namespace crossover::core {

void HeldLogger::hold() {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (mode_ == Mode::Pass) {
        mode_ = Mode::Hold;
        owner_ = std::this_thread::get_id();
    }
}

void HeldLogger::release() {
    // Written under the lock, so that a line logged meanwhile cannot overtake the held ones.
    const std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& line : held_) {
        target_.log(line.level, line.component, line.message);
    }
    held_.clear();
    held_.shrink_to_fit();
    mode_ = Mode::Pass;
}

void HeldLogger::drop() {
    const std::lock_guard<std::mutex> lock(mutex_);
    held_.clear();
    mode_ = Mode::Drop;
}

void HeldLogger::log(LogLevel level, std::string_view component,
                     std::string_view message) noexcept {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (mode_ == Mode::Pass || std::this_thread::get_id() == owner_) {
        target_.log(level, component, message);
        return;
    }
    if (mode_ == Mode::Drop || !target_.enabled(level)) {
        return;
    }
    // Out of memory, the line is lost, as a full pipe would lose it.
    try {
        held_.push_back(Line{level, std::string(component), std::string(message)});
    } catch (...) {  // NOLINT(bugprone-empty-catch)
    }
}

}  // namespace crossover::core
