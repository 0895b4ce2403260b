#include "data.h"

#include <cstdlib>

#include "crossover/status.h"
#include "crossover_smi/trafficsplit.h"

namespace crossover::tmpl {

Value trafficsplits_value(const std::vector<ObjectPtr>& objects) {
    Map out;
    std::map<std::string, std::string> owner;  // name -> "ns/name"
    for (const auto& object : objects) {
        if (!object || !smi::is_trafficsplit(*object)) {
            continue;
        }
        const smi::TrafficSplit ts = smi::parse_trafficsplit(*object);
        const auto [it, inserted] = owner.emplace(ts.ref.name, ts.describe());
        if (!inserted) {
            throw Error(ts.describe() + ": .TrafficSplits." + ts.ref.name + " is also " +
                        it->second +
                        "; templates index TrafficSplits by name, so give them "
                        "distinct names");
        }
        List backends;
        for (const auto& b : ts.backends) {
            backends.push_back(Value::map(
                Map{{"service", Value::string(b.service)}, {"weight", Value::integer(b.weight)}}));
        }
        out[ts.ref.name] = Value::map(Map{{"name", Value::string(ts.ref.name)},
                                          {"namespace", Value::string(ts.ref.ns)},
                                          {"service", Value::string(ts.service)},
                                          {"backends", Value::list(std::move(backends))}});
    }
    return Value::map(std::move(out));
}

Value configmaps_value(const std::vector<DocumentPtr>& documents) {
    std::map<std::string, Map> maps;
    std::map<std::string, std::string> owner;  // "cm/key" -> namespace
    for (const auto& d : documents) {
        if (!d || d->origin.kind != "ConfigMap") {
            continue;
        }
        const std::string id = d->origin.name + "/" + d->name;
        const auto [it, inserted] = owner.emplace(id, d->origin.ns);
        if (!inserted) {
            throw Error("ConfigMap " + d->origin.ns + "/" + d->origin.name + ": key '" + d->name +
                        "' is also in ConfigMap " + it->second + "/" + d->origin.name +
                        "; .ConfigMaps is indexed by name");
        }
        maps[d->origin.name][d->name] = Value::string(d->content);
    }
    Map out;
    for (auto& [name, keys] : maps) {
        out[name] = Value::map(std::move(keys));
    }
    return Value::map(std::move(out));
}

Value env_value(const std::vector<std::string>& names) {
    Map out;
    for (const auto& n : names) {
        const char* v = std::getenv(n.c_str());
        if (v != nullptr) {
            out[n] = Value::string(v);
        }
    }
    return Value::map(std::move(out));
}

Value merge_values(const Value& base, const Value& over) {
    if (base.type() != Value::Type::Dict || over.type() != Value::Type::Dict) {
        return over;
    }
    Map out = base.as_map();
    for (const auto& [k, v] : over.as_map()) {
        const auto it = out.find(k);
        out[k] = it == out.end() ? v : merge_values(it->second, v);
    }
    return Value::map(std::move(out));
}

}  // namespace crossover::tmpl
