#include "configmap_source.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <typeinfo>
#include <utility>
#include <vector>

#include <Poco/Base64Decoder.h>
#include <Poco/JSON/Object.h>

#include "crossover_kube/configmap_key.h"
#include "crossover_kube/json.h"

namespace crossover::kube {
namespace {

std::string decode_base64(const std::string& text) {
    std::istringstream in(text);
    Poco::Base64Decoder decoder(in);
    std::ostringstream out;
    out << decoder.rdbuf();
    return out.str();
}

// The text of a data value, taken out of the informer's object rather than copied: the object
// is kept only to be handed to this source again, and build() then finds the ConfigMap's
// documents by its resourceVersion without reading its data (see build()). The Var is the
// informer's and not const; its string is left empty.
std::string take_string(Poco::Dynamic::Var& value) {
    if (value.type() != typeid(std::string)) {
        return value.convert<std::string>();
    }
    return std::move(const_cast<std::string&>(value.extract<std::string>()));  // NOLINT
}

// Frees the data of a ConfigMap whose documents are already built from an earlier object of the
// same resourceVersion (a relist hands over new objects of unchanged ConfigMaps).
void release_data(const Poco::JSON::Object::Ptr& cm) {
    if (auto data = cm->getObject("data"); !data.isNull()) {
        for (auto& [key, value] : *data) {
            if (value.type() == typeid(std::string)) {
                std::string().swap(
                    const_cast<std::string&>(value.extract<std::string>()));  // NOLINT
            }
        }
    }
}

}  // namespace

const OptionTable<ConfigMapSourceOptions> kConfigMapSourceOptions{source_fields()};

ConfigMapSource::ConfigMapSource(const ComponentConfig& config,
                                 const ConfigMapSourceOptions& options)
    : ObjectSource(config, "ConfigMaps") {
    log_waits_ = true;
    // Unlike the other sources, not every ConfigMap of the namespace: their data keys merge.
    if (options.selection.names.empty() && options.selection.label_selector.empty()) {
        throw Error(config.where() + "set names, label_selector or both");
    }
    const ClusterConfig cluster = configure(options);
    log_(LogLevel::Info, "ConfigMaps in namespace " + ns_ + " from " + cluster.server + " (" +
                             cluster.origin + ")");
}

std::string ConfigMapSource::collection(SourceContext& /*context*/,
                                        std::chrono::steady_clock::time_point /*deadline*/) {
    return namespaced("/api/v1", "configmaps");
}

bool ConfigMapSource::same_output(const Snapshot& last, const Snapshot& next) const {
    if (last.documents.size() != next.documents.size()) {
        return false;
    }
    for (std::size_t i = 0; i < last.documents.size(); ++i) {
        if (last.documents[i] == next.documents[i]) {
            continue;  // the same document: unchanged
        }
        const Document& x = *last.documents[i];
        const Document& y = *next.documents[i];
        if (x.name != y.name || x.content != y.content || x.origin.name != y.origin.name) {
            return false;
        }
    }
    return true;
}

ConfigMapSource::Built ConfigMapSource::decode(const std::string& name,
                                               const Poco::JSON::Object::Ptr& cm, const Built* last,
                                               bool take) {
    ++decoded_;
    Built out;
    out.resource_version = metadata_field(cm, "resourceVersion");
    ObjectRef origin{"ConfigMap", ns_, name, out.resource_version};
    const std::string ns = metadata_field(cm, "namespace");
    if (!ns.empty()) {
        origin.ns = ns;
    }
    const auto check_key = [&](const std::string& key, const char* field) {
        if (!is_configmap_key(key)) {
            throw Error(origin.describe() + ": " + field + " key '" + key +
                        "' is not a safe file name");
        }
    };
    const auto add = [&](const std::string& key, std::string content) {
        if (last != nullptr) {
            const auto it = last->documents.find(key);
            if (it != last->documents.end() && it->second->content == content &&
                it->second->origin.ns == origin.ns) {
                out.documents[key] = it->second;
                return;
            }
        }
        out.documents[key] =
            std::make_shared<const Document>(Document{key, std::move(content), origin});
    };
    // Everything that can fail is checked, in the order of the documents, before any text is
    // taken out of `cm`: a ConfigMap that fails keeps its object whole.
    auto data = cm->getObject("data");
    if (!data.isNull()) {
        for (const auto& [key, value] : *data) {
            if (!value.isString()) {
                throw Error(origin.describe() + ": data." + key + ": expected a string");
            }
            check_key(key, "data");
        }
    }
    std::vector<std::pair<std::string, std::string>> binary;
    if (const auto bin = cm->getObject("binaryData"); !bin.isNull()) {
        for (const auto& [key, value] : *bin) {
            std::string decoded;
            try {
                decoded = decode_base64(value.convert<std::string>());
            } catch (const std::exception& e) {
                throw Error(origin.describe() + ": binaryData." + key +
                            ": invalid base64: " + e.what());
            }
            if (!data.isNull() && data->has(key)) {
                throw Error("document '" + key + "' is defined by both " + origin.describe() +
                            " and " + origin.describe());
            }
            check_key(key, "binaryData");
            binary.emplace_back(key, std::move(decoded));
        }
    }
    if (!data.isNull()) {
        for (auto& [key, value] : *data) {
            add(key, take ? take_string(value) : value.convert<std::string>());
        }
    }
    for (auto& [key, content] : binary) {
        add(key, std::move(content));
    }
    return out;
}

SnapshotPtr ConfigMapSource::build(const Informer::State& state) {
    auto snap = std::make_shared<Snapshot>();
    std::map<std::string, DocumentPtr> docs;
    for (const auto& [name, cm] : state) {
        auto built = built_.find(name);
        const std::string rv = metadata_field(cm, "resourceVersion");
        if (built != built_.end() && !rv.empty() && built->second.resource_version == rv) {
            release_data(cm);
        } else {
            // Remembered at once, even if this snapshot then fails (a key in two ConfigMaps):
            // the object's data was taken (only when a resourceVersion names what was read).
            Built fresh =
                decode(name, cm, built != built_.end() ? &built->second : nullptr, !rv.empty());
            built = built_.insert_or_assign(name, std::move(fresh)).first;
        }
        for (const auto& [key, doc] : built->second.documents) {
            if (const auto it = docs.find(key); it != docs.end()) {
                throw Error("document '" + key + "' is defined by both " +
                            it->second->origin.describe() + " and " + doc->origin.describe());
            }
            docs[key] = doc;
        }
    }
    std::erase_if(built_, [&](const auto& entry) { return state.count(entry.first) == 0; });
    for (auto& [key, doc] : docs) {
        snap->documents.push_back(doc);
    }
    for (const auto& name : selection_.names) {
        if (state.find(name) == state.end()) {
            snap->missing.push_back("ConfigMap " + ns_ + "/" + name + " not found");
        }
    }
    snap->complete = snap->missing.empty();
    return snap;
}

void ConfigMapSource::on_change(SourceContext& context, const Informer::State& state) {
    SnapshotPtr snap;
    try {
        snap = build(state);
    } catch (const std::exception& e) {
        context.count("errors", 1);
        if (last_error_ != e.what()) {
            last_error_ = e.what();
            log_(LogLevel::Error, last_error_ + "; keeping the last good output");
        }
        return;
    }
    if (!last_error_.empty()) {
        log_(LogLevel::Info, "ConfigMaps usable again");
        last_error_.clear();
    }
    publish_if_new(context, snap);
}

}  // namespace crossover::kube
