// The skeleton of a source that watches one collection of Kubernetes objects
// and publishes what it makes of them: the client, the informer, one-time mode
// (list until the snapshot is complete, then publish it once) and watch mode
// (publish each snapshot that shows something new, warning while it is
// incomplete). A source takes its decoded options, connects, and says which
// collection to watch, how its objects become a snapshot and what in two
// snapshots counts as the same output.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "crossover/sdk.h"
#include "crossover_kube/client.h"
#include "crossover_kube/config.h"
#include "crossover_kube/informer.h"
#include "crossover_kube/options.h"

namespace crossover::kube {

class ObjectSource : public Source {
public:
    Status run(SourceContext& context) noexcept final;
    void stop() noexcept final;

    // Builds a snapshot from the watched objects (public for tests).
    virtual SnapshotPtr build(const Informer::State& state) = 0;

protected:
    // `what` names the objects in messages ("ConfigMaps"); `config` gives the
    // logger and the mode.
    ObjectSource(const ComponentConfig& config, std::string what);

    // Resolves the cluster `connection` names, makes its client and takes its
    // namespace. Returns the cluster (for the log).
    ClusterConfig connect(const ConnectionOptions& connection, const Timeouts& timeouts);

    // Which objects to watch, and how.
    void watch(Selection selection, const WatchOptions& options);

    // connect() and watch() with a source's shared options.
    ClusterConfig configure(const SourceOptions& options);

    // The collection to watch ("/api/v1/namespaces/x/configmaps"). A source
    // whose API version is discovered asks the server here (giving up at
    // `deadline` in one-time mode); it throws Interrupted when stopped.
    virtual std::string collection(SourceContext& context,
                                   std::chrono::steady_clock::time_point deadline) = 0;

    // The collection of `plural` in the namespace: `api` is "/api/v1" or
    // "/apis/GROUP/VERSION".
    [[nodiscard]] std::string namespaced(const std::string& api, const std::string& plural) const;

    // The snapshot of the `valid` objects (by name) of a watched `state`:
    // incomplete while a named object is missing from `valid`, because it is
    // not found or invalid. `kind` names the objects in messages.
    [[nodiscard]] SnapshotPtr objects_snapshot(const std::string& kind,
                                               const Informer::State& state,
                                               const std::map<std::string, ObjectPtr>& valid) const;
    // The same from the valid objects in name order; `is_valid` tells whether a name has one.
    [[nodiscard]] SnapshotPtr objects_snapshot(
        const std::string& kind, const Informer::State& state, std::vector<ObjectPtr> objects,
        const std::function<bool(const std::string&)>& is_valid) const;

    // Whether `next` shows the same output as `last`, given that both are
    // equally complete and miss the same objects: then nothing is published.
    [[nodiscard]] virtual bool same_output(const Snapshot& last, const Snapshot& next) const = 0;

    // Watch mode: called with every change of the watched objects. By
    // default builds the snapshot and publishes it.
    virtual void on_change(SourceContext& context, const Informer::State& state);

    // Publishes `snap` unless it shows what was published last; warns when it
    // is incomplete.
    void publish_if_new(SourceContext& context, const SnapshotPtr& snap);

    LogFn log_;
    std::unique_ptr<Client> client_;
    std::string ns_;
    // Set by watch() from the decoded options (their defaults live in the table's structs).
    Selection selection_;
    InformerOptions informer_options_;
    std::chrono::milliseconds wait_timeout_{};
    bool onetime_ = false;
    bool log_waits_ = false;  // one-time mode: log each wait for a complete snapshot

    // Whether debug lines are wanted: those of every change are not formatted otherwise.
    [[nodiscard]] bool debug_enabled() const {
        return logger_ != nullptr && logger_->enabled(LogLevel::Debug);
    }

private:
    Logger* logger_ = nullptr;
    std::string what_;
    SnapshotPtr last_published_;
};

}  // namespace crossover::kube
