#include "crossover_envoy/doc_tree_yaml.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace crossover::xds {
namespace {

void convert(const YAML::Node& node, DocTree& tree) {
    DocNode out;
    const YAML::Mark mark = node.Mark();
    // A node without a mark (-1) gets an offset past any text.
    out.pos = mark.pos >= 0 ? static_cast<std::size_t>(mark.pos) : SIZE_MAX;
    out.line = mark.line > 0 ? static_cast<std::uint32_t>(mark.line) : 0;
    switch (node.Type()) {
        case YAML::NodeType::Scalar: out.kind = DocKind::Scalar; break;
        case YAML::NodeType::Map: out.kind = DocKind::Map; break;
        case YAML::NodeType::Sequence: out.kind = DocKind::Sequence; break;
        default: out.kind = DocKind::Null; break;
    }
    const auto index = static_cast<std::uint32_t>(tree.nodes().size());
    if (out.kind == DocKind::Scalar) {
        out.quoted = node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str";
        out.value = tree.own(node.Scalar());
    } else if (out.kind != DocKind::Null) {
        out.flow = node.Style() == YAML::EmitterStyle::Flow;
    }
    tree.nodes().push_back(out);
    if (out.kind == DocKind::Map) {
        for (auto it = node.begin(); it != node.end(); ++it) {
            convert(it->first, tree);
            convert(it->second, tree);
        }
    } else if (out.kind == DocKind::Sequence) {
        for (const auto& child : node) {
            convert(child, tree);
        }
    }
    tree.nodes()[index].next = static_cast<std::uint32_t>(tree.nodes().size());
}

}  // namespace

DocTree tree_from_yaml(const YAML::Node& root) {
    DocTree tree;
    convert(root, tree);
    return tree;
}

}  // namespace crossover::xds
