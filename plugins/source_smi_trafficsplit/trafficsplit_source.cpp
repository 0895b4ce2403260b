#include "trafficsplit_source.h"

#include <algorithm>

#include "crossover_kube/discovery.h"
#include "crossover_kube/json.h"
#include "crossover_smi/trafficsplit.h"

namespace crossover::kube {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kGroup = "split.smi-spec.io";

const ApiGroupVersions& trafficsplit_api() {
    static const ApiGroupVersions api{kGroup,
                                      "TrafficSplit",
                                      {"v1alpha4", "v1alpha3", "v1alpha2", "v1alpha1"},
                                      true,
                                      "(is the SMI TrafficSplit CRD installed?)"};
    return api;
}

bool same_objects(const Snapshot& a, const Snapshot& b) {
    if (a.complete != b.complete || a.missing != b.missing ||
        a.objects.size() != b.objects.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.objects.size(); ++i) {
        if (a.objects[i]->ref.name != b.objects[i]->ref.name ||
            a.objects[i]->ref.resource_version != b.objects[i]->ref.resource_version ||
            a.objects[i]->api_version != b.objects[i]->api_version) {
            return false;
        }
    }
    return true;
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) {
        out += out.empty() ? "" : "; ";
        out += i;
    }
    return out;
}

}  // namespace

TrafficSplitSource::TrafficSplitSource(const ComponentConfig& config)
    : log_(logger_for(config)), onetime_(config.onetime) {
    api_version_ = api_version_option(config, trafficsplit_api());
    const ClusterConfig cluster = resolve_config(connection_options(config), Environment::system());
    client_ = std::make_unique<Client>(cluster, timeouts(config), log_);
    ns_ = cluster.ns;
    selection_.names = config.get_string_list("names");
    selection_.label_selector = config.get_string("label_selector");
    informer_options_ = informer_options(config);
    if (config.has("wait_timeout")) {
        wait_timeout_ = config.get_duration("wait_timeout");
    }
}

void TrafficSplitSource::stop() noexcept {
    client_->interrupt();
}

SnapshotPtr TrafficSplitSource::build(const Informer::State& state) {
    auto snap = std::make_shared<Snapshot>();
    std::map<std::string, ObjectPtr> valid;
    for (const auto& [name, json] : state) {
        const std::string rv = metadata_field(json, "resourceVersion");
        // An object the server has not changed since the last snapshot is reused as it is:
        // converting and validating every TrafficSplit on every event costs O(splits).
        if (const auto last = last_valid_.find(name);
            !rv.empty() && last != last_valid_.end() && last->second->ref.resource_version == rv &&
            last->second->api_version == get_string(json, "apiVersion")) {
            valid[name] = last->second;
            continue;
        }
        auto obj = std::make_shared<Object>();
        obj->ref = ObjectRef{"TrafficSplit", ns_, name, rv};
        if (const std::string ns = metadata_field(json, "namespace"); !ns.empty()) {
            obj->ref.ns = ns;
        }
        obj->api_version = get_string(json, "apiVersion");
        if (obj->api_version.empty()) {
            obj->api_version = std::string(kGroup) + "/" + version_;
        }
        obj->body = to_yaml(json);
        try {
            (void)smi::parse_trafficsplit(*obj);
        } catch (const std::exception& e) {
            if (reported_[name] != e.what()) {
                reported_[name] = e.what();
                const auto last = last_valid_.find(name);
                log_(LogLevel::Error,
                     std::string(e.what()) +
                         (last != last_valid_.end()
                              ? "; keeping resourceVersion " + last->second->ref.resource_version
                              : std::string("; skipped")));
            }
            if (const auto last = last_valid_.find(name); last != last_valid_.end()) {
                valid[name] = last->second;
            }
            continue;
        }
        reported_.erase(name);
        valid[name] = obj;
    }
    last_valid_ = valid;
    for (const auto& [name, obj] : valid) {
        snap->objects.push_back(obj);
    }
    for (const auto& name : selection_.names) {
        if (valid.find(name) == valid.end()) {
            snap->missing.push_back(
                "TrafficSplit " + ns_ + "/" + name +
                (state.find(name) == state.end() ? " not found" : " is invalid"));
        }
    }
    snap->complete = snap->missing.empty();
    return snap;
}

void TrafficSplitSource::on_change(SourceContext& context, const Informer::State& state) {
    SnapshotPtr snap = build(state);
    if (last_published_ && same_objects(*last_published_, *snap)) {
        return;
    }
    if (!snap->complete) {
        log_(LogLevel::Warn, join(snap->missing) + "; keeping the last output in place");
    }
    last_published_ = snap;
    context.publish(snap);
}

Status TrafficSplitSource::run(SourceContext& context) noexcept {
    return guard([&]() -> Status {
        const auto deadline = Clock::now() + wait_timeout_;
        try {
            version_ = discover_version(*client_, context, trafficsplit_api(), api_version_,
                                        informer_options_, onetime_, deadline, log_);
        } catch (const Interrupted&) {
            return onetime_ ? Status::error("interrupted during API discovery") : Status::ok();
        }
        Informer informer(*client_,
                          std::string("/apis/") + kGroup + "/" + version_ + "/namespaces/" +
                              url_encode(ns_) + "/trafficsplits",
                          selection_, informer_options_, log_);
        if (onetime_) {
            return list_until_complete(context, informer, deadline, wait_timeout_, "TrafficSplits",
                                       [this](const Informer::State& s) { return build(s); });
        }
        informer.run(context, [&](const Informer::State& state) { on_change(context, state); });
        return Status::ok();
    });
}

}  // namespace crossover::kube
