// The SMI merge on arbitrary YAML. The input is a document, a line "%%", then
// TrafficSplit objects separated by lines "---". The document is merged
// twice (the second run goes through the merger's cache) with the default
// options and with domain matching, dots to underscores and promotion. A
// merged document must still be valid YAML.
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
    Options other;
    other.match = Match::Domain;
    other.dot_to_underscore = true;
    other.promote = true;
    try {
        other.cluster_name = ClusterPattern("{{service}}.{{namespace}}");
    } catch (const Error&) {
        std::abort();
    }
    merge(inputs, std::move(other));
    return 0;
}
