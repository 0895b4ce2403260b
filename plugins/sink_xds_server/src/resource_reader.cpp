#include "resource_reader.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <utility>

#include "crossover/status.h"
#include "crossover_envoy/resources.h"

namespace crossover::xds_server {

namespace {

// Deterministic bytes (map entries sorted), so equal messages get equal versions.
std::string serialize(const google::protobuf::Message& message) {
    std::string out;
    {
        google::protobuf::io::StringOutputStream stream(&out);
        google::protobuf::io::CodedOutputStream coded(&stream);
        coded.SetSerializationDeterministic(true);
        message.SerializeToCodedStream(&coded);
    }
    return out;
}

}  // namespace

std::vector<ResourcePtr> ResourceReader::read_document(const Document& document,
                                                       std::vector<std::string>& errors) {
    const auto cached = cache_.find(document.name);
    if (cached != cache_.end() && cached->second.content == document.content) {
        return cached->second.resources;
    }
    envoy::DecodedDocument decoded = envoy::decode_resources(api_, document);
    if (!decoded.ok()) {
        errors.insert(errors.end(), decoded.errors.begin(), decoded.errors.end());
        return {};
    }
    std::vector<ResourcePtr> out;
    out.reserve(decoded.resources.size());
    for (const auto& d : decoded.resources) {
        std::string where = "document " + document.name;
        if (!document.origin.name.empty()) {
            where += " (" + document.origin.describe() + ")";
        }
        if (d.name.empty()) {
            errors.push_back(where + ": resources[" + std::to_string(d.index) +
                             "]: a resource served over xDS needs a name");
            continue;
        }
        auto r = std::make_shared<Resource>();
        r->name = d.name;
        r->type_url = d.type_url;
        r->value = serialize(*d.message);
        r->origin = where;
        codec_.seal(*r);
        out.push_back(std::move(r));
    }
    cache_[document.name] = Cached{document.content, out};
    return out;
}

ResourceSetPtr ResourceReader::read(const Snapshot& snapshot,
                                    const std::function<bool(const std::string&)>& include) {
    std::vector<std::string> errors;
    std::vector<ResourcePtr> all;
    std::map<std::pair<std::string, std::string>, const Resource*> seen;
    std::map<std::string, Cached> keep;
    for (const auto& doc : snapshot.documents) {
        if (!doc) {
            continue;
        }
        if (const auto c = cache_.find(doc->name); c != cache_.end()) {
            keep.insert(*c);
        }
        if (include && !include(doc->name)) {
            continue;
        }
        for (auto& r : read_document(*doc, errors)) {
            const auto [it, fresh] = seen.emplace(std::make_pair(r->type_url, r->name), r.get());
            if (!fresh) {
                errors.push_back(r->origin + ": resource '" + r->name + "' of type " + r->type_url +
                                 " is also defined by " + it->second->origin);
                continue;
            }
            all.push_back(std::move(r));
        }
        if (const auto c = cache_.find(doc->name); c != cache_.end()) {
            keep.insert_or_assign(c->first, c->second);
        }
    }
    cache_ = std::move(keep);  // forget documents that are gone
    if (!errors.empty()) {
        std::string message = "refused the documents (the clients keep the last good state):";
        for (const auto& e : errors) {
            message += "\n  " + e;
        }
        throw Error(message);
    }
    return std::make_shared<const ResourceSet>(std::move(all));
}

}  // namespace crossover::xds_server
