// The three kinds of component a plugin can provide, and what the core lends
// them. All methods are noexcept: report failures through Status.
//
// Threading rules:
//  - Source::run runs on a thread of its own; it may block. Source::stop is
//    called from another thread and must make run return promptly.
//  - Transform::transform and Sink::write are called from the engine thread
//    only, one call at a time per component; they must not keep references to
//    their inputs after returning except through shared pointers.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "crossover/snapshot.h"
#include "crossover/status.h"

namespace crossover {

class Component {
public:
    virtual ~Component() = default;
    Component() = default;
    Component(const Component&) = delete;
    Component& operator=(const Component&) = delete;
    Component(Component&&) = delete;
    Component& operator=(Component&&) = delete;
};

// What the engine lends a running source.
class SourceContext {
public:
    virtual ~SourceContext() = default;
    // Replace this source's state. Thread-safe; cheap (the engine coalesces).
    virtual void publish(SnapshotPtr snapshot) noexcept = 0;
    // True once the engine is shutting down.
    [[nodiscard]] virtual bool stopping() const noexcept = 0;
    // Sleep for up to `duration`, waking early on shutdown. Returns false when
    // stopping. Use it for every backoff so shutdown is never delayed.
    virtual bool sleep_for(std::chrono::milliseconds duration) noexcept = 0;
    // Count a named event for metrics ("watch_reconnects", "relists", ...).
    virtual void count(std::string_view event, double amount) noexcept = 0;
};

class Source : public Component {
public:
    // Keep state, publish a snapshot whenever it changes. In one-time mode
    // (ComponentConfig::onetime) return after publishing the first complete
    // snapshot. Return an error when the source cannot go on at all; the
    // engine logs it and (outside one-time mode) restarts run() with backoff.
    virtual Status run(SourceContext& context) noexcept = 0;
    // Interrupt run() from another thread.
    virtual void stop() noexcept {}
};

class Transform : public Component {
public:
    // A pure function of the inputs' latest snapshots (in the order the user
    // listed them in `inputs:`). On error, the engine keeps the previous
    // output downstream and retries on the next change and with backoff.
    virtual Status transform(const std::vector<Input>& inputs, SnapshotPtr& output) noexcept = 0;
};

enum class WriteOutcome { Written, Unchanged };

class Sink : public Component {
public:
    // Write the union of the inputs' documents. Identical content must
    // produce no write (outcome Unchanged). On error the previous output must
    // stay in place.
    virtual Status write(const Snapshot& snapshot, WriteOutcome& outcome) noexcept = 0;
};

// Runs `body` and turns any exception into an error Status, so plugin code
// can throw crossover::Error freely inside its own boundary.
template <typename F>
Status guard(F&& body) noexcept {
    try {
        return body();
    } catch (const std::exception& e) {
        return Status::error(e.what());
    } catch (...) {
        return Status::error("unknown exception");
    }
}

}  // namespace crossover
