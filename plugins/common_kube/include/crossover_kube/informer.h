// List+watch of one collection, like client-go's informer.
//
// List, then watch from the list's resourceVersion with allowWatchBookmarks
// and timeoutSeconds. After a clean end or a dropped stream, resume from the
// last resourceVersion seen (bookmarks included). On 410 Gone (HTTP status or
// an in-stream ERROR event) relist at once: a 410 is an answer from a working
// server, so it also resets the backoff (only a 410 on the very first watch
// after a list waits, so that a server answering 410 to everything is not
// hammered). Failures back off exponentially with jitter, capped, and the
// backoff resets after a success. The backoff also restarts when the server
// answers again after it could not be reached: an error status just after an
// outage (403 while RBAC warms up after a restart) is a new failure, not the
// outage going on. A read timeout a little above timeoutSeconds detects a
// stream that went silent. A failure is logged as a warning once, then only at
// debug level while it repeats unchanged, and "recovered" once it clears.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <Poco/JSON/Object.h>

#include "crossover/component.h"
#include "crossover_kube/client.h"

namespace crossover::kube {

// A list answered with an error status (the server was reached).
class StatusError : public Error {
public:
    StatusError(std::string message, int status) : Error(std::move(message)), status_(status) {}
    [[nodiscard]] int status() const noexcept { return status_; }

private:
    int status_;
};

struct Selection {
    std::vector<std::string> names;  // empty: every object (subject to the label selector)
    std::string label_selector;
};

struct InformerOptions {
    std::chrono::milliseconds watch_timeout{60000};  // timeoutSeconds of each watch
    std::chrono::milliseconds read_timeout{0};       // 0: watch_timeout + 10s
    std::chrono::milliseconds resync{600000};        // 0: never relist on a timer
    std::chrono::milliseconds backoff_initial{250};
    std::chrono::milliseconds backoff_max{30000};
    // Keep kubectl's last-applied-configuration annotation in the stored objects: only a
    // source that writes its objects back whole (a PUT would drop the annotation) needs it.
    bool keep_last_applied = false;
};

// Drops from `object` what the API server and kubectl add for writers and no source reads,
// as client-go's users do with an informer transform: `metadata.managedFields` (server-side
// apply's field owners, often 1-3 KB an object) and, unless `options` keep it, the annotation
// kubectl.kubernetes.io/last-applied-configuration (a whole copy of the object as applied).
// Every stored object would otherwise hold them for as long as it exists.
void drop_writers_fields(const Poco::JSON::Object::Ptr& object, const InformerOptions& options);

class Backoff {
public:
    Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max);
    // The next delay: uniformly jittered in [d/2, d], then d doubles (capped).
    std::chrono::milliseconds next();
    void reset();
    [[nodiscard]] std::chrono::milliseconds current() const { return current_; }

private:
    std::chrono::milliseconds initial_;
    std::chrono::milliseconds max_;
    std::chrono::milliseconds current_;
    std::minstd_rand rng_;
};

// Builds "<collection>?labelSelector=...&fieldSelector=..." (+ extra params).
std::string build_query(const std::string& collection, const Selection& selection,
                        const std::vector<std::pair<std::string, std::string>>& extra);

// One decoded watch event line.
struct WatchEvent {
    std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
    Poco::JSON::Object::Ptr object;
};
WatchEvent decode_event(const std::string& line);

class Informer {
public:
    using State = std::map<std::string, Poco::JSON::Object::Ptr>;  // by object name
    // Called after the initial list, every relist and every change to a
    // selected object. Changes that arrive together on the watch stream (a
    // `helm upgrade` or a relist touching many objects) are reported once or
    // once, not once per event: events already read from the socket are
    // taken together; a change that follows the previous one within
    // kBatchGap waits while the next event arrives within kBatchGap. Only a
    // stream that never pauses is reported every kMaxBatchDelay (or
    // kMaxBatch events), so that its changes still reach the output; a burst
    // of back-to-back events ends well before that. A change after a quiet
    // stream (a canary step) is reported without waiting.
    using OnChange = std::function<void(const State&)>;

    static constexpr int kMaxBatch = 20000;
    static constexpr std::chrono::milliseconds kBatchGap{2};
    static constexpr std::chrono::milliseconds kMaxBatchDelay{500};

    // `debug_enabled` tells whether debug lines are wanted (unset: always): the lines of each
    // event and report are then not formatted for nothing.
    Informer(Client& client, std::string collection_path, Selection selection,
             InformerOptions options, LogFn log, std::function<bool()> debug_enabled = {});

    // Lists once; throws StatusError for an error status, Error when the
    // server cannot be reached. Returns the state and sets `resource_version`.
    State list(std::string& resource_version);

    // Runs until the context stops or the client is interrupted.
    void run(SourceContext& context, const OnChange& on_change);

    // The collection, for messages ("/api/v1/namespaces/x/configmaps").
    [[nodiscard]] const std::string& collection() const { return collection_; }
    // The last resourceVersion seen (a list, an event or a bookmark). Read it
    // on the thread that runs the informer, e.g. in OnChange.
    [[nodiscard]] const std::string& resource_version() const { return resource_version_; }

private:
    // Failed: the server answered with an error; Unreachable: no answer.
    enum class WatchEnd { Resume, Relist, Failed, Unreachable };
    WatchEnd watch_once(SourceContext& context, const OnChange& on_change, bool& progressed);
    WatchEnd read_events(SourceContext& context, Stream& stream, const OnChange& on_change,
                         bool& progressed);
    WatchEnd read_lines(SourceContext& context, Stream& stream,
                        const std::function<void()>& changed, bool& progressed);
    [[nodiscard]] bool selected(const std::string& name) const;
    void log(LogLevel level, const std::string& message) const;
    [[nodiscard]] bool debug() const { return log_ && (!debug_enabled_ || debug_enabled_()); }
    // A failure: a warning the first time, at debug level while it repeats
    // unchanged (`text`, when given, is what is logged: the message with details).
    void problem(const std::string& message, const std::string& text = {});
    // Logs "recovered" once after problems.
    void recovered();
    // Sleeps the next backoff delay after a failure; false when stopping.
    // `reached`: the server answered (with an error status).
    bool back_off(SourceContext& context, Backoff& backoff, bool reached, const std::string& why,
                  LogLevel level = LogLevel::Debug);

    Client& client_;
    std::string collection_;
    Selection selection_;
    InformerOptions options_;
    LogFn log_;
    std::function<bool()> debug_enabled_;
    State state_;
    std::string resource_version_;
    // The size of the last list's body: no watch event holds a larger object
    // unless that object grew, so a watch's receive buffer is reserved at
    // this size and a quarter more.
    std::size_t listed_bytes_ = 0;
    std::chrono::steady_clock::time_point last_list_{};
    int watches_since_list_ = 0;
    bool unreachable_ = false;  // the last failure had no answer from the server
    std::string last_problem_;  // logged as a warning; repeats go to debug
};

// One-time mode of a source: lists until `build` gives a complete snapshot and
// publishes it, retrying every 500 ms; gives up at `deadline` (the source's
// start plus `wait_timeout`, named in the message) with the last reason: what
// the snapshot misses, or the list's error. `what` names the objects in
// messages ("EndpointSlices"). `log_wait`, when given, is told each wait.
Status list_until_complete(SourceContext& context, Informer& informer,
                           std::chrono::steady_clock::time_point deadline,
                           std::chrono::milliseconds wait_timeout, const std::string& what,
                           const std::function<SnapshotPtr(const Informer::State&)>& build,
                           const LogFn& log_wait = {});

}  // namespace crossover::kube
