// The file store (`store: file`): the state, its journal, and the rules for
// changing it. Thread-safe: HTTP handlers call it concurrently.
//
// A write is checked and applied in memory under one lock (so checks always
// see every earlier write), its record queued to the journal in the same
// order, and the caller then waits, without the lock, until the record is on
// disk; concurrent writers share an fsync. Reads wait until what they return
// is on disk, so nothing that could vanish in a crash is ever answered.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "journal.h"
#include "route_state.h"
#include "store.h"

namespace crossover::route_registry {

class Registry final : public RouteStore {
public:
    struct Options {
        std::string state_dir;
        std::size_t compact_after = 1000;  // journal records between snapshots
    };

    // Recovers the state from state_dir. Throws Error.
    Registry(Options options, Journal::LogFn log);

    // Throws Refused (404, 409, 412; 503 once the journal failed).
    PutResult put(Route route, const Precondition& precondition) override;
    std::uint64_t remove(const std::string& name, const Precondition& precondition) override;
    RoutePtr get(const std::string& name) override;
    View view() override;

    // Called after every durable change (from the writer's thread).
    void on_change(std::function<void()> callback) override;

    [[nodiscard]] bool failed() const noexcept override { return failed_.load(); }
    [[nodiscard]] std::uint64_t fsync_count() const { return journal_->fsync_count(); }

private:
    void durable(std::uint64_t seq);
    void maybe_compact();
    void check_usable() const;

    Options options_;
    Journal::LogFn log_;
    std::unique_ptr<Journal> journal_;
    std::mutex mutex_;
    RouteState state_;
    std::function<void()> on_change_;
    std::atomic<bool> failed_{false};
};

}  // namespace crossover::route_registry
