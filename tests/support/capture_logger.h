// Test support: logger doubles. CaptureLogger keeps every line as
// "<level> <component>: <message>" (level as its number; set
// CROSSOVER_TEST_VERBOSE to also print them, even below the level it says is enabled, so that
// a test sees lines formatted for nothing); QuietLogger drops everything.
#pragma once

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "crossover/log.h"

namespace crossover::test {

class CaptureLogger : public crossover::Logger {
public:
    void log(crossover::LogLevel level, std::string_view component,
             std::string_view message) noexcept override {
        const std::lock_guard<std::mutex> lock(mutex_);
        lines_.push_back(std::to_string(static_cast<int>(level)) + " " + std::string(component) +
                         ": " + std::string(message));
        entries_.push_back({level, std::string(message)});
        if (std::getenv("CROSSOVER_TEST_VERBOSE") != nullptr ||
            std::getenv("KUBE_TEST_VERBOSE") != nullptr) {
            std::fprintf(stderr, "%s\n", lines_.back().c_str());
        }
    }
    [[nodiscard]] bool enabled(crossover::LogLevel level) const noexcept override {
        return level >= enabled_from_.load();
    }
    // The lowest level enabled() reports (Debug: every level).
    void enable_from(crossover::LogLevel level) noexcept { enabled_from_ = level; }
    // Whether a line contains `needle`.
    [[nodiscard]] bool contains(const std::string& needle) const {
        const std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& l : lines_) {
            if (l.find(needle) != std::string::npos) {
                return true;
            }
        }
        return false;
    }
    [[nodiscard]] std::vector<std::string> lines() const {
        const std::lock_guard<std::mutex> lock(mutex_);
        return lines_;
    }

    // The messages logged at `level`, without level or component.
    [[nodiscard]] std::vector<std::string> messages(crossover::LogLevel level) const {
        const std::lock_guard<std::mutex> lock(mutex_);
        std::vector<std::string> out;
        for (const auto& [l, message] : entries_) {
            if (l == level) {
                out.push_back(message);
            }
        }
        return out;
    }

private:
    struct Entry {
        crossover::LogLevel level;
        std::string message;
    };
    mutable std::mutex mutex_;
    std::atomic<crossover::LogLevel> enabled_from_{crossover::LogLevel::Debug};
    std::vector<std::string> lines_;
    std::vector<Entry> entries_;
};

class QuietLogger : public crossover::Logger {
public:
    void log(crossover::LogLevel /*level*/, std::string_view /*component*/,
             std::string_view /*message*/) noexcept override {}
    [[nodiscard]] bool enabled(crossover::LogLevel /*level*/) const noexcept override {
        return false;
    }
};

}  // namespace crossover::test
