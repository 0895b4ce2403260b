// Helpers for a transform's or sink's inputs.
//
// The union of a component's inputs, the one rule the engine (for a sink with
// several inputs) and every bundled transform apply:
// - documents: every input's, sorted by name. A name that two inputs both give
//   is an error: "document 'rds.yaml' comes from both input 'a' and input 'b';
//   rename one of them".
// - objects: every input's, sorted by kind, namespace and name. The same
//   object (kind, namespace, name) from several inputs is kept once when its
//   resource_version agrees, and is an error otherwise.
// - complete: true only when every input is complete; missing: every input's.
// An input without a snapshot is skipped. The result holds the inputs' own
// DocumentPtr/ObjectPtr (nothing is copied), so a transform can pass through
// what it does not change.
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "crossover/snapshot.h"
#include "crossover/status.h"

namespace crossover {

// The union of the inputs' snapshots; throws Error on a clash (see above).
inline Snapshot union_of(const std::vector<Input>& inputs) {
    Snapshot out;
    std::map<std::string_view, std::string_view> document_input;
    for (const auto& input : inputs) {
        if (!input.snapshot) {
            continue;
        }
        const Snapshot& s = *input.snapshot;
        for (const auto& d : s.documents) {
            const auto [it, fresh] = document_input.emplace(d->name, input.name);
            if (!fresh) {
                throw Error("document '" + d->name + "' comes from both input '" +
                            std::string(it->second) + "' and input '" + input.name +
                            "'; rename one of them");
            }
            out.documents.push_back(d);
        }
        out.objects.insert(out.objects.end(), s.objects.begin(), s.objects.end());
        out.complete = out.complete && s.complete;
        out.missing.insert(out.missing.end(), s.missing.begin(), s.missing.end());
    }
    std::sort(out.documents.begin(), out.documents.end(),
              [](const DocumentPtr& a, const DocumentPtr& b) { return a->name < b->name; });
    const auto key = [](const ObjectPtr& o) {
        return std::tie(o->ref.kind, o->ref.ns, o->ref.name);
    };
    const auto by_key = [&](const ObjectPtr& a, const ObjectPtr& b) { return key(a) < key(b); };
    // Each input is sorted already: usually so is their concatenation.
    if (!std::is_sorted(out.objects.begin(), out.objects.end(), by_key)) {
        std::stable_sort(out.objects.begin(), out.objects.end(), by_key);
    }
    std::vector<ObjectPtr> unique;
    unique.reserve(out.objects.size());
    for (auto& o : out.objects) {
        if (!unique.empty() && key(unique.back()) == key(o)) {
            if (unique.back()->ref.resource_version != o->ref.resource_version) {
                throw Error(o->ref.describe() + ": inputs disagree on its version ('" +
                            unique.back()->ref.resource_version + "' and '" +
                            o->ref.resource_version + "')");
            }
            continue;
        }
        unique.push_back(std::move(o));
    }
    out.objects = std::move(unique);
    return out;
}

// The same as a shared snapshot. With exactly one input, its snapshot is
// returned as it is (a snapshot is already sorted and unique): no copy, and a
// component that passes it on keeps the same pointer.
inline std::shared_ptr<const Snapshot> shared_union_of(const std::vector<Input>& inputs) {
    if (inputs.size() == 1 && inputs.front().snapshot) {
        return inputs.front().snapshot;
    }
    return std::make_shared<const Snapshot>(union_of(inputs));
}

// The objects of one kind ("TrafficSplit"), in snapshot order.
inline std::vector<ObjectPtr> objects_of_kind(const Snapshot& snapshot, std::string_view kind) {
    std::vector<ObjectPtr> out;
    for (const auto& o : snapshot.objects) {
        if (o->ref.kind == kind) {
            out.push_back(o);
        }
    }
    return out;
}

}  // namespace crossover
