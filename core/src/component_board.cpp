#include "component_board.h"

#include <ctime>

#include "crossover/json.h"
#include "logger.h"

namespace crossover::core {

namespace {

std::string utc(std::chrono::system_clock::time_point t) {
    const std::time_t secs = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace

void ComponentBoard::reset(const std::vector<std::pair<std::string, Kind>>& components) {
    const std::lock_guard<std::mutex> lock(mutex_);
    order_.clear();
    entries_.clear();
    for (const auto& [name, kind] : components) {
        order_.push_back(name);
        entries_[name].kind = kind_name(kind);
    }
}

void ComponentBoard::attempt(const std::string& component, bool ok) {
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto it = entries_.find(component);
    if (it == entries_.end()) {
        return;
    }
    it->second.ok = ok;
    if (ok) {
        it->second.last_success = std::chrono::system_clock::now();
    }
}

void ComponentBoard::logged(const std::string& component, LogLevel level,
                            std::string_view message) {
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto it = entries_.find(component);
    if (it == entries_.end()) {
        return;
    }
    it->second.error_level = level == LogLevel::Error ? "error" : "warn";
    it->second.error_message = std::string(message);
    it->second.error_at = std::chrono::system_clock::now();
}

std::string ComponentBoard::to_json(const std::string& extra) const {
    const std::lock_guard<std::mutex> lock(mutex_);
    std::string out = "{" + extra + (extra.empty() ? "" : ",") + "\"components\":[";
    for (std::size_t i = 0; i < order_.size(); ++i) {
        const Entry& e = entries_.at(order_[i]);
        out += i == 0 ? "" : ",";
        out += "{\"name\":" + json::quoted(order_[i]) + ",\"kind\":" + json::quoted(e.kind) +
               ",\"ok\":" + (e.ok ? (*e.ok ? "true" : "false") : "null") + ",\"last_success\":" +
               (e.last_success ? json::quoted(utc(*e.last_success)) : "null") + ",\"last_error\":";
        if (e.error_message.empty()) {
            out += "null";
        } else {
            out += "{\"level\":" + json::quoted(e.error_level) +
                   ",\"message\":" + json::quoted(e.error_message) +
                   ",\"at\":" + json::quoted(utc(e.error_at)) + "}";
        }
        out += "}";
    }
    return out + "]}\n";
}

}  // namespace crossover::core
