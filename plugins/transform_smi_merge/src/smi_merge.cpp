#include "smi_merge.h"

#include <algorithm>
#include <set>

#include "change_log.h"
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
    auto out = std::make_shared<Snapshot>(union_of(inputs));
    if (!reapply_changed(*out)) {
        merge_all(*out);
    }
    return out;
}

std::shared_ptr<const smi::TrafficSplit> Merger::parsed(const ObjectPtr& o) {
    // Parsed TrafficSplits are cached by object: a source passes unchanged objects on as the
    // same pointer, so a canary step parses one TrafficSplit, not all of them.
    if (const auto it = parsed_splits_.find(o.get());
        it != parsed_splits_.end() && it->second.object.lock() == o) {
        return it->second.split;
    }
    auto ts = std::make_shared<const smi::TrafficSplit>(smi::parse_trafficsplit(*o));
    ++split_parse_count_;
    parsed_splits_[o.get()] = SplitEntry{o, ts};
    return ts;
}

WeightTarget Merger::target_for(const smi::TrafficSplit& ts, bool named) const {
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
    if (options_.unmatched == Unmatched::Auto && !named) {
        t.skip_unmatched = true;
        t.skip_reason = "selected by namespace or label, not by name; unmatched: auto";
    }
    return t;
}

bool Merger::reapply_changed(Snapshot& out) {
    if (!last_valid_ || out.objects.size() != last_.size()) {
        return false;
    }
    // The same object: the same control block (a weak pointer keeps it, so its address is
    // never another object's).
    const auto same = [](const std::weak_ptr<const Object>& before, const ObjectPtr& now) {
        return !before.owner_before(now) && !now.owner_before(before);
    };
    std::vector<std::size_t> positions;  // of the TrafficSplits that changed
    for (std::size_t i = 0; i < out.objects.size(); ++i) {
        if (same(last_[i].object, out.objects[i])) {
            continue;
        }
        const bool split = smi::is_trafficsplit(*out.objects[i]);
        if (last_[i].target == kNotSplit && !split) {
            continue;  // another kind of object: not the merge's business
        }
        if (last_[i].target == kNotSplit || last_[i].target == kLeftOut || !split) {
            return false;
        }
        positions.push_back(i);
    }
    // Many splits changed at once (a relist, a helm upgrade): merged as a whole.
    if (positions.size() > 1 && positions.size() * 8 > last_.size()) {
        return false;
    }
    std::vector<std::shared_ptr<const smi::TrafficSplit>> splits;
    std::vector<WeightTarget> targets;
    splits.reserve(positions.size());
    targets.reserve(positions.size());
    for (const std::size_t i : positions) {
        const smi::TrafficSplit& before = *last_[i].split;
        std::shared_ptr<const smi::TrafficSplit> now;
        try {
            now = parsed(out.objects[i]);
        } catch (const Error&) {
            return false;  // merge_all reports it
        }
        // The same split (as the full merge finds it and names it), still applied as a whole.
        if (now->ref.ns != before.ref.ns || now->ref.name != before.ref.name ||
            now->describe() != before.describe() || has_matches(*now)) {
            return false;
        }
        targets.push_back(target_for(*now, out.objects[i]->named));
        splits.push_back(std::move(now));
    }
    std::vector<ChangedTarget> changed;
    changed.reserve(positions.size());
    for (std::size_t j = 0; j < positions.size(); ++j) {
        changed.push_back(ChangedTarget{last_[positions[j]].target, &targets[j]});
    }
    if (!engine_.reapply(out, changed)) {
        return false;
    }

    // Notes for the changed splits only: the others are reported as they were.
    notes_.clear();
    for (std::size_t j = 0; j < positions.size(); ++j) {
        const std::string name = splits[j]->describe();
        std::string previous;
        if (const auto it = reported_.find(name); it != reported_.end()) {
            previous = it->second;
            reported_.erase(it);
        }
        for (const auto& [split, message] : engine_.unmatched()) {
            if (split != name) {
                continue;
            }
            std::string value = splits[j]->ref.resource_version + "\n" + message;
            if (value != previous) {
                notes_.push_back(Note{LogLevel::Warn, message});
            }
            reported_[name] = std::move(value);
        }
    }
    skipped_ = reported_.size();
    for (std::size_t j = 0; j < positions.size(); ++j) {
        LastObject& last = last_[positions[j]];
        if (const auto it = parsed_splits_.find(last.address);
            it != parsed_splits_.end() && !it->second.object.owner_before(last.object) &&
            !last.object.owner_before(it->second.object)) {
            parsed_splits_.erase(it);
        }
        last.split = std::move(splits[j]);
    }
    // Every object as it is now, for the next comparison.
    for (std::size_t i = 0; i < out.objects.size(); ++i) {
        if (!same(last_[i].object, out.objects[i])) {
            last_[i].object = out.objects[i];
            last_[i].address = out.objects[i].get();
        }
    }
    return true;
}

void Merger::merge_all(Snapshot& out) {
    ++full_merge_count_;
    last_valid_ = false;
    notes_.clear();
    std::vector<std::shared_ptr<const smi::TrafficSplit>> splits;
    std::vector<std::size_t> split_position;
    std::vector<LastObject> last(out.objects.size());
    std::set<std::string> unnamed;  // splits selected only by namespace or label
    std::map<const Object*, SplitEntry> parsed;
    for (std::size_t i = 0; i < out.objects.size(); ++i) {
        const auto& o = out.objects[i];
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
        last[i].split = ts;
        if (!o->named) {
            unnamed.insert(ts->describe());
        }
        splits.push_back(std::move(ts));
        split_position.push_back(i);
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
    for (std::size_t s = 0; s < splits.size(); ++s) {
        const smi::TrafficSplit& ts = *splits[s];
        versions[ts.describe()] = ts.ref.resource_version;
        if (has_matches(ts)) {
            last[split_position[s]].target = kLeftOut;
            leave_out(ts.describe(), LogLevel::Error,
                      ts.describe() +
                          ": spec.matches is not supported: the split applies only to the "
                          "requests its HTTPRouteGroup matches, and applying it to the whole "
                          "virtual host would send every request to its backends; left out "
                          "(its routes keep the weights of the input documents)");
            continue;
        }
        last[split_position[s]].target = targets.size();
        targets.push_back(target_for(ts, unnamed.count(ts.describe()) == 0));
    }
    engine_.apply(out, targets);
    for (const auto& [split, message] : engine_.unmatched()) {
        leave_out(split, LogLevel::Warn, message);
    }
    // Only a successful run counts as reported: a failed one is logged as a whole.
    skipped_ = noted.size();
    notes_ = std::move(notes);
    reported_ = std::move(noted);
    // A split is found again by its name: the next run may re-apply only what changed.
    last_valid_ = versions.size() == splits.size();
    for (std::size_t i = 0; i < out.objects.size(); ++i) {
        last[i].object = out.objects[i];
        last[i].address = out.objects[i].get();
    }
    last_ = std::move(last);
}

Status SmiMergeTransform::transform(const std::vector<Input>& inputs,
                                    SnapshotPtr& output) noexcept {
    return guard([&] {
        output = merger_.run(inputs);
        for (const auto& note : merger_.notes()) {
            config_.log(note.level, note.text);
        }
        log_weight_changes(config_, merger_.changes(), "TrafficSplits");
        return Status::ok();
    });
}

}  // namespace crossover::smi_merge
