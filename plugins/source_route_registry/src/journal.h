// The file store's on-disk state: an append-only journal of framed records
// plus a snapshot, in one directory.
//
//   state_dir/journal        records: [u32 length][u32 CRC-32][payload], little-endian
//   state_dir/snapshot.json  the whole state at one version (written to a temporary
//                            file, fsynced, renamed, directory fsynced)
//   state_dir/lock           flock'ed while a process owns the directory
//
// Group commit: append() only queues a record; wait_durable() makes the
// caller either the one thread that writes and fdatasyncs everything queued
// so far, or a waiter on that fsync. Writers that arrive while an fsync runs
// share the next one.
//
// Recovery: a last record cut short by a crash (header or payload past the
// end of the file, a CRC mismatch that reaches the end, or a zero-filled
// tail) is dropped with a warning and the file truncated to the last whole
// record. A bad record followed by more data is corruption: opening fails
// and nothing is thrown away.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "crossover/log.h"

namespace crossover::route_registry {

// Frames one payload as a journal record.
std::string frame_record(std::string_view payload);

struct ReadRecords {
    std::vector<std::string> records;
    std::size_t good_bytes = 0;  // length of the whole records at the start
    bool torn = false;           // a torn last record follows good_bytes
    std::string corruption;      // non-empty: a bad record in the middle
};

// Splits journal bytes into records (never throws).
ReadRecords read_records(std::string_view bytes);

struct Recovered {
    std::string snapshot;              // snapshot.json's bytes, empty when none
    std::vector<std::string> records;  // journal payloads in order
};

class Journal {
public:
    using LogFn = std::function<void(LogLevel, std::string_view)>;

    // Creates the directory when missing, takes its lock and reads it. Throws
    // Error when the directory is in use, unreadable or corrupt.
    Journal(std::string dir, LogFn log, Recovered& recovered);
    ~Journal();
    Journal(const Journal&) = delete;
    Journal& operator=(const Journal&) = delete;
    Journal(Journal&&) = delete;
    Journal& operator=(Journal&&) = delete;

    // The seq of the recovered state: records before it count as durable.
    void resume_at(std::uint64_t seq);
    // Queues a record. `seq` grows by one per call; the caller orders calls.
    void append(std::uint64_t seq, std::string_view payload);
    // Returns once every record up to `seq` is on disk. Throws Error when a
    // write or fsync failed (then every later call fails too).
    void wait_durable(std::uint64_t seq);
    // Writes a snapshot of the state at the last appended seq and empties the
    // journal. The caller must not append meanwhile.
    void compact(std::string_view snapshot);

    [[nodiscard]] std::size_t records_since_compaction() const;
    [[nodiscard]] std::uint64_t fsync_count() const;
    [[nodiscard]] const std::string& dir() const { return dir_; }

private:
    // Writes `batch` and fdatasyncs; throws Error.
    void write_and_sync(const std::string& batch);
    // Snapshot to a temporary file, fsync, rename, fsync the directory, then
    // empty the journal; throws Error.
    void write_snapshot(std::string_view snapshot);
    // With the lock held and no flush running: writes and fsyncs every
    // queued record (then runs `then`) without the lock, and wakes the
    // waiters. Returns the error, empty on success.
    std::string flush_as_leader(std::unique_lock<std::mutex>& lock,
                                const std::function<void()>& then);
    void fail(const std::string& message);

    std::string dir_;
    LogFn log_;
    int lock_fd_ = -1;
    int fd_ = -1;

    mutable std::mutex mutex_;
    std::condition_variable synced_;
    std::string pending_;
    std::uint64_t appended_ = 0;
    std::uint64_t durable_ = 0;
    bool flushing_ = false;
    std::string failed_;
    std::size_t records_ = 0;
    std::uint64_t fsyncs_ = 0;
};

}  // namespace crossover::route_registry
