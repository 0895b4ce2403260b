#include "version_remover.h"

#include <filesystem>
#include <utility>

namespace crossover::sink_symlink {

VersionRemover::VersionRemover(std::function<void(const std::string&)> warn)
    : warn_(std::move(warn)) {}

VersionRemover::~VersionRemover() {
    {
        const std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) {
        thread_.join();  // finishes the queue first: nothing is left for the next start
    }
}

void VersionRemover::remove(const std::string& dir, const std::string& name) {
    {
        const std::lock_guard<std::mutex> lock(mu_);
        if (!retiring_.insert(name).second) {
            return;
        }
        queue_.emplace_back(dir, name);
        if (!thread_.joinable()) {
            thread_ = std::thread([this] { run(); });
        }
    }
    cv_.notify_all();
}

bool VersionRemover::retiring(const std::string& name) const {
    const std::lock_guard<std::mutex> lock(mu_);
    return retiring_.count(name) != 0;
}

void VersionRemover::wait_idle() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return retiring_.empty(); });
}

void VersionRemover::run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
        cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) {
            return;  // stopping, and nothing left
        }
        const auto [dir, name] = queue_.front();
        queue_.pop_front();
        lock.unlock();
        const std::string path = dir + "/" + name;
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
        if (ec) {
            warn_("cannot remove old version " + path + ": " + ec.message());
        }
        lock.lock();
        retiring_.erase(name);
        cv_.notify_all();
    }
}

}  // namespace crossover::sink_symlink
