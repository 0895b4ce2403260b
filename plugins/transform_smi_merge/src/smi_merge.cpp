#include "smi_merge.h"

#include <algorithm>

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

Options read_options(const ComponentConfig& config) {
    Options o;
    const std::string match = config.has("match") ? config.get_string("match") : "name";
    if (match == "name") {
        o.match = Match::Name;
    } else if (match == "domain") {
        o.match = Match::Domain;
    } else {
        throw Error(config.where("match") + "expected 'name' or 'domain', got '" + match + "'");
    }
    if (config.has("cluster_name")) {
        try {
            o.cluster_name = ClusterPattern(config.get_string("cluster_name"));
        } catch (const Error& e) {
            throw Error(config.where("cluster_name") + e.what());
        }
    }
    o.dot_to_underscore = config.get_bool("dot_to_underscore");
    o.promote = config.get_bool("promote");
    const std::string unmatched =
        config.has("unmatched") ? config.get_string("unmatched") : "error";
    if (unmatched != "error" && unmatched != "skip") {
        throw Error(config.where("unmatched") + "expected 'error' or 'skip', got '" + unmatched +
                    "'");
    }
    o.skip_unmatched = unmatched == "skip";
    return o;
}

SnapshotPtr Merger::run(const std::vector<Input>& inputs) {
    notes_.clear();
    auto out = std::make_shared<Snapshot>(union_of(inputs));
    // Parsed TrafficSplits are cached by object: a source passes unchanged objects on as the
    // same pointer, so a canary step parses one TrafficSplit, not all of them.
    std::vector<std::shared_ptr<const smi::TrafficSplit>> splits;
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
        t.skip_unmatched = options_.skip_unmatched;
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
