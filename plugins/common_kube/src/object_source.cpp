#include "crossover_kube/object_source.h"

#include <vector>

namespace crossover::kube {
namespace {

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) {
        out += out.empty() ? "" : "; ";
        out += i;
    }
    return out;
}

}  // namespace

ObjectSource::ObjectSource(const ComponentConfig& config, std::string what)
    : log_(logger_for(config)),
      onetime_(config.onetime),
      logger_(config.logger),
      what_(std::move(what)) {}

ClusterConfig ObjectSource::connect(const ConnectionOptions& connection, const Timeouts& timeouts) {
    ClusterConfig cluster = resolve_config(connection, Environment::system());
    client_ = std::make_unique<Client>(cluster, timeouts, log_);
    ns_ = cluster.ns;
    return cluster;
}

void ObjectSource::watch(Selection selection, const WatchOptions& options) {
    selection_ = std::move(selection);
    informer_options_ = options.informer;
    wait_timeout_ = options.wait_timeout;
}

ClusterConfig ObjectSource::configure(const SourceOptions& options) {
    ClusterConfig cluster = connect(options.connection, options.timeouts);
    watch(options.selection, options.watch);
    return cluster;
}

std::string ObjectSource::namespaced(const std::string& api, const std::string& plural) const {
    return api + "/namespaces/" + url_encode(ns_) + "/" + plural;
}

SnapshotPtr ObjectSource::objects_snapshot(const std::string& kind, const Informer::State& state,
                                           const std::map<std::string, ObjectPtr>& valid) const {
    std::vector<ObjectPtr> objects;
    objects.reserve(valid.size());
    for (const auto& [name, obj] : valid) {
        objects.push_back(obj);
    }
    return objects_snapshot(kind, state, std::move(objects), [&valid](const std::string& name) {
        return valid.find(name) != valid.end();
    });
}

SnapshotPtr ObjectSource::objects_snapshot(
    const std::string& kind, const Informer::State& state, std::vector<ObjectPtr> objects,
    const std::function<bool(const std::string&)>& is_valid) const {
    auto snap = std::make_shared<Snapshot>();
    snap->objects = std::move(objects);
    for (const auto& name : selection_.names) {
        if (!is_valid(name)) {
            snap->missing.push_back(
                kind + " " + ns_ + "/" + name +
                (state.find(name) == state.end() ? " not found" : " is invalid"));
        }
    }
    snap->complete = snap->missing.empty();
    return snap;
}

void ObjectSource::stop() noexcept {
    client_->interrupt();
}

void ObjectSource::on_change(SourceContext& context, const Informer::State& state) {
    const auto started = std::chrono::steady_clock::now();
    SnapshotPtr snap = build(state);
    const auto built = std::chrono::steady_clock::now();
    publish_if_new(context, snap);
    if (!debug_enabled()) {
        return;
    }
    const auto us = [](auto d) {
        return std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
    };
    log_(LogLevel::Debug, "built the snapshot of " + std::to_string(state.size()) + " " + what_ +
                              " in " + us(built - started) + "us, published in " +
                              us(std::chrono::steady_clock::now() - built) + "us");
}

void ObjectSource::publish_if_new(SourceContext& context, const SnapshotPtr& snap) {
    if (last_published_ && last_published_->complete == snap->complete &&
        last_published_->missing == snap->missing && same_output(*last_published_, *snap)) {
        return;
    }
    if (!snap->complete) {
        log_(LogLevel::Warn, join(snap->missing) + "; keeping the last output in place");
    }
    last_published_ = snap;
    context.publish(snap);
}

Status ObjectSource::run(SourceContext& context) noexcept {
    return guard([&]() -> Status {
        const auto deadline = std::chrono::steady_clock::now() + wait_timeout_;
        std::string path;
        try {
            path = collection(context, deadline);
        } catch (const Interrupted&) {
            return onetime_ ? Status::error("interrupted during API discovery") : Status::ok();
        }
        Informer informer(*client_, path, selection_, informer_options_, log_,
                          [this] { return debug_enabled(); });
        if (onetime_) {
            return list_until_complete(
                context, informer, deadline, wait_timeout_, what_,
                [this](const Informer::State& s) { return build(s); }, log_waits_ ? log_ : LogFn{});
        }
        informer.run(context, [&](const Informer::State& state) { on_change(context, state); });
        return Status::ok();
    });
}

}  // namespace crossover::kube
