// The document scanner (plugins/common_envoy, crossover_envoy/doc_tree.h)
// against yaml-cpp. Whatever the scanner accepts, yaml-cpp must read too and
// give the same tree: the same kinds, keys and values, the same quoting and
// flow style, and the same offset and line for every scalar and collection.
// Any difference aborts with both trees' node.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <yaml-cpp/yaml.h>

#include "crossover/yaml_load.h"
#include "crossover_envoy/doc_tree.h"
#include "crossover_envoy/doc_tree_yaml.h"

using crossover::xds::DocKind;
using crossover::xds::DocNode;
using crossover::xds::DocTree;

namespace {

const char* kind_name(DocKind k) {
    switch (k) {
        case DocKind::Null: return "null";
        case DocKind::Scalar: return "scalar";
        case DocKind::Map: return "map";
        case DocKind::Sequence: return "sequence";
    }
    return "?";
}

[[noreturn]] void differ(const char* what, std::uint32_t i, const DocNode& a, const DocNode& b) {
    std::fprintf(stderr,
                 "doc_tree: %s differs at node %u: scanner %s pos %zu line %u next %u '%.*s', "
                 "yaml-cpp %s pos %zu line %u next %u '%.*s'\n",
                 what, i, kind_name(a.kind), a.pos, a.line, a.next,
                 static_cast<int>(a.value.size()), a.value.data(), kind_name(b.kind), b.pos, b.line,
                 b.next, static_cast<int>(b.value.size()), b.value.data());
    std::abort();
}

void compare(const DocTree& scanned, const DocTree& loaded, std::size_t text_size) {
    if (scanned.size() != loaded.size()) {
        std::fprintf(stderr, "doc_tree: scanner has %u nodes, yaml-cpp %u\n", scanned.size(),
                     loaded.size());
        std::abort();
    }
    for (std::uint32_t i = 0; i < scanned.size(); ++i) {
        const DocNode& a = scanned[i];
        const DocNode& b = loaded[i];
        if (a.kind != b.kind) {
            differ("kind", i, a, b);
        }
        if (a.next != b.next) {
            differ("structure", i, a, b);
        }
        if (a.kind == DocKind::Scalar && (a.value != b.value || a.quoted != b.quoted)) {
            differ("value", i, a, b);
        }
        if ((a.kind == DocKind::Map || a.kind == DocKind::Sequence) && a.flow != b.flow) {
            differ("style", i, a, b);
        }
        if (a.kind != DocKind::Null && (a.pos != b.pos || a.line != b.line)) {
            differ("mark", i, a, b);
        }
        if (a.pos > a.end || a.end > text_size) {
            differ("span", i, a, b);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    crossover::xds::ScanResult scanned = crossover::xds::scan_document(text);
    if (!scanned.accepted) {
        return 0;
    }
    YAML::Node root;
    try {
        root = crossover::load_yaml(text);
    } catch (const YAML::Exception& e) {
        std::fprintf(stderr, "doc_tree: the scanner accepted what yaml-cpp refuses: %s\n",
                     e.what());
        std::abort();
    }
    compare(scanned.tree, crossover::xds::tree_from_yaml(root), text.size());
    return 0;
}
