// What crossover-bench measures a process with: the child process itself, its
// /proc figures, an HTTP GET on loopback, the output directory watch (both output
// layouts: a `current` symlink swapped to a new version directory, and files renamed
// into a `current` directory, the original's layout), and percentiles.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace crossover::bench {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

inline double ms_since(Clock::time_point t0, Clock::time_point t1) {
    return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) {
        throw std::runtime_error("cannot write " + path);
    }
}

inline std::vector<int> parse_int_list(const std::string& text) {
    std::vector<int> out;
    std::stringstream in(text);
    for (std::string item; std::getline(in, item, ',');) {
        out.push_back(std::stoi(item));
    }
    return out;
}

// Percentile by the nearest-rank method; 0 for an empty sample.
inline double percentile(std::vector<double> v, double p) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    const auto rank = static_cast<std::size_t>(
        std::max(1.0, std::ceil(p / 100.0 * static_cast<double>(v.size()))));
    return v[std::min(rank, v.size()) - 1];
}

inline std::string fixed(double v, int digits = 2) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

// ---- /proc

struct ProcSample {
    double rss_mib = 0;
    double hwm_mib = 0;
    double cpu_seconds = 0;
};

// Resets the process's peak RSS (VmHWM) to its current RSS (proc(5), clear_refs "5"), so
// that a later sample_proc's hwm_mib is the peak since now. False when the kernel refuses.
inline bool reset_peak_rss(pid_t pid) {
    std::ofstream out("/proc/" + std::to_string(pid) + "/clear_refs");
    out << "5";
    out.flush();
    return static_cast<bool>(out);
}

inline ProcSample sample_proc(pid_t pid) {
    ProcSample s;
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);) {
        const auto kib = [&] { return std::stod(line.substr(line.find(':') + 1)) / 1024.0; };
        if (line.rfind("VmRSS:", 0) == 0) {
            s.rss_mib = kib();
        } else if (line.rfind("VmHWM:", 0) == 0) {
            s.hwm_mib = kib();
        }
    }
    const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    const auto close = stat.rfind(')');
    if (close != std::string::npos) {
        std::istringstream in(stat.substr(close + 2));
        std::vector<std::string> f;
        for (std::string w; in >> w;) {
            f.push_back(w);
        }
        // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15.
        if (f.size() > 12) {
            const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
            s.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;
        }
    }
    return s;
}

// Resident memory by mapping, from /proc/PID/smaps: each mapping's Rss split into its file
// pages (Rss - Anonymous: code and read-only data shared with the page cache) and its
// anonymous pages (written copies of a file's pages, the heap, stacks, anonymous maps).
struct MemoryMap {
    double rss_mib = 0;   // VmRSS
    double anon_mib = 0;  // the anonymous pages of every mapping
    double file_mib = 0;  // the file pages of every mapping
    // MiB by group: "FILE (file)" for each mapped file other than the program's own code (a
    // library by its name without ".so..."), kOwnCode, kWrittenData, kHeap, kOtherAnon.
    std::map<std::string, double> groups;
    bool ok = false;  // false when smaps could not be read (the process is gone)

    static constexpr const char* kOwnCode = "the program and its plugins (file)";
    static constexpr const char* kWrittenData = "written pages of mapped files (anonymous)";
    static constexpr const char* kHeap = "heap (anonymous)";
    static constexpr const char* kOtherAnon = "other anonymous: arenas, stacks, mmapped blocks";
};

// The group of a mapped file: the program's own code (its executable, or a file under a
// crossover/ directory, where its plugins live), else the file's name up to ".so".
inline std::string file_group(const std::string& path, const std::string& exe) {
    if (path == exe || path.find("/crossover/") != std::string::npos) {
        return MemoryMap::kOwnCode;
    }
    std::string name = path.substr(path.rfind('/') + 1);
    if (const auto so = name.find(".so"); so != std::string::npos) {
        name.resize(so);
    }
    return name + " (file)";
}

inline MemoryMap read_memory_map(pid_t pid) {
    MemoryMap m;
    const std::string proc = "/proc/" + std::to_string(pid);
    std::error_code ec;
    const std::string exe = fs::read_symlink(proc + "/exe", ec).string();
    std::ifstream smaps(proc + "/smaps");
    std::string path;  // of the current mapping; "[heap]", "[stack]"... or empty
    double rss_kib = 0;
    const auto flush = [&](double anon_kib) {
        const double file = (rss_kib - anon_kib) / 1024.0;
        const double anon = anon_kib / 1024.0;
        m.anon_mib += anon;
        m.file_mib += file;
        if (!path.empty() && path[0] == '/') {
            m.groups[file_group(path, exe)] += file;
            m.groups[MemoryMap::kWrittenData] += anon;
        } else {
            m.groups[path == "[heap]" ? MemoryMap::kHeap : MemoryMap::kOtherAnon] +=
                rss_kib / 1024.0;
        }
    };
    const auto kib = [](const std::string& line) {
        return std::stod(line.substr(line.find(':') + 1));
    };
    for (std::string line; std::getline(smaps, line);) {
        if (line.empty()) {
            continue;
        }
        if (line.rfind("Rss:", 0) == 0) {
            rss_kib = kib(line);
        } else if (line.rfind("Anonymous:", 0) == 0) {
            flush(kib(line));  // Anonymous comes after Rss in every mapping's block
            m.ok = true;
        } else if (const auto colon = line.find(':');
                   colon == std::string::npos || line.find(' ') < colon) {
            // A mapping's header: "ADDR-ADDR PERMS OFFSET DEV INODE [PATH]".
            std::istringstream in(line);
            std::string field;
            for (int i = 0; i < 5; ++i) {
                in >> field;
            }
            path.clear();
            in >> std::ws;
            std::getline(in, path);
            rss_kib = 0;
        }
    }
    m.rss_mib = sample_proc(pid).rss_mib;
    return m;
}

// ---- child processes

class Child {
public:
    Child(const std::vector<std::string>& argv, const std::string& log_path,
          const std::vector<std::string>& env = {}) {
        pid_ = ::fork();
        if (pid_ < 0) {
            throw std::runtime_error("fork failed");
        }
        if (pid_ == 0) {
            const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) {
                ::dup2(fd, 1);
                ::dup2(fd, 2);
                ::close(fd);
            }
            for (const auto& e : env) {
                ::putenv(const_cast<char*>(e.c_str()));
            }
            std::vector<char*> args;
            args.reserve(argv.size() + 1);
            for (const auto& a : argv) {
                args.push_back(const_cast<char*>(a.c_str()));
            }
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    Child(Child&&) = delete;
    Child& operator=(Child&&) = delete;
    ~Child() { stop(); }

    [[nodiscard]] pid_t pid() const { return pid_; }

    bool running() {
        if (pid_ <= 0) {
            return false;
        }
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            pid_ = -1;
            status_ = status;
            return false;
        }
        return true;
    }

    // Waits for the exit; returns the exit code (-1 on a signal or timeout).
    int wait(std::chrono::milliseconds timeout) {
        const auto deadline = Clock::now() + timeout;
        while (running()) {
            if (Clock::now() > deadline) {
                stop();
                return -1;
            }
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
    }

    void stop() noexcept {
        if (pid_ <= 0) {
            return;
        }
        ::kill(pid_, SIGTERM);
        const auto deadline = Clock::now() + std::chrono::seconds(10);
        while (running() && Clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status_, 0);
            pid_ = -1;
        }
    }

private:
    pid_t pid_ = -1;
    int status_ = 0;
};

inline std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        ::close(fd);
        throw std::runtime_error("cannot find a free port");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

// Plain HTTP GET on 127.0.0.1; returns the body (empty on failure).
inline std::string http_get(std::uint16_t port, const std::string& path) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return {};
    }
    const std::string req =
        "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) < 0) {
        ::close(fd);
        return {};
    }
    std::string resp;
    char buf[8192];
    for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            break;
        }
        resp.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    const auto body = resp.find("\r\n\r\n");
    return body == std::string::npos ? std::string() : resp.substr(body + 4);
}

// ---- the output directory

// Waits (inotify on DIR, and on DIR/current when it is a directory) until
// DIR/current/FILE contains `marker`: with the symlink layout, in a version the
// `current` symlink was swapped to since the last match; with the rename layout (the
// original's: each file renamed into DIR/current), in the file itself. Returns the
// moment the change was noticed, or nothing on timeout.
class OutputWatch {
public:
    explicit OutputWatch(std::string dir) : dir_(std::move(dir)) {
        fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (fd_ < 0 || ::inotify_add_watch(fd_, dir_.c_str(), IN_MOVED_TO | IN_CREATE) < 0) {
            throw std::runtime_error("inotify on " + dir_ + ": " + std::strerror(errno));
        }
    }
    OutputWatch(const OutputWatch&) = delete;
    OutputWatch& operator=(const OutputWatch&) = delete;
    OutputWatch(OutputWatch&&) = delete;
    OutputWatch& operator=(OutputWatch&&) = delete;
    ~OutputWatch() { ::close(fd_); }

    std::optional<Clock::time_point> wait_for(const std::string& file, const std::string& marker,
                                              std::chrono::milliseconds timeout,
                                              std::size_t times = 1) {
        const auto deadline = Clock::now() + timeout;
        const std::string current = dir_ + "/current";
        for (;;) {
            const auto noticed = Clock::now();
            std::error_code ec;
            const auto link = fs::read_symlink(current, ec);
            std::error_code dir_ec;
            if (ec && current_wd_ < 0 && fs::is_directory(current, dir_ec)) {
                // The rename layout: files are moved into DIR/current itself. Watched
                // before the file is read below, so no change falls between the two.
                current_wd_ = ::inotify_add_watch(fd_, current.c_str(), IN_MOVED_TO | IN_CREATE);
                if (current_wd_ < 0) {
                    throw std::runtime_error("inotify on " + current + ": " + std::strerror(errno));
                }
            }
            const bool is_link = !link.empty();
            if (!is_link || link != last_) {
                const std::string text = read_file(current + "/" + file);
                if (count_marker(text, marker, times) >= times) {
                    last_ = link;
                    return noticed;
                }
            }
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            if (left.count() <= 0) {
                return std::nullopt;
            }
            pollfd p{fd_, POLLIN, 0};
            ::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 100)));
            drain_events();
        }
    }

private:
    // Occurrences (up to `enough`) of `marker` followed by something other than a digit
    // (weights are numbers).
    static std::size_t count_marker(const std::string& text, const std::string& marker,
                                    std::size_t enough) {
        std::size_t n = 0;
        for (auto at = text.find(marker); at != std::string::npos && n < enough;
             at = text.find(marker, at + 1)) {
            const auto end = at + marker.size();
            if (end >= text.size() || text[end] < '0' || text[end] > '9') {
                ++n;
            }
        }
        return n;
    }

    // Reads the pending events; forgets the watch on DIR/current once it is gone (a
    // removed directory), so that a new one is watched.
    void drain_events() {
        alignas(inotify_event) char buf[4096];
        for (;;) {
            const ssize_t n = ::read(fd_, buf, sizeof buf);
            if (n <= 0) {
                return;
            }
            for (ssize_t at = 0; at < n;) {
                inotify_event ev{};
                std::memcpy(&ev, buf + at, sizeof ev);
                if (ev.wd == current_wd_ && (ev.mask & IN_IGNORED) != 0) {
                    current_wd_ = -1;
                }
                at += static_cast<ssize_t>(sizeof ev + ev.len);
            }
        }
    }

    std::string dir_;
    int fd_ = -1;
    int current_wd_ = -1;
    fs::path last_;
};

inline void print_row(std::ostream& out, const std::vector<std::string>& cells,
                      const std::vector<int>& widths) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
        const int w = widths[i];
        std::string c = cells[i];
        if (static_cast<int>(c.size()) < w) {
            c.insert(0, static_cast<std::size_t>(w) - c.size(), ' ');
        }
        out << (i ? "  " : "") << c;
    }
    out << "\n";
}

}  // namespace crossover::bench
