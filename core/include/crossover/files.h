// Reading a file named by the user (manifest, pipeline file, token, values
// file) without ever blocking on something that is not a regular file: a
// FIFO's open() waits for a writer and its read() for data, forever, and a
// stop request cannot interrupt either. Everything is inline.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

namespace crossover {

// What `mode` is, for "not a regular file (a FIFO)".
inline const char* file_type_name(mode_t mode) {
    if (S_ISDIR(mode)) {
        return "a directory";
    }
    if (S_ISFIFO(mode)) {
        return "a FIFO";
    }
    if (S_ISSOCK(mode)) {
        return "a socket";
    }
    if (S_ISCHR(mode)) {
        return "a character device";
    }
    if (S_ISBLK(mode)) {
        return "a block device";
    }
    return "not a regular file";
}

// The bytes of the regular file at `path` (symbolic links followed), or
// nullopt with `problem` set ("no such file", "not a regular file (a FIFO)").
inline std::optional<std::string> read_regular_file(const std::string& path, std::string& problem) {
    // O_NONBLOCK: opening a FIFO then returns at once instead of waiting for
    // a writer; fstat() below refuses it before any read.
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        problem =
            errno == ENOENT ? "no such file" : std::string("cannot read: ") + std::strerror(errno);
        return std::nullopt;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        problem = std::string("not a regular file (") + file_type_name(st.st_mode) + ")";
        ::close(fd);
        return std::nullopt;
    }
    std::string out;
    out.reserve(static_cast<std::size_t>(st.st_size));
    char buf[65536];
    while (true) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            out.append(buf, static_cast<std::size_t>(n));
        } else if (n == 0) {
            break;
        } else if (errno != EINTR) {
            problem = std::string("cannot read: ") + std::strerror(errno);
            ::close(fd);
            return std::nullopt;
        }
    }
    ::close(fd);
    return out;
}

}  // namespace crossover
