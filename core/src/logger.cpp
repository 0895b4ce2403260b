#include "logger.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "crossover/json.h"

namespace crossover::core {

namespace {

const char* level_name(LogLevel level) {
    switch (level) {
        case LogLevel::Debug: return "debug";
        case LogLevel::Info: return "info";
        case LogLevel::Warn: return "warn";
        case LogLevel::Error: return "error";
    }
    return "info";
}

std::string timestamp() {
    const auto now = std::chrono::system_clock::now();
    const std::time_t secs = std::chrono::system_clock::to_time_t(now);
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(millis));
    return buf;
}

}  // namespace

bool parse_log_level(std::string_view text, LogLevel& out) {
    if (text == "debug") {
        out = LogLevel::Debug;
    } else if (text == "info") {
        out = LogLevel::Info;
    } else if (text == "warn" || text == "warning") {
        out = LogLevel::Warn;
    } else if (text == "error") {
        out = LogLevel::Error;
    } else {
        return false;
    }
    return true;
}

bool parse_log_format(std::string_view text, LogFormat& out) {
    if (text == "text") {
        out = LogFormat::Text;
    } else if (text == "json") {
        out = LogFormat::Json;
    } else {
        return false;
    }
    return true;
}

std::string format_log_line(LogLevel level, std::string_view component, std::string_view message,
                            LogFormat format) {
    std::string line;
    if (format == LogFormat::Json) {
        line = "{\"ts\":\"" + timestamp() + "\",\"level\":\"" + level_name(level) +
               "\",\"component\":\"" + json::escaped(component) + "\",\"msg\":\"" +
               json::escaped(message) + "\"}\n";
    } else {
        line = timestamp() + " " + level_name(level) + " ";
        if (!component.empty()) {
            line += "[";
            line += component;
            line += "] ";
        }
        line += message;
        line += '\n';
    }
    return line;
}

namespace {

// Whole lines in one write(2) each where possible, so that threads do not interleave.
void write_stderr(const std::string& line) {
    std::size_t off = 0;
    while (off < line.size()) {
        const ssize_t n = ::write(STDERR_FILENO, line.data() + off, line.size() - off);
        if (n <= 0) {
            break;
        }
        off += static_cast<std::size_t>(n);
    }
}

std::atomic<LogFormat> g_error_format{LogFormat::Text};

}  // namespace

void set_error_format(LogFormat format) noexcept {
    g_error_format.store(format);
}

void print_usage_error(std::string_view message) noexcept {
    try {
        const LogFormat format = g_error_format.load();
        write_stderr(format == LogFormat::Json
                         ? format_log_line(LogLevel::Error, "", message, format)
                         : "crossover: " + std::string(message) + "\n");
    } catch (...) {
        // Reporting must never take the process down.
    }
}

void set_error_format_from_args(int argc, char** argv) noexcept {
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const bool json = arg == "--log-format=json" || arg == "-log-format=json" ||
                          ((arg == "--log-format" || arg == "-log-format") && i + 1 < argc &&
                           std::string_view(argv[i + 1]) == "json");
        if (json) {
            set_error_format(LogFormat::Json);
        }
    }
}

void print_error(std::string_view message) noexcept {
    try {
        const LogFormat format = g_error_format.load();
        write_stderr(format == LogFormat::Json
                         ? format_log_line(LogLevel::Error, "", message, format)
                         : "error: " + std::string(message) + "\n");
    } catch (...) {
        // Reporting must never take the process down.
    }
}

void StderrLogger::log(LogLevel level, std::string_view component,
                       std::string_view message) noexcept {
    if (!enabled(level)) {
        return;
    }
    try {
        const std::string line = format_log_line(level, component, message, format_);
        const std::lock_guard<std::mutex> lock(mutex_);
        write_stderr(line);
    } catch (...) {
        // Logging must never take the process down.
    }
}

}  // namespace crossover::core
