#include "registry.h"

namespace crossover::route_registry {

Registry::Registry(Options options, Journal::LogFn log)
    : options_(std::move(options)), log_(std::move(log)) {
    Recovered recovered;
    journal_ = std::make_unique<Journal>(options_.state_dir, log_, recovered);
    if (!recovered.snapshot.empty()) {
        state_.load_snapshot(recovered.snapshot);
    }
    for (std::size_t i = 0; i < recovered.records.size(); ++i) {
        state_.replay(recovered.records[i], i);
    }
    journal_->resume_at(state_.version());
    log_(LogLevel::Info, "recovered " + std::to_string(state_.routes().size()) +
                             " routes at version " + std::to_string(state_.version()) + " from " +
                             options_.state_dir + " (" + std::to_string(recovered.records.size()) +
                             " journal records)");
}

void Registry::on_change(std::function<void()> callback) {
    const std::lock_guard<std::mutex> lock(mutex_);
    on_change_ = std::move(callback);
}

void Registry::check_usable() const {
    if (failed_.load()) {
        throw Refused(503, "the registry's journal failed; restart to recover");
    }
}

void Registry::durable(std::uint64_t seq) {
    try {
        journal_->wait_durable(seq);
    } catch (const Error&) {
        failed_.store(true);
        throw Refused(503, "the change could not be saved; restart to recover");
    }
}

void Registry::maybe_compact() {
    if (journal_->records_since_compaction() < options_.compact_after) {
        return;
    }
    const std::lock_guard<std::mutex> lock(mutex_);
    if (journal_->records_since_compaction() < options_.compact_after || failed_.load()) {
        return;
    }
    try {
        journal_->compact(state_.snapshot());
    } catch (const Error&) {
        failed_.store(true);
    }
}

PutResult Registry::put(Route route, const Precondition& precondition) {
    check_usable();
    PutResult result;
    bool changed = false;
    std::function<void()> notify;
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        state_.check_put(route, precondition);
        const RoutePtr current = state_.find(route.name);
        if (current && current->route == route) {
            result.outcome = PutOutcome::Unchanged;
            result.route = current;
        } else {
            result.outcome = current ? PutOutcome::Replaced : PutOutcome::Created;
            const std::string name = route.name;
            const std::uint64_t seq = state_.version() + 1;
            std::string record = state_.put(std::move(route));
            journal_->append(seq, record);
            result.route = state_.find(name);
            changed = true;
            notify = on_change_;
        }
    }
    durable(result.route->version);
    if (changed) {
        maybe_compact();
    }
    if (notify) {
        notify();
    }
    return result;
}

std::uint64_t Registry::remove(const std::string& name, const Precondition& precondition) {
    check_usable();
    std::uint64_t seq = 0;
    std::function<void()> notify;
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        state_.check_delete(name, precondition);
        seq = state_.version() + 1;
        std::string record = state_.remove(name);
        journal_->append(seq, record);
        notify = on_change_;
    }
    durable(seq);
    maybe_compact();
    if (notify) {
        notify();
    }
    return seq;
}

RoutePtr Registry::get(const std::string& name) {
    check_usable();
    RoutePtr route;
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        route = state_.find(name);
    }
    if (route) {
        durable(route->version);
    }
    return route;
}

View Registry::view() {
    check_usable();
    View out;
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        out.version = state_.version();
        out.routes = state_.routes();
    }
    durable(out.version);
    return out;
}

}  // namespace crossover::route_registry
