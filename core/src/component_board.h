// What each component of the running pipeline is doing, for /status: whether
// its last attempt succeeded, when it last succeeded, and the last warning or
// error it logged. Thread-safe: sources report from their own threads.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crossover/log.h"
#include "crossover/plugin.h"

namespace crossover::core {

class ComponentBoard {
public:
    // Starts over with these components (a new or reloaded pipeline).
    void reset(const std::vector<std::pair<std::string, Kind>>& components);
    // The component's latest attempt (a list, a watch, a run) succeeded or failed.
    void attempt(const std::string& component, bool ok);
    // A warning or an error the component logged.
    void logged(const std::string& component, LogLevel level, std::string_view message);

    // {"components": [{"name": ..., "kind": ..., "ok": true|false|null,
    //   "last_success": "<UTC time>"|null, "last_error": {"level", "message", "at"}|null}]}
    // members; `extra` members (already JSON) are put first.
    [[nodiscard]] std::string to_json(const std::string& extra) const;

private:
    struct Entry {
        std::string kind;
        std::optional<bool> ok;
        std::optional<std::chrono::system_clock::time_point> last_success;
        std::string error_level;
        std::string error_message;
        std::chrono::system_clock::time_point error_at{};
    };
    mutable std::mutex mutex_;
    std::vector<std::string> order_;
    std::map<std::string, Entry> entries_;
};

}  // namespace crossover::core
