// The SMI merge on arbitrary YAML. The input is a document, a line "%%", then
// TrafficSplit objects separated by lines "---". The document is merged
// twice (the second run goes through the merger's cache) with the default
// options and with domain matching, dots to underscores and promotion. A
// merged document must still be valid YAML. Then canary steps (one split after
// the other gets a new version) go through a merger that re-applies only the
// changed split and one that merges everything: both must give the same bytes,
// errors, change lines and notes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "crossover/sdk.h"
#include "smi_merge.h"

using namespace crossover;
using namespace crossover::smi_merge;

namespace {

std::string scalar_or(const YAML::Node& node, const std::string& fallback) {
    return node && node.IsScalar() ? node.Scalar() : fallback;
}

std::vector<ObjectPtr> objects_from(const std::string& text) {
    std::vector<ObjectPtr> out;
    std::size_t begin = 0;
    while (begin <= text.size()) {
        const std::size_t end = std::min(text.find("\n---\n", begin), text.size());
        YAML::Node body;
        try {
            body = YAML::Load(text.substr(begin, end - begin));
        } catch (const YAML::Exception&) {
        }
        begin = end + 5;
        if (!body.IsMap()) {
            continue;
        }
        auto o = std::make_shared<Object>();
        o->body = body;
        o->ref.kind = scalar_or(body["kind"], "TrafficSplit");
        const YAML::Node meta = body["metadata"];
        if (meta.IsMap()) {
            o->ref.ns = scalar_or(meta["namespace"], "test");
            o->ref.name = scalar_or(meta["name"], "split");
        }
        o->api_version = scalar_or(body["apiVersion"], "");
        out.push_back(std::move(o));
    }
    return out;
}

void merge(const std::vector<Input>& inputs, Options options) {
    Merger merger(std::move(options));
    for (int run = 0; run < 2; ++run) {
        SnapshotPtr out;
        try {
            out = merger.run(inputs);
        } catch (const Error&) {
            return;  // the transform reports it and keeps the last output
        }
        const Document* before = inputs[0].snapshot->find_document("rds.yaml");
        const Document* after = out->find_document("rds.yaml");
        if (after == nullptr) {
            std::abort();
        }
        if (after->content != before->content) {
            try {
                (void)YAML::Load(after->content);
            } catch (const YAML::Exception&) {
                std::abort();  // the merge broke a document it could parse
            }
        }
    }
}

// What a run gave: the documents' bytes or the error, and what it would log.
std::string outcome(Merger& m, const std::vector<Input>& inputs) {
    std::string out;
    try {
        const SnapshotPtr snapshot = m.run(inputs);
        for (const auto& d : snapshot->documents) {
            out += d->name + "\n" + d->content + "\n";
        }
    } catch (const Error& e) {
        return std::string("error: ") + e.what();
    }
    for (const auto& c : m.changes()) {
        out += "change: " + c + "\n";
    }
    for (const auto& n : m.notes()) {
        out += "note: " + n.text + "\n";
    }
    return out + "skipped " + std::to_string(m.skipped());
}

// A new version of a split: its first backend's weight changed when it has one.
ObjectPtr next_version(const ObjectPtr& o) {
    auto copy = std::make_shared<Object>(*o);
    copy->body = YAML::Clone(o->body);
    try {
        const YAML::Node& body = copy->body;
        YAML::Node weight = body["spec"]["backends"][0]["weight"];
        if (weight.IsScalar()) {
            weight = weight.Scalar() == "3" ? "4" : "3";
        }
    } catch (const YAML::Exception&) {
    }
    return copy;
}

void compare_steps(const std::vector<Input>& inputs, const Options& options) {
    const SnapshotPtr docs = inputs[0].snapshot;
    std::vector<ObjectPtr> objects = inputs[1].snapshot->objects;
    const auto with = [&](bool copy_documents) {
        auto d = std::make_shared<Snapshot>(*docs);
        if (copy_documents) {  // new objects, same bytes: no step can be re-applied
            for (auto& doc : d->documents) {
                doc = std::make_shared<const Document>(*doc);
            }
        }
        auto s = std::make_shared<Snapshot>();
        s->objects = objects;
        return std::vector<Input>{Input{"xds", copy_documents ? SnapshotPtr(d) : docs},
                                  Input{"splits", s}};
    };
    Merger step(options);
    Merger whole(options);
    for (std::size_t round = 0; round <= objects.size() && round < 4; ++round) {
        if (round > 0) {
            objects[round - 1] = next_version(objects[round - 1]);
        }
        if (outcome(step, with(false)) != outcome(whole, with(true))) {
            std::abort();  // re-applying the changed split differs from merging all
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const std::size_t sep = text.find("\n%%\n");
    auto docs = std::make_shared<Snapshot>();
    docs->documents.push_back(std::make_shared<const Document>(Document{
        "rds.yaml", text.substr(0, sep), ObjectRef{"ConfigMap", "test", "envoy-xds", "1"}}));
    auto splits = std::make_shared<Snapshot>();
    if (sep != std::string::npos) {
        splits->objects = objects_from(text.substr(sep + 4));
    }
    const std::vector<Input> inputs = {Input{"xds", docs}, Input{"splits", splits}};

    merge(inputs, Options{});
    compare_steps(inputs, Options{});
    Options other;
    other.match = Match::Domain;
    other.dot_to_underscore = true;
    other.promote = true;
    try {
        other.cluster_name = ClusterPattern("{{service}}.{{namespace}}");
    } catch (const Error&) {
        std::abort();
    }
    merge(inputs, other);
    compare_steps(inputs, other);
    return 0;
}
