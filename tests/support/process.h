// Test support: run the real crossover binary (or any program) as a child
// process, capture its output, wait with a deadline, signal it.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "temp_dir.h"

namespace crossover::test {

inline std::string env_or(const char* name, const std::string& fallback = {}) {
    const char* v = std::getenv(name);
    return v != nullptr ? std::string(v) : fallback;
}

inline std::string crossover_bin() {
    return env_or("CROSSOVER_BIN", "crossover");
}
inline std::string fixtures_dir() {
    return env_or("CROSSOVER_FIXTURES");
}
inline std::string source_dir() {
    return env_or("CROSSOVER_SOURCE_DIR");
}
inline std::string build_dir() {
    return env_or("CROSSOVER_BUILD_DIR");
}

inline std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Writes atomically (temp file + rename), as editors and kubectl-like tools do.
inline void write_text(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp-write";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
    }
    std::filesystem::rename(tmp, path);
}

// A child process with stdout and stderr sent to files (so a chatty child
// never blocks on a full pipe).
class Process {
public:
    Process(const std::vector<std::string>& argv, const std::string& out_dir,
            const std::vector<std::string>& extra_env = {}) {
        out_path_ = out_dir + "/stdout-" + std::to_string(counter()++);
        err_path_ = out_path_ + ".err";
        pid_ = ::fork();
        if (pid_ < 0) {
            throw std::runtime_error("fork failed");
        }
        if (pid_ == 0) {
            const int out = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            const int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            ::dup2(out, 1);
            ::dup2(err, 2);
            for (const auto& e : extra_env) {
                ::putenv(const_cast<char*>(e.c_str()));
            }
            std::vector<char*> args;
            for (const auto& a : argv) {
                args.push_back(const_cast<char*>(a.c_str()));
            }
            args.push_back(nullptr);
            ::execvp(args[0], args.data());
            ::_exit(127);
        }
    }
    ~Process() {
        if (running()) {
            ::kill(pid_, SIGKILL);
            wait();
        }
    }
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    [[nodiscard]] pid_t pid() const { return pid_; }
    bool running() {
        if (exited_) {
            return false;
        }
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            record(status);
            return false;
        }
        return true;
    }
    void signal(int sig) const { ::kill(pid_, sig); }
    // Exit code, 128+signal when killed, or -1 on timeout.
    int wait(std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (running()) {
            if (std::chrono::steady_clock::now() > deadline) {
                return -1;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        return code_;
    }
    [[nodiscard]] std::string out() const { return read_text(out_path_); }
    [[nodiscard]] std::string err() const { return read_text(err_path_); }

private:
    static int& counter() {
        static int c = 0;
        return c;
    }
    void record(int status) {
        exited_ = true;
        code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    pid_t pid_ = -1;
    bool exited_ = false;
    int code_ = -1;
    std::string out_path_;
    std::string err_path_;
};

struct Result {
    int code;
    std::string out;
    std::string err;
};

inline Result run(const std::vector<std::string>& argv, const std::string& out_dir,
                  std::chrono::milliseconds timeout = std::chrono::seconds(60),
                  const std::vector<std::string>& extra_env = {}) {
    Process p(argv, out_dir, extra_env);
    const int code = p.wait(timeout);
    return Result{code, p.out(), p.err()};
}

// Polls `predicate` until true or the deadline passes.
template <typename F>
bool eventually(F&& predicate, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (predicate()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return predicate();
}

}  // namespace crossover::test
