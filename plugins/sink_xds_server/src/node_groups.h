// Node groups: which documents a client is served, chosen by the node it
// names in its first request (node.cluster or node.id, shell-style patterns).
// A client no group matches gets every document.
//
//   node_groups:
//   - name: grpc-clients
//     node_cluster: "grpc-*"
//     documents: ["grpc-*.yaml", rds.yaml, cds.yaml, eds.yaml]
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "discovery_codec.h"

namespace crossover::xds_server {

struct NodeGroup {
    std::string name;
    std::string node_cluster;            // pattern; empty: any
    std::string node_id;                 // pattern; empty: any
    std::vector<std::string> documents;  // patterns of document names
};

class NodeGroups {
public:
    NodeGroups() = default;
    // Reads the option's value; throws crossover::Error naming `where` and the
    // entry at fault.
    NodeGroups(const YAML::Node& value, const std::string& where);

    // The groups, in the order given; index size() is the default group.
    [[nodiscard]] const std::vector<NodeGroup>& groups() const { return groups_; }
    [[nodiscard]] std::size_t size() const { return groups_.size(); }
    // The first group whose patterns match the node, else size().
    [[nodiscard]] std::size_t group_of(const NodeInfo& node) const;
    // True when group `group` serves document `name` (the default serves all).
    [[nodiscard]] bool includes(std::size_t group, const std::string& name) const;

private:
    std::vector<NodeGroup> groups_;
};

}  // namespace crossover::xds_server
