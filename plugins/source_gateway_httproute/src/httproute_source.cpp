#include "httproute_source.h"

#include "crossover_gateway/httproute.h"
#include "crossover_kube/discovery.h"
#include "crossover_kube/json.h"

namespace crossover::kube {
namespace {

constexpr const char* kGroup = "gateway.networking.k8s.io";

// v1 and v1beta1 serve the same objects with the same schema; v1 is the stable one.
const ApiGroupVersions& httproute_api() {
    static const ApiGroupVersions api{
        kGroup, "HTTPRoute", {"v1", "v1beta1"}, false, "(are the Gateway API CRDs installed?)"};
    return api;
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

HTTPRouteSource::HTTPRouteSource(const ComponentConfig& config)
    : log_(logger_for(config)),
      onetime_(config.onetime),
      routes_(
          [this](const Poco::JSON::Object::Ptr& json) {
              auto obj = std::make_shared<Object>();
              const std::string name = metadata_field(json, "name");
              const std::string ns = metadata_field(json, "namespace");
              obj->ref = ObjectRef{"HTTPRoute", ns.empty() ? ns_ : ns, name,
                                   metadata_field(json, "resourceVersion")};
              obj->api_version = get_string(json, "apiVersion");
              if (obj->api_version.empty()) {
                  obj->api_version = std::string(kGroup) + "/" + version_;
              }
              obj->body = to_yaml(json);
              (void)gateway::parse_httproute(*obj);  // throws naming route, rule and backend
              return std::shared_ptr<const Object>(std::move(obj));
          },
          log_) {
    api_version_ = api_version_option(config, httproute_api());
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

void HTTPRouteSource::stop() noexcept {
    client_->interrupt();
}

SnapshotPtr HTTPRouteSource::build(const Informer::State& state) {
    auto snap = std::make_shared<Snapshot>();
    const auto valid = routes_.update(state);
    for (const auto& [name, obj] : valid) {
        snap->objects.push_back(obj);
    }
    for (const auto& name : selection_.names) {
        if (valid.find(name) == valid.end()) {
            snap->missing.push_back(
                "HTTPRoute " + ns_ + "/" + name +
                (state.find(name) == state.end() ? " not found" : " is invalid"));
        }
    }
    snap->complete = snap->missing.empty();
    return snap;
}

void HTTPRouteSource::on_change(SourceContext& context, const Informer::State& state) {
    SnapshotPtr snap = build(state);
    if (last_published_ && last_published_->complete == snap->complete &&
        last_published_->missing == snap->missing && last_published_->objects == snap->objects) {
        return;  // the same objects (an invalid change kept the last valid version)
    }
    if (!snap->complete) {
        log_(LogLevel::Warn, join(snap->missing) + "; keeping the last output in place");
    }
    last_published_ = snap;
    context.publish(snap);
}

Status HTTPRouteSource::run(SourceContext& context) noexcept {
    return guard([&]() -> Status {
        const auto deadline = std::chrono::steady_clock::now() + wait_timeout_;
        try {
            version_ = discover_version(*client_, context, httproute_api(), api_version_,
                                        informer_options_, onetime_, deadline, log_);
        } catch (const Interrupted&) {
            return onetime_ ? Status::error("interrupted during API discovery") : Status::ok();
        }
        Informer informer(*client_,
                          std::string("/apis/") + kGroup + "/" + version_ + "/namespaces/" +
                              url_encode(ns_) + "/httproutes",
                          selection_, informer_options_, log_);
        if (onetime_) {
            return list_until_complete(context, informer, deadline, wait_timeout_, "HTTPRoutes",
                                       [this](const Informer::State& s) { return build(s); });
        }
        informer.run(context, [&](const Informer::State& state) { on_change(context, state); });
        return Status::ok();
    });
}

}  // namespace crossover::kube
