#include "smi_merge.h"

#include <algorithm>

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
    return o;
}

SnapshotPtr Merger::run(const std::vector<Input>& inputs) {
    std::shared_ptr<Snapshot> out = gather_inputs(inputs);
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

    std::vector<WeightTarget> targets;
    for (const auto& split : splits) {
        const smi::TrafficSplit& ts = *split;
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
        targets.push_back(std::move(t));
    }
    engine_.apply(*out, targets);
    return out;
}

Status SmiMergeTransform::transform(const std::vector<Input>& inputs,
                                    SnapshotPtr& output) noexcept {
    return guard([&] {
        output = merger_.run(inputs);
        for (const auto& change : merger_.changes()) {
            config_.log(LogLevel::Info, "weights set: " + change);
        }
        return Status::ok();
    });
}

}  // namespace crossover::smi_merge
