#include "trafficsplit_source.h"

#include <algorithm>

#include "crossover_kube/json.h"
#include "crossover_smi/trafficsplit.h"

namespace crossover::kube {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kGroup = "split.smi-spec.io";

bool known_version(const std::string& v) {
    return v == "v1alpha1" || v == "v1alpha2" || v == "v1alpha3" || v == "v1alpha4";
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
    api_version_ = config.get_string("api_version");
    if (api_version_.empty()) {
        api_version_ = "auto";
    }
    if (api_version_ != "auto" && !known_version(api_version_)) {
        throw Error(config.where("api_version") + "unknown version '" + api_version_ +
                    "' (expected v1alpha1, v1alpha2, v1alpha3, v1alpha4 or auto)");
    }
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

std::string TrafficSplitSource::discover(SourceContext& context, Clock::time_point deadline) {
    if (api_version_ != "auto") {
        return api_version_;
    }
    Backoff backoff(informer_options_.backoff_initial, informer_options_.backoff_max);
    for (;;) {
        std::string problem;
        try {
            const Response r = client_->request("GET", std::string("/apis/") + kGroup);
            if (r.status == 200) {
                const auto group = parse_object(r.body, "API discovery of " + std::string(kGroup));
                const auto preferred = group->getObject("preferredVersion");
                std::string v = get_string(preferred, "version");
                if (known_version(v)) {
                    log_(LogLevel::Info,
                         "TrafficSplit API version " + v + " (the server's preferred version)");
                    return v;
                }
                problem = "the server prefers unsupported version '" + v + "'";
            } else if (r.status == 404) {
                problem = std::string("the API group ") + kGroup + " is not served by " +
                          client_->server() + " (is the SMI TrafficSplit CRD installed?)";
            } else {
                problem = "API discovery of " + std::string(kGroup) + ": HTTP " +
                          std::to_string(r.status) + " " + r.reason;
            }
        } catch (const Interrupted&) {
            throw;
        } catch (const std::exception& e) {
            problem = e.what();
        }
        context.count("discovery_errors", 1);
        const auto delay = backoff.next();
        if (onetime_ && Clock::now() + delay >= deadline) {
            throw Error(problem);
        }
        log_(LogLevel::Warn, problem + "; retrying in " + std::to_string(delay.count()) + "ms");
        if (!context.sleep_for(delay)) {
            throw Interrupted();
        }
    }
}

Status TrafficSplitSource::run(SourceContext& context) noexcept {
    return guard([&]() -> Status {
        const auto deadline = Clock::now() + wait_timeout_;
        try {
            version_ = discover(context, deadline);
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
