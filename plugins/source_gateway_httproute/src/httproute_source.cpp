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

const OptionTable<HTTPRouteSourceOptions> kHTTPRouteSourceOptions{
    option_group(source_fields(), &HTTPRouteSourceOptions::source),
    option("api_version", &HTTPRouteSourceOptions::api_version,
           "gateway.networking.k8s.io version to watch: v1, v1beta1 (the same objects, the same "
           "schema), or auto (v1 when the server serves it, else v1beta1, from API discovery)")
        .choices({"v1", "v1beta1", "auto"}),
};

HTTPRouteSource::HTTPRouteSource(const ComponentConfig& config,
                                 const HTTPRouteSourceOptions& options)
    : ObjectSource(config, "HTTPRoutes"),
      api_version_(options.api_version),
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
    configure(options.source);
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
