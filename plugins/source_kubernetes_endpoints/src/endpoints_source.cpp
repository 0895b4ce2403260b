#include "endpoints_source.h"

#include <algorithm>
#include <set>
#include <utility>

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

// Each item names a Service: not empty, nothing a label selector would read.
bool check_service_names(const YAML::Node& value, std::string& why) {
    const auto bad = [&why](const YAML::Node& n) {
        const std::string& s = n.Scalar();
        if (s.empty() || s.find_first_of(",() =!") != std::string::npos) {
            why = "'" + s + "' is not a Service name";
            return true;
        }
        return false;
    };
    if (value.IsScalar()) {
        return !bad(value);
    }
    for (const auto& item : value) {
        if (bad(item)) {
            return false;
        }
    }
    return true;
}

// The output document's name: a plain file name.
bool check_document(const YAML::Node& value, std::string& why) {
    const std::string& s = value.Scalar();
    if (s.empty() || s.find('/') != std::string::npos || s == "." || s == "..") {
        why = "'" + s + "' is not a file name";
        return false;
    }
    return true;
}

bool check_cluster_name(const YAML::Node& value, std::string& why) {
    try {
        (void)eds::ClusterNamePattern(value.Scalar());
    } catch (const Error& e) {
        why = e.what();
        return false;
    }
    return true;
}

}  // namespace

const OptionTable<EndpointsSourceOptions> kEndpointsSourceOptions{
    option_group(connection_fields(), &EndpointsSourceOptions::connection),
    option_group(timeout_fields(), &EndpointsSourceOptions::timeouts),
    option("services", &EndpointsSourceOptions::services,
           "names of the Services whose EndpointSlices are watched (label "
           "kubernetes.io/service-name); each one is required (see wait_timeout)")
        .check(check_service_names),
    option("label_selector", &EndpointsSourceOptions::label_selector,
           "label selector on the EndpointSlices (the EndpointSlice controller copies the "
           "Service's labels to them); combined with services when both are given"),
    option("document", &EndpointsSourceOptions::document, "name of the output document")
        .check(check_document),
    option("cluster_name", &EndpointsSourceOptions::cluster_name,
           "pattern giving each ClusterLoadAssignment's cluster_name (what a CDS cluster's "
           "eds_cluster_config.service_name names); placeholders {{namespace}}, {{service}}, "
           "{{port}} (the port's name, else its number)")
        .check(check_cluster_name),
    option("include", &EndpointsSourceOptions::include,
           "which endpoints: 'ready' (conditions.ready, not terminating) or 'serving' (also "
           "terminating endpoints that still serve, with health_status DRAINING)")
        .choices({"ready", "serving"}),
    option_group(watch_fields(), &EndpointsSourceOptions::watch),
};

EndpointsSource::EndpointsSource(const ComponentConfig& config,
                                 const EndpointsSourceOptions& options)
    : ObjectSource(config, "EndpointSlices"),
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
    services_ = options.services;
    std::sort(services_.begin(), services_.end());
    services_.erase(std::unique(services_.begin(), services_.end()), services_.end());
    if (services_.empty() && options.label_selector.empty()) {
        throw Error(config.where() +
                    "give 'services' or 'label_selector': which Services' endpoints to serve");
    }
    Selection selection;
    if (!services_.empty()) {
        selection.label_selector = "kubernetes.io/service-name in (" + join(services_, ",") + ")";
    }
    if (!options.label_selector.empty()) {
        selection.label_selector +=
            (selection.label_selector.empty() ? "" : ",") + options.label_selector;
    }
    document_ = options.document;
    eds_.cluster_name = eds::ClusterNamePattern(options.cluster_name);
    eds_.include = options.include == "serving" ? eds::Include::Serving : eds::Include::Ready;
    connect(options.connection, options.timeouts);
    watch(std::move(selection), options.watch);
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
