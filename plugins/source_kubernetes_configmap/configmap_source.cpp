#include "configmap_source.h"

#include <algorithm>
#include <map>
#include <sstream>

#include <Poco/Base64Decoder.h>
#include <Poco/JSON/Object.h>

#include "crossover_kube/json.h"

namespace crossover::kube {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string decode_base64(const std::string& text) {
    std::istringstream in(text);
    Poco::Base64Decoder decoder(in);
    std::ostringstream out;
    out << decoder.rdbuf();
    return out.str();
}

// ConfigMap keys become file names: refuse anything that could leave the
// output directory or is not a plain name.
bool safe_file_name(const std::string& key) {
    if (key.empty() || key == "." || key.rfind("..", 0) == 0 || key.size() > 253) {
        return false;
    }
    return std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
    });
}

bool same_content(const Snapshot& a, const Snapshot& b) {
    if (a.complete != b.complete || a.missing != b.missing ||
        a.documents.size() != b.documents.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.documents.size(); ++i) {
        const Document& x = *a.documents[i];
        const Document& y = *b.documents[i];
        if (x.name != y.name || x.content != y.content || x.origin.name != y.origin.name) {
            return false;
        }
    }
    return true;
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
    std::string out;
    for (const auto& i : items) {
        if (!out.empty()) {
            out += sep;
        }
        out += i;
    }
    return out;
}

}  // namespace

ConfigMapSource::ConfigMapSource(const ComponentConfig& config)
    : log_(logger_for(config)), onetime_(config.onetime) {
    const ClusterConfig cluster = resolve_config(connection_options(config), Environment::system());
    client_ = std::make_unique<Client>(cluster, timeouts(config), log_);
    ns_ = cluster.ns;
    selection_.names = config.get_string_list("names");
    selection_.label_selector = config.get_string("label_selector");
    for (const auto& n : selection_.names) {
        if (n.empty()) {
            throw Error(config.where("names") + "empty ConfigMap name");
        }
    }
    if (selection_.names.empty() && selection_.label_selector.empty()) {
        throw Error(config.where() + "set names, label_selector or both");
    }
    informer_options_ = informer_options(config);
    if (config.has("wait_timeout")) {
        wait_timeout_ = config.get_duration("wait_timeout");
    }
    log_(LogLevel::Info, "ConfigMaps in namespace " + ns_ + " from " + cluster.server + " (" +
                             cluster.origin + ")");
}

void ConfigMapSource::stop() noexcept {
    client_->interrupt();
}

SnapshotPtr ConfigMapSource::build(const Informer::State& state) const {
    auto snap = std::make_shared<Snapshot>();
    std::map<std::string, DocumentPtr> docs;
    for (const auto& [name, cm] : state) {
        ObjectRef origin{"ConfigMap", ns_, name, metadata_field(cm, "resourceVersion")};
        const std::string ns = metadata_field(cm, "namespace");
        if (!ns.empty()) {
            origin.ns = ns;
        }
        const auto add = [&](const std::string& key, std::string content, const char* field) {
            if (!safe_file_name(key)) {
                throw Error(origin.describe() + ": " + field + " key '" + key +
                            "' is not a safe file name");
            }
            if (auto it = docs.find(key); it != docs.end()) {
                throw Error("document '" + key + "' is defined by both " +
                            it->second->origin.describe() + " and " + origin.describe());
            }
            docs[key] = std::make_shared<const Document>(Document{key, std::move(content), origin});
        };
        if (const auto data = cm->getObject("data"); !data.isNull()) {
            for (const auto& [key, value] : *data) {
                if (!value.isString()) {
                    throw Error(origin.describe() + ": data." + key + ": expected a string");
                }
                add(key, value.convert<std::string>(), "data");
            }
        }
        if (const auto bin = cm->getObject("binaryData"); !bin.isNull()) {
            for (const auto& [key, value] : *bin) {
                std::string decoded;
                try {
                    decoded = decode_base64(value.convert<std::string>());
                } catch (const std::exception& e) {
                    throw Error(origin.describe() + ": binaryData." + key +
                                ": invalid base64: " + e.what());
                }
                add(key, std::move(decoded), "binaryData");
            }
        }
    }
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
    if (last_published_ && same_content(*last_published_, *snap)) {
        return;
    }
    if (!snap->complete) {
        log_(LogLevel::Warn, join(snap->missing, "; ") + "; keeping the last output in place");
    }
    last_published_ = snap;
    context.publish(snap);
}

Status ConfigMapSource::run_onetime(SourceContext& context, Informer& informer) {
    const auto deadline = Clock::now() + wait_timeout_;
    std::string problem;
    for (;;) {
        try {
            std::string rv;
            const Informer::State state = informer.list(rv);
            SnapshotPtr snap = build(state);
            if (snap->complete) {
                context.publish(snap);
                return Status::ok();
            }
            problem = join(snap->missing, "; ");
        } catch (const Interrupted&) {
            return Status::error("interrupted while listing ConfigMaps");
        } catch (const std::exception& e) {
            problem = e.what();
        }
        const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            return Status::error("gave up after " + std::to_string(wait_timeout_.count()) +
                                 "ms (wait_timeout): " + problem);
        }
        log_(LogLevel::Info, "waiting: " + problem);
        if (!context.sleep_for(std::min(left, milliseconds(500)))) {
            return Status::error("stopped while waiting: " + problem);
        }
    }
}

Status ConfigMapSource::run(SourceContext& context) noexcept {
    return guard([&]() -> Status {
        Informer informer(*client_, "/api/v1/namespaces/" + url_encode(ns_) + "/configmaps",
                          selection_, informer_options_, log_);
        if (onetime_) {
            return run_onetime(context, informer);
        }
        informer.run(context, [&](const Informer::State& state) { on_change(context, state); });
        return Status::ok();
    });
}

}  // namespace crossover::kube
