// yaml-cpp's tree in the form of doc_tree.h, for texts the scanner refuses:
//
//   xds::ScanResult scanned = xds::scan_document(text);
//   xds::DocTree tree = scanned.accepted ? std::move(scanned.tree)
//                                        : xds::tree_from_yaml(load_yaml(text));
//
// Offsets and lines come from the nodes' marks (a node without one gets
// SIZE_MAX); values are copied into the tree; `end` is left 0 (yaml-cpp does not record where a
// node ends). An alias is converted as a copy of the node it names.
#pragma once

#include <yaml-cpp/yaml.h>

#include "crossover_envoy/doc_tree.h"

namespace crossover::xds {

DocTree tree_from_yaml(const YAML::Node& root);

}  // namespace crossover::xds
