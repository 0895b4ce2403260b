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

}  // namespace

HTTPRouteSource::HTTPRouteSource(const ComponentConfig& config)
    : ObjectSource(logger_for(config), config.onetime, "HTTPRoutes"),
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
    connect(cluster, timeouts(config));
    selection_.names = config.get_string_list("names");
    selection_.label_selector = config.get_string("label_selector");
    informer_options_ = informer_options(config);
    if (config.has("wait_timeout")) {
        wait_timeout_ = config.get_duration("wait_timeout");
    }
}

std::string HTTPRouteSource::collection(SourceContext& context,
                                        std::chrono::steady_clock::time_point deadline) {
    version_ = discover_version(*client_, context, httproute_api(), api_version_, informer_options_,
                                onetime_, deadline, log_);
    return namespaced(std::string("/apis/") + kGroup + "/" + version_, "httproutes");
}

// The same objects: an invalid change kept the last valid version.
bool HTTPRouteSource::same_output(const Snapshot& last, const Snapshot& next) const {
    return last.objects == next.objects;
}

SnapshotPtr HTTPRouteSource::build(const Informer::State& state) {
    return objects_snapshot("HTTPRoute", state, routes_.update(state));
}

}  // namespace crossover::kube
