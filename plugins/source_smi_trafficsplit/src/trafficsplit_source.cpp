#include "trafficsplit_source.h"

#include "crossover_kube/discovery.h"
#include "crossover_kube/json.h"
#include "crossover_smi/trafficsplit.h"

namespace crossover::kube {
namespace {

constexpr const char* kGroup = "split.smi-spec.io";

const ApiGroupVersions& trafficsplit_api() {
    static const ApiGroupVersions api{kGroup,
                                      "TrafficSplit",
                                      {"v1alpha4", "v1alpha3", "v1alpha2", "v1alpha1"},
                                      true,
                                      "(is the SMI TrafficSplit CRD installed?)"};
    return api;
}

}  // namespace

const OptionTable<TrafficSplitSourceOptions> kTrafficSplitSourceOptions{
    option_group(source_fields(), &TrafficSplitSourceOptions::source),
    option("api_version", &TrafficSplitSourceOptions::api_version,
           "split.smi-spec.io version to watch: v1alpha1, v1alpha2, v1alpha3, v1alpha4, or auto "
           "(the server's preferred version from API discovery)")
        .choices({"v1alpha1", "v1alpha2", "v1alpha3", "v1alpha4", "auto"}),
};

TrafficSplitSource::TrafficSplitSource(const ComponentConfig& config,
                                       const TrafficSplitSourceOptions& options)
    : ObjectSource(config, "TrafficSplits"), api_version_(options.api_version) {
    configure(options.source);
}

std::string TrafficSplitSource::collection(SourceContext& context,
                                           std::chrono::steady_clock::time_point deadline) {
    version_ = discover_version(*client_, context, trafficsplit_api(), api_version_,
                                informer_options_, onetime_, deadline, log_);
    return namespaced(std::string("/apis/") + kGroup + "/" + version_, "trafficsplits");
}

bool TrafficSplitSource::same_output(const Snapshot& last, const Snapshot& next) const {
    if (last.objects.size() != next.objects.size()) {
        return false;
    }
    for (std::size_t i = 0; i < last.objects.size(); ++i) {
        if (last.objects[i]->ref.name != next.objects[i]->ref.name ||
            last.objects[i]->ref.resource_version != next.objects[i]->ref.resource_version ||
            last.objects[i]->api_version != next.objects[i]->api_version) {
            return false;
        }
    }
    return true;
}

void TrafficSplitSource::check(const std::string& name, const Poco::JSON::Object::Ptr& json,
                               const std::string& rv, Checked& checked) {
    checked.json = json;
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
    // Asked for by name, or only part of what a namespace or label selector brought.
    obj->named =
        std::find(selection_.names.begin(), selection_.names.end(), name) != selection_.names.end();
    try {
        (void)smi::parse_trafficsplit(*obj);
    } catch (const std::exception& e) {
        if (checked.error != e.what()) {
            checked.error = e.what();
            log_(LogLevel::Error,
                 checked.error + (checked.valid ? "; keeping resourceVersion " +
                                                      checked.valid->ref.resource_version
                                                : std::string("; skipped")));
        }
        return;
    }
    checked.error.clear();
    checked.valid = std::move(obj);
}

SnapshotPtr TrafficSplitSource::build(const Informer::State& state) {
    // The state and the last build's objects are both in name order: walked together, an
    // unchanged object (the same JSON) costs a pointer comparison, no lookup and no copy.
    std::vector<ObjectPtr> objects;
    objects.reserve(state.size());
    auto last = checked_.begin();
    for (const auto& [name, json] : state) {
        while (last != checked_.end() && last->first < name) {
            last = checked_.erase(last);  // gone from the state
        }
        if (last == checked_.end() || last->first != name) {
            last = checked_.emplace_hint(last, name, Checked{});
        }
        Checked& checked = last->second;
        ++last;
        if (checked.json.get() != json.get()) {
            // The same resourceVersion read again (a relist) is not converted again either:
            // converting and validating every TrafficSplit on every event costs O(splits).
            const std::string rv = metadata_field(json, "resourceVersion");
            if (checked.valid && !rv.empty() && checked.valid->ref.resource_version == rv &&
                checked.valid->api_version == get_string(json, "apiVersion")) {
                checked.json = json;
            } else {
                check(name, json, rv, checked);
            }
        }
        if (checked.valid) {
            objects.push_back(checked.valid);
        }
    }
    checked_.erase(last, checked_.end());
    return objects_snapshot("TrafficSplit", state, std::move(objects),
                            [this](const std::string& name) {
                                const auto it = checked_.find(name);
                                return it != checked_.end() && it->second.valid != nullptr;
                            });
}

}  // namespace crossover::kube
