#include "endpoints_source.h"

#include <algorithm>
#include <set>

#include "crossover_kube/json.h"

namespace crossover::kube {
namespace {

std::string join(const std::vector<std::string>& items, const char* separator) {
    std::string out;
    for (const auto& i : items) {
        out += out.empty() ? "" : separator;
        out += i;
    }
    return out;
}

}  // namespace

EndpointsSource::EndpointsSource(const ComponentConfig& config)
    : ObjectSource(logger_for(config), config.onetime, "EndpointSlices"),
      slices_(
          [this](const Poco::JSON::Object::Ptr& json) {
              auto slice = std::make_shared<const eds::EndpointSlice>(
                  eds::parse_endpointslice(to_yaml(json), ns_));
              if (slice->address_type == "FQDN") {
                  log_(LogLevel::Warn, slice->ref.describe() +
                                           ": addressType FQDN: left out (EDS needs IP addresses)");
              } else if (!slice->skipped_ports.empty()) {
                  log_(LogLevel::Info,
                       slice->ref.describe() + ": left out " + join(slice->skipped_ports, ", "));
              }
              return slice;
          },
          log_) {
    services_ = config.get_string_list("services");
    std::sort(services_.begin(), services_.end());
    services_.erase(std::unique(services_.begin(), services_.end()), services_.end());
    const std::string labels = config.get_string("label_selector");
    if (services_.empty() && labels.empty()) {
        throw Error(config.where() +
                    "give 'services' or 'label_selector': which Services' endpoints to serve");
    }
    for (const auto& s : services_) {
        if (s.empty() || s.find_first_of(",() =!") != std::string::npos) {
            throw Error(config.where("services") + "'" + s + "' is not a Service name");
        }
    }
    if (!services_.empty()) {
        selection_.label_selector = "kubernetes.io/service-name in (" + join(services_, ",") + ")";
    }
    if (!labels.empty()) {
        selection_.label_selector += (selection_.label_selector.empty() ? "" : ",") + labels;
    }
    document_ = config.has("document") ? config.get_string("document") : "eds.yaml";
    if (document_.empty() || document_.find('/') != std::string::npos || document_ == "." ||
        document_ == "..") {
        throw Error(config.where("document") + "'" + document_ + "' is not a file name");
    }
    if (config.has("cluster_name")) {
        try {
            eds_.cluster_name = eds::ClusterNamePattern(config.get_string("cluster_name"));
        } catch (const Error& e) {
            throw Error(config.where("cluster_name") + e.what());
        }
    }
    const std::string include = config.has("include") ? config.get_string("include") : "ready";
    if (include == "ready") {
        eds_.include = eds::Include::Ready;
    } else if (include == "serving") {
        eds_.include = eds::Include::Serving;
    } else {
        throw Error(config.where("include") + "expected 'ready' or 'serving', got '" + include +
                    "'");
    }
    const ClusterConfig cluster = resolve_config(connection_options(config), Environment::system());
    connect(cluster, timeouts(config));
    informer_options_ = informer_options(config);
    if (config.has("wait_timeout")) {
        wait_timeout_ = config.get_duration("wait_timeout");
    }
}

std::string EndpointsSource::collection(SourceContext& /*context*/,
                                        std::chrono::steady_clock::time_point /*deadline*/) {
    return namespaced("/apis/discovery.k8s.io/v1", "endpointslices");
}

// A slice may change in a way EDS does not show (a starting pod, a label).
bool EndpointsSource::same_output(const Snapshot& last, const Snapshot& next) const {
    return last.documents[0]->content == next.documents[0]->content;
}

SnapshotPtr EndpointsSource::build(const Informer::State& state) {
    // An unchanged slice is not converted again: with thousands of endpoints, a pod
    // becoming ready changes one slice, not all of them.
    const auto valid = slices_.update(state);
    auto snap = std::make_shared<Snapshot>();
    std::vector<eds::EndpointSlicePtr> slices;
    std::set<std::string> seen;
    for (const auto& [name, slice] : valid) {
        slices.push_back(slice);
        seen.insert(slice->service);
    }
    for (const auto& service : services_) {
        if (seen.count(service) == 0) {
            snap->missing.push_back("Service " + ns_ + "/" + service + " has no " +
                                    (state.empty() ? "" : "valid ") + "EndpointSlice");
        }
    }
    snap->complete = snap->missing.empty();
    eds::EdsDocument doc = eds_builder_.build(slices, eds_);
    snap->documents.push_back(std::make_shared<const Document>(
        Document{document_, std::move(doc.content),
                 ObjectRef{"EndpointSlices", ns_, selection_.label_selector, {}}}));
    return snap;
}

}  // namespace crossover::kube
