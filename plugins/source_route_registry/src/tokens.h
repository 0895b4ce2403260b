// Bearer tokens of the registry's API, from a file:
//
//   # token                              who            access
//   5b0c1e4f8a7d4e2f9c3b6a1d0e8f7c6b     pod-manager    write
//   a9b2c3d4e5f60718293a4b5c6d7e8f90     dashboard      read
//
// One token per line: the token (at least 16 characters), the name written
// to the log with every write, and the access (`write`, the default, or
// `read`). The file is re-read when its modification time, size or inode
// changes (a Secret mounted by the kubelet is swapped by rename); a file that
// turns unreadable or invalid keeps the last good tokens and logs why. Tokens
// are compared through their SHA-256 digests, every entry every time, so the
// time taken says nothing about how much of a token was right.
#pragma once

#include <sys/types.h>

#include <array>
#include <ctime>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crossover/log.h"

namespace crossover::route_registry {

enum class Access { Read, Write };

struct Caller {
    std::string who;
    Access access = Access::Read;
};

class TokenFile {
public:
    using LogFn = std::function<void(LogLevel, std::string_view)>;

    // Reads the file; throws Error when it is missing or holds no valid token.
    TokenFile(std::string path, LogFn log);

    // The caller a presented token belongs to, or nullopt.
    std::optional<Caller> authenticate(std::string_view token);

private:
    struct Entry {
        std::array<unsigned char, 32> digest{};
        Caller caller;
    };
    struct Stamp {
        ino_t inode = 0;
        off_t size = -1;
        timespec mtime{};
        bool operator==(const Stamp& o) const {
            return inode == o.inode && size == o.size && mtime.tv_sec == o.mtime.tv_sec &&
                   mtime.tv_nsec == o.mtime.tv_nsec;
        }
    };
    // Parses the file's text; throws Error naming the line.
    std::vector<Entry> parse(const std::string& text) const;
    void reload_if_changed();

    std::string path_;
    LogFn log_;
    std::mutex mutex_;
    std::vector<Entry> entries_;
    Stamp stamp_;
};

std::array<unsigned char, 32> sha256(std::string_view data);

}  // namespace crossover::route_registry
