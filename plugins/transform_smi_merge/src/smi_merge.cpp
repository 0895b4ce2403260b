#include "smi_merge.h"

#include <algorithm>
#include <set>

#include "crossover/inputs.h"

namespace crossover::smi_merge {
namespace {

std::string wanted_vhost(const smi::TrafficSplit& ts, Match match) {
    if (match == Match::Name) {
        return "no virtual host named '" + ts.service + "'";
    }
    std::string out = "no virtual host with domain '" + ts.service + "'";
    if (!ts.ref.ns.empty()) {
        out += ", '" + ts.service + "." + ts.ref.ns + "' or '" + ts.service + "." + ts.ref.ns +
               ".svc.cluster.local'";
    }
    return out;
}

// spec.matches limits a split to the requests an HTTPRouteGroup matches; applied to the whole
// virtual host it would send every request to the split's backends.
bool has_matches(const smi::TrafficSplit& ts) {
    return ts.matches && !ts.matches.IsNull() &&
           !((ts.matches.IsSequence() || ts.matches.IsMap()) && ts.matches.size() == 0);
}

}  // namespace

std::string ClusterPattern::render(const std::string& service, const smi::TrafficSplit& ts,
                                   bool dot_to_underscore) const {
    std::string out = pattern_.render({service, service, ts.ref.ns, ts.service, ts.ref.name});
    if (dot_to_underscore) {
        std::replace(out.begin(), out.end(), '.', '_');
    }
    return out;
}

namespace {

bool check_cluster_pattern(const YAML::Node& value, std::string& why) {
    try {
        ClusterPattern pattern(value.Scalar());
    } catch (const Error& e) {
        why = e.what();
        return false;
    }
    return true;
}

}  // namespace

const OptionTable<SmiMergeOptions> kSmiMergeOptions{
    option("match", &SmiMergeOptions::match,
           "How a TrafficSplit finds virtual hosts: 'name' (virtual host name equals "
           "spec.service) or 'domain' (a domain equals service, service.namespace or "
           "service.namespace.svc.cluster.local)")
        .choices({"name", "domain"}),
    option("cluster_name", &SmiMergeOptions::cluster_name,
           "Pattern giving a backend's cluster name; placeholders {{service}} (the backend), "
           "{{namespace}}, {{root}} (spec.service), {{name}} (the TrafficSplit)")
        .check(check_cluster_pattern),
    option("dot_to_underscore", &SmiMergeOptions::dot_to_underscore,
           "Replace '.' with '_' in cluster names, as the original Helm chart names clusters"),
    option("promote", &SmiMergeOptions::promote,
           "Turn a route with a plain 'cluster:' naming the service or a backend into "
           "weighted_clusters"),
    option("unmatched", &SmiMergeOptions::unmatched,
           "A TrafficSplit that matches no virtual host: 'error' (nothing is written), 'skip' "
           "(warned once per object version and left out) or 'auto' (error for a split the "
           "source was given by name or read from a file, skip for one selected only by "
           "namespace or label, which may belong to another Envoy)")
        .choices({"auto", "error", "skip"}),
};

Options to_options(const SmiMergeOptions& given) {
    Options o;
    o.match = given.match == "domain" ? Match::Domain : Match::Name;
    o.cluster_name = ClusterPattern(given.cluster_name);
    o.dot_to_underscore = given.dot_to_underscore;
    o.promote = given.promote;
    o.unmatched = given.unmatched == "error"  ? Unmatched::Error
                  : given.unmatched == "skip" ? Unmatched::Skip
                                              : Unmatched::Auto;
    return o;
}

SnapshotPtr Merger::run(const std::vector<Input>& inputs) {
    notes_.clear();
    auto out = std::make_shared<Snapshot>(union_of(inputs));
    // Parsed TrafficSplits are cached by object: a source passes unchanged objects on as the
    // same pointer, so a canary step parses one TrafficSplit, not all of them.
    std::vector<std::shared_ptr<const smi::TrafficSplit>> splits;
    std::set<std::string> unnamed;  // splits selected only by namespace or label
    std::map<const Object*, SplitEntry> parsed;
    for (const auto& o : out->objects) {
        if (!smi::is_trafficsplit(*o)) {
            continue;
        }
        std::shared_ptr<const smi::TrafficSplit> ts;
        if (const auto it = parsed_splits_.find(o.get());
            it != parsed_splits_.end() && it->second.object.lock() == o) {
            ts = it->second.split;
        } else {
            ts = std::make_shared<const smi::TrafficSplit>(smi::parse_trafficsplit(*o));
            ++split_parse_count_;
        }
        parsed[o.get()] = SplitEntry{o, ts};
        if (!o->named) {
            unnamed.insert(ts->describe());
        }
        splits.push_back(std::move(ts));
    }
    parsed_splits_.swap(parsed);
    for (std::size_t i = 1; i < splits.size(); ++i) {
        if (splits[i]->ref.ns == splits[i - 1]->ref.ns &&
            splits[i]->ref.name == splits[i - 1]->ref.name) {
            throw Error(splits[i]->describe() + ": given twice by the inputs");
        }
    }

    std::map<std::string, std::string> noted;  // this run's notes, by TrafficSplit
    std::map<std::string, std::string> versions;
    std::vector<Note> notes;
    // Leaves a TrafficSplit out of this run; reported once per resourceVersion and message.
    const auto leave_out = [&](const std::string& split, LogLevel level,
                               const std::string& message) {
        const std::string value = versions[split] + "\n" + message;
        noted[split] = value;
        if (const auto it = reported_.find(split); it == reported_.end() || it->second != value) {
            notes.push_back(Note{level, message});
        }
    };

    std::vector<WeightTarget> targets;
    for (const auto& split : splits) {
        const smi::TrafficSplit& ts = *split;
        versions[ts.describe()] = ts.ref.resource_version;
        if (has_matches(ts)) {
            leave_out(ts.describe(), LogLevel::Error,
                      ts.describe() +
                          ": spec.matches is not supported: the split applies only to the "
                          "requests its HTTPRouteGroup matches, and applying it to the whole "
                          "virtual host would send every request to its backends; left out "
                          "(its routes keep the weights of the input documents)");
            continue;
        }
        WeightTarget t;
        t.describe = ts.describe();
        t.match = options_.match;
        t.keys.push_back(ts.service);
        if (options_.match == Match::Domain && !ts.ref.ns.empty()) {
            t.keys.push_back(ts.service + "." + ts.ref.ns);
            t.keys.push_back(ts.service + "." + ts.ref.ns + ".svc.cluster.local");
        }
        t.wanted = wanted_vhost(ts, options_.match);
        for (const auto& b : ts.backends) {
            t.backends.push_back(WeightBackend{
                b.service, options_.cluster_name.render(b.service, ts, options_.dot_to_underscore),
                b.weight});
        }
        t.root_cluster = options_.cluster_name.render(ts.service, ts, options_.dot_to_underscore);
        t.promote = options_.promote;
        t.skip_unmatched = options_.unmatched == Unmatched::Skip;
        if (options_.unmatched == Unmatched::Auto && unnamed.count(ts.describe()) > 0) {
            t.skip_unmatched = true;
            t.skip_reason = "selected by namespace or label, not by name; unmatched: auto";
        }
        targets.push_back(std::move(t));
    }
    engine_.apply(*out, targets);
    for (const auto& [split, message] : engine_.unmatched()) {
        leave_out(split, LogLevel::Warn, message);
    }
    // Only a successful run counts as reported: a failed one is logged as a whole.
    skipped_ = noted.size();
    notes_ = std::move(notes);
    reported_ = std::move(noted);
    return out;
}

Status SmiMergeTransform::transform(const std::vector<Input>& inputs,
                                    SnapshotPtr& output) noexcept {
    return guard([&] {
        output = merger_.run(inputs);
        for (const auto& note : merger_.notes()) {
            config_.log(note.level, note.text);
        }
        for (const auto& change : merger_.changes()) {
            config_.log(LogLevel::Info, "weights set: " + change);
        }
        return Status::ok();
    });
}

}  // namespace crossover::smi_merge
