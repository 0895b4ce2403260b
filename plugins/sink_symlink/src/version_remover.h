// Removes version directories the symlink sink no longer keeps, on a thread of
// its own, after the write that retired them has returned.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace crossover::sink_symlink {

// Removing a version frees its directory's block; where the file system is
// mounted with `discard` and has no journal (ext4), that waits for the device
// to discard the block, measured at 0.2-3.5 ms a version on a virtual disk:
// more than writing the new version. The swap is complete and `current` points
// elsewhere before a version is queued here, and a retired version is only
// ever removed, so readers still in it keep it a little longer than before.
class VersionRemover {
public:
    // `warn` reports a directory that could not be removed (from the thread).
    explicit VersionRemover(std::function<void(const std::string&)> warn);
    ~VersionRemover();
    VersionRemover(const VersionRemover&) = delete;
    VersionRemover& operator=(const VersionRemover&) = delete;

    // Queues `dir`/`name` for removal (the thread starts on first use).
    void remove(const std::string& dir, const std::string& name);
    // Whether `name` is queued or being removed.
    bool retiring(const std::string& name) const;
    // Returns once everything queued is removed.
    void wait_idle();

private:
    void run();

    std::function<void(const std::string&)> warn_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::pair<std::string, std::string>> queue_;  // (dir, name)
    std::set<std::string> retiring_;                         // queued or in progress
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace crossover::sink_symlink
