#include "node_groups.h"

#include <fnmatch.h>

#include "crossover/status.h"

namespace crossover::xds_server {

namespace {

bool matches(const std::string& pattern, const std::string& text) {
    return pattern.empty() || ::fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

std::string scalar(const YAML::Node& entry, const char* key, const std::string& where) {
    const YAML::Node v = entry[key];
    if (!v) {
        return {};
    }
    if (!v.IsScalar()) {
        throw Error(where + key + ": expected a string");
    }
    return v.Scalar();
}

}  // namespace

NodeGroups::NodeGroups(const YAML::Node& value, const std::string& where) {
    if (!value || value.IsNull()) {
        return;
    }
    if (!value.IsSequence()) {
        throw Error(where + "expected a list of groups");
    }
    for (std::size_t i = 0; i < value.size(); ++i) {
        const YAML::Node entry = value[i];
        const std::string at = where + "[" + std::to_string(i) + "] (line " +
                               std::to_string(entry.Mark().line + 1) + "): ";
        if (!entry.IsMap()) {
            throw Error(at + "expected a map with name, node_cluster or node_id, and documents");
        }
        for (const auto& kv : entry) {
            const std::string key = kv.first.Scalar();
            if (key != "name" && key != "node_cluster" && key != "node_id" && key != "documents") {
                throw Error(at + "unknown key '" + key +
                            "' (expected name, node_cluster, node_id, documents)");
            }
        }
        NodeGroup g;
        g.name = scalar(entry, "name", at);
        g.node_cluster = scalar(entry, "node_cluster", at);
        g.node_id = scalar(entry, "node_id", at);
        if (g.name.empty()) {
            throw Error(at + "name: required");
        }
        if (g.node_cluster.empty() && g.node_id.empty()) {
            throw Error(at + "needs node_cluster or node_id");
        }
        const YAML::Node docs = entry["documents"];
        if (!docs || !docs.IsSequence() || docs.size() == 0) {
            throw Error(at + "documents: expected a non-empty list of document name patterns");
        }
        for (const auto& d : docs) {
            if (!d.IsScalar()) {
                throw Error(at + "documents: expected strings");
            }
            g.documents.push_back(d.Scalar());
        }
        groups_.push_back(std::move(g));
    }
}

std::size_t NodeGroups::group_of(const NodeInfo& node) const {
    for (std::size_t i = 0; i < groups_.size(); ++i) {
        if (matches(groups_[i].node_cluster, node.cluster) &&
            matches(groups_[i].node_id, node.id)) {
            return i;
        }
    }
    return groups_.size();
}

bool NodeGroups::includes(std::size_t group, const std::string& name) const {
    if (group >= groups_.size()) {
        return true;
    }
    for (const auto& pattern : groups_[group].documents) {
        if (matches(pattern, name)) {
            return true;
        }
    }
    return false;
}

}  // namespace crossover::xds_server
