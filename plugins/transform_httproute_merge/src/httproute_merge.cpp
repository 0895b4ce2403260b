#include "httproute_merge.h"

#include "change_log.h"
#include "crossover/inputs.h"

namespace crossover::httproute_merge {

namespace {

const std::vector<std::string> kPlaceholders = {"service", "namespace", "port", "route"};

bool check_cluster_pattern(const YAML::Node& value, std::string& why) {
    try {
        NamePattern pattern(value.Scalar(), kPlaceholders);
    } catch (const Error& e) {
        why = e.what();
        return false;
    }
    return true;
}

}  // namespace

const OptionTable<HTTPRouteMergeOptions> kHTTPRouteMergeOptions{
    option("cluster_name", &HTTPRouteMergeOptions::cluster_name,
           "Pattern giving a backendRef's cluster name; placeholders {{service}} (the "
           "backendRef's name), {{namespace}} (its namespace, else the HTTPRoute's), {{port}} "
           "(its port), {{route}} (the HTTPRoute's name)")
        .check(check_cluster_pattern),
};

Options to_options(const HTTPRouteMergeOptions& given) {
    Options o;
    o.cluster_name = NamePattern(given.cluster_name, kPlaceholders);
    return o;
}

std::vector<smi_merge::WeightTarget> targets_of(const gateway::HTTPRoute& route,
                                                const Options& options) {
    std::vector<smi_merge::WeightTarget> out;
    for (const auto& rule : route.rules) {
        if (rule.backends.empty()) {
            continue;  // a redirect or a filter-only rule: no weights to set
        }
        smi_merge::WeightTarget t;
        t.describe = route.describe() + ": " + rule.describe();
        if (route.hostnames.empty()) {
            t.match = smi_merge::Match::Name;
            t.keys = {route.ref.name};
            t.wanted =
                "no virtual host named '" + route.ref.name + "' (the HTTPRoute has no hostnames)";
        } else {
            t.match = smi_merge::Match::Domain;
            t.keys = route.hostnames;
            t.wanted = "no virtual host with domain";
            for (std::size_t i = 0; i < route.hostnames.size(); ++i) {
                t.wanted += (i == 0 ? " '" : ", '") + route.hostnames[i] + "'";
            }
        }
        for (const auto& p : rule.paths) {
            if (p.type == "PathPrefix") {
                t.route_matches.push_back(smi_merge::route_match_text("prefix", p.value));
                t.route_matches.push_back(
                    smi_merge::route_match_text("path_separated_prefix", p.value));
            } else if (p.type == "Exact") {
                t.route_matches.push_back(smi_merge::route_match_text("path", p.value));
            } else {
                t.route_matches.push_back(smi_merge::route_match_text("safe_regex", p.value));
            }
        }
        for (std::size_t b = 0; b < rule.backends.size(); ++b) {
            const gateway::BackendRef& ref = rule.backends[b];
            if (!ref.has_port && options.cluster_name.uses("port")) {
                throw Error(t.describe + ".backendRefs[" + std::to_string(b) + "] (" + ref.name +
                            "): port: missing, and cluster_name uses {{port}}");
            }
            const std::string port = ref.has_port ? std::to_string(ref.port) : std::string();
            t.backends.push_back(smi_merge::WeightBackend{
                ref.name, options.cluster_name.render({ref.name, ref.ns, port, route.ref.name}),
                ref.weight});
        }
        out.push_back(std::move(t));
    }
    return out;
}

SnapshotPtr Merger::run(const std::vector<Input>& inputs) {
    auto out = std::make_shared<Snapshot>(union_of(inputs));
    std::vector<smi_merge::WeightTarget> targets;
    std::map<const Object*, RouteEntry> parsed;
    const gateway::HTTPRoute* previous = nullptr;
    for (const auto& o : out->objects) {
        if (!gateway::is_httproute(*o)) {
            continue;
        }
        std::shared_ptr<const gateway::HTTPRoute> route;
        if (const auto it = parsed_.find(o.get());
            it != parsed_.end() && it->second.object.lock() == o) {
            route = it->second.route;
        } else {
            route = std::make_shared<const gateway::HTTPRoute>(gateway::parse_httproute(*o));
            ++route_parse_count_;
        }
        parsed[o.get()] = RouteEntry{o, route};
        if (previous != nullptr && previous->ref.ns == route->ref.ns &&
            previous->ref.name == route->ref.name) {
            throw Error(route->describe() + ": given twice by the inputs");
        }
        previous = route.get();
        auto more = targets_of(*route, options_);
        targets.insert(targets.end(), std::make_move_iterator(more.begin()),
                       std::make_move_iterator(more.end()));
    }
    parsed_.swap(parsed);
    engine_.apply(*out, targets);
    return out;
}

Status HTTPRouteMergeTransform::transform(const std::vector<Input>& inputs,
                                          SnapshotPtr& output) noexcept {
    return guard([&] {
        output = merger_.run(inputs);
        smi_merge::log_weight_changes(config_, merger_.changes(), "HTTPRoute rules");
        return Status::ok();
    });
}

}  // namespace crossover::httproute_merge
