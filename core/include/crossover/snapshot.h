// Documents, objects and snapshots: the immutable values that flow from
// sources through transforms to sinks.
//
// A Document is one file-to-be: a safe file name and its bytes. An Object is a
// Kubernetes object kept whole for transforms (a TrafficSplit, say). A
// Snapshot is the complete state one component publishes at one moment. All
// three are shared as std::shared_ptr<const T>: never mutate one that has been
// published, build a new one instead. YAML::Node copies alias the same tree,
// so use YAML::Clone before editing a node taken from an Object.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace crossover {

// Where a document or object came from, for error messages and metrics.
struct ObjectRef {
    std::string kind;  // "ConfigMap", "TrafficSplit", "File", ...
    std::string ns;    // namespace, empty when not namespaced
    std::string name;  // object name or file path
    std::string resource_version;

    // "ConfigMap test/envoy-xds" or "File /path/x.yaml"
    [[nodiscard]] std::string describe() const {
        std::string out = kind;
        out += ' ';
        if (!ns.empty()) {
            out += ns;
            out += '/';
        }
        out += name;
        return out;
    }
};

struct Document {
    std::string name;     // file name in the output, e.g. "rds.yaml"
    std::string content;  // exact bytes to write
    ObjectRef origin;     // object (and key) it came from
};

struct Object {
    ObjectRef ref;
    std::string api_version;  // e.g. "split.smi-spec.io/v1alpha2"
    YAML::Node body;          // the whole object; treat as read-only
    // True when the user asked for this object by name (a source's `names:`, a
    // file they listed); false when it came along with a namespace or a label
    // selector. A transform may treat an object that is nobody's business
    // (another team's, in the same namespace) more leniently than a named one.
    bool named = true;
};

using DocumentPtr = std::shared_ptr<const Document>;
using ObjectPtr = std::shared_ptr<const Object>;

struct Snapshot {
    // Sorted by name; names unique within a snapshot.
    std::vector<DocumentPtr> documents;
    // Kubernetes objects kept for transforms, sorted by (kind, ns, name).
    std::vector<ObjectPtr> objects;
    // False while objects the source requires are missing (not yet created,
    // deleted): the engine then keeps the last output in place.
    bool complete = true;
    // Human-readable reasons why the snapshot is incomplete.
    std::vector<std::string> missing;

    [[nodiscard]] const Document* find_document(const std::string& name) const {
        for (const auto& d : documents) {
            if (d->name == name) {
                return d.get();
            }
        }
        return nullptr;
    }
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

// A transform's or sink's view of one of its inputs.
struct Input {
    std::string name;  // the input component's name
    SnapshotPtr snapshot;
};

}  // namespace crossover
