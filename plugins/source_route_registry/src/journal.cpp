#include "journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <Poco/Checksum.h>

#include "crossover/status.h"

namespace crossover::route_registry {

namespace {

constexpr std::size_t kHeader = 8;
constexpr std::uint32_t kMaxRecord = 64U * 1024 * 1024;

std::uint32_t crc32(std::string_view data) {
    Poco::Checksum sum(Poco::Checksum::TYPE_CRC32);
    sum.update(data.data(), static_cast<unsigned>(data.size()));
    return sum.checksum();
}

void put_u32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        out += static_cast<char>((v >> (8 * i)) & 0xffU);
    }
}

std::uint32_t get_u32(std::string_view in, std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        v |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
    }
    return v;
}

std::string errno_text() {
    return std::strerror(errno);
}

void write_all(int fd, std::string_view data, const std::string& what) {
    std::size_t off = 0;
    while (off < data.size()) {
        const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw Error("writing " + what + ": " + errno_text());
        }
        off += static_cast<std::size_t>(n);
    }
}

void sync_dir(const std::string& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        throw Error("opening " + dir + ": " + errno_text());
    }
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) {
        throw Error("fsync of " + dir + ": " + errno_text());
    }
}

std::string read_file(const std::string& path, bool& exists) {
    exists = false;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            return {};
        }
        throw Error("opening " + path + ": " + errno_text());
    }
    exists = true;
    std::string out;
    char buf[65536];
    while (true) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            const std::string e = errno_text();
            ::close(fd);
            throw Error("reading " + path + ": " + e);
        }
        if (n == 0) {
            break;
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

}  // namespace

std::string frame_record(std::string_view payload) {
    std::string out;
    out.reserve(kHeader + payload.size());
    put_u32(out, static_cast<std::uint32_t>(payload.size()));
    put_u32(out, crc32(payload));
    out.append(payload);
    return out;
}

ReadRecords read_records(std::string_view bytes) {
    ReadRecords out;
    std::size_t off = 0;
    while (off < bytes.size()) {
        const std::string_view rest = bytes.substr(off);
        if (rest.find_first_not_of('\0') == std::string_view::npos) {
            out.torn = true;  // a zero-filled tail: space allocated, data never written
            break;
        }
        if (rest.size() < kHeader) {
            out.torn = true;
            break;
        }
        const std::uint32_t length = get_u32(rest, 0);
        const std::uint32_t crc = get_u32(rest, 4);
        const bool reaches_end = rest.size() <= kHeader + std::size_t{length};
        if (length == 0 || length > kMaxRecord || reaches_end) {
            if (reaches_end) {
                // Cut short, or the last record: CRC decides below when whole.
                if (rest.size() < kHeader + std::size_t{length} || length == 0) {
                    out.torn = true;
                    break;
                }
            } else {
                out.corruption = "bad record length " + std::to_string(length) + " at offset " +
                                 std::to_string(off);
                break;
            }
        }
        const std::string_view payload = rest.substr(kHeader, length);
        if (crc32(payload) != crc) {
            if (rest.size() == kHeader + std::size_t{length}) {
                out.torn = true;
            } else {
                out.corruption = "checksum mismatch in the record at offset " + std::to_string(off);
            }
            break;
        }
        out.records.emplace_back(payload);
        off += kHeader + length;
        out.good_bytes = off;
    }
    return out;
}

Journal::Journal(std::string dir, LogFn log, Recovered& recovered)
    : dir_(std::move(dir)), log_(std::move(log)) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir_, ec)) {
        std::filesystem::create_directories(dir_, ec);
        if (ec) {
            throw Error("state_dir " + dir_ + ": cannot create: " + ec.message());
        }
        const std::string parent = std::filesystem::path(dir_).parent_path().string();
        sync_dir(parent.empty() ? "." : parent);
    }
    const std::string lock_path = dir_ + "/lock";
    lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd_ < 0) {
        throw Error("state_dir " + dir_ + ": cannot open " + lock_path + ": " + errno_text());
    }
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
        ::close(lock_fd_);
        throw Error("state_dir " + dir_ + " is in use by another process");
    }
    try {
        bool exists = false;
        recovered.snapshot = read_file(dir_ + "/snapshot.json", exists);
        const std::string journal_path = dir_ + "/journal";
        const std::string bytes = read_file(journal_path, exists);
        ReadRecords read = read_records(bytes);
        if (!read.corruption.empty()) {
            throw Error("journal " + journal_path + " is corrupt: " + read.corruption +
                        "; refusing to start (move it away to start from the snapshot)");
        }
        fd_ = ::open(journal_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd_ < 0) {
            throw Error("opening " + journal_path + ": " + errno_text());
        }
        if (read.torn) {
            log_(LogLevel::Warn, "journal " + journal_path + ": dropped a torn last record (" +
                                     std::to_string(bytes.size() - read.good_bytes) +
                                     " bytes at offset " + std::to_string(read.good_bytes) +
                                     "), left by a crash during a write never acknowledged");
            if (::ftruncate(fd_, static_cast<off_t>(read.good_bytes)) != 0 || ::fsync(fd_) != 0) {
                throw Error("truncating " + journal_path + ": " + errno_text());
            }
        }
        if (!exists) {
            sync_dir(dir_);
        }
        records_ = read.records.size();
        recovered.records = std::move(read.records);
    } catch (...) {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        ::close(lock_fd_);
        throw;
    }
}

Journal::~Journal() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
    if (lock_fd_ >= 0) {
        ::close(lock_fd_);
    }
}

void Journal::resume_at(std::uint64_t seq) {
    const std::lock_guard<std::mutex> lock(mutex_);
    appended_ = seq;
    durable_ = seq;
}

void Journal::append(std::uint64_t seq, std::string_view payload) {
    std::string framed = frame_record(payload);
    const std::lock_guard<std::mutex> lock(mutex_);
    pending_ += framed;
    appended_ = seq;
    ++records_;
}

void Journal::write_and_sync(const std::string& batch) {
    if (batch.empty()) {
        return;
    }
    write_all(fd_, batch, dir_ + "/journal");
    if (::fdatasync(fd_) != 0) {
        throw Error("fdatasync of " + dir_ + "/journal: " + errno_text());
    }
}

void Journal::fail(const std::string& message) {
    failed_ = message;
    log_(LogLevel::Error, message + "; the registry refuses writes until it is restarted");
}

std::string Journal::flush_as_leader(std::unique_lock<std::mutex>& lock,
                                     const std::function<void()>& then) {
    flushing_ = true;
    std::string batch = std::move(pending_);
    pending_.clear();
    const std::uint64_t upto = appended_;
    lock.unlock();
    std::string error;
    try {
        write_and_sync(batch);
        if (then) {
            then();
        }
    } catch (const std::exception& e) {
        error = e.what();
    }
    lock.lock();
    flushing_ = false;
    if (error.empty()) {
        durable_ = upto;
        ++fsyncs_;
    } else {
        fail(error);
    }
    synced_.notify_all();
    return error;
}

void Journal::wait_durable(std::uint64_t seq) {
    std::unique_lock<std::mutex> lock(mutex_);
    while (durable_ < seq) {
        if (!failed_.empty()) {
            throw Error(failed_);
        }
        if (flushing_) {
            synced_.wait(lock);
            continue;
        }
        // Lead: write everything queued so far with one fsync.
        flush_as_leader(lock, nullptr);
    }
}

void Journal::write_snapshot(std::string_view snapshot) {
    const std::string tmp = dir_ + "/snapshot.json.tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw Error("opening " + tmp + ": " + errno_text());
    }
    try {
        write_all(fd, snapshot, tmp);
        if (::fsync(fd) != 0) {
            throw Error("fsync of " + tmp + ": " + errno_text());
        }
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
    const std::string final_path = dir_ + "/snapshot.json";
    if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
        throw Error("renaming " + tmp + ": " + errno_text());
    }
    sync_dir(dir_);
    // Records up to the snapshot's version are skipped on replay, so a crash
    // before this truncation loses nothing.
    if (::ftruncate(fd_, 0) != 0 || ::fsync(fd_) != 0) {
        throw Error("truncating " + dir_ + "/journal: " + errno_text());
    }
}

void Journal::compact(std::string_view snapshot) {
    std::unique_lock<std::mutex> lock(mutex_);
    synced_.wait(lock, [&] { return !flushing_; });
    if (!failed_.empty()) {
        throw Error(failed_);
    }
    const std::string error = flush_as_leader(lock, [&] { write_snapshot(snapshot); });
    if (!error.empty()) {
        throw Error(error);
    }
    records_ = 0;
}

std::size_t Journal::records_since_compaction() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return records_;
}

std::uint64_t Journal::fsync_count() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return fsyncs_;
}

}  // namespace crossover::route_registry
