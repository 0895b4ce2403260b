#include "configmap_sink.h"

#include <algorithm>
#include <sstream>

#include <Poco/Base64Encoder.h>

#include "crossover_kube/configmap_key.h"
#include "crossover_kube/json.h"

namespace crossover::kube {
namespace {

bool valid_utf8(const std::string& s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t len = 0;
        if (c < 0x80) {
            len = 1;
        } else if ((c & 0xE0u) == 0xC0u && c >= 0xC2) {
            len = 2;
        } else if ((c & 0xF0u) == 0xE0u) {
            len = 3;
        } else if ((c & 0xF8u) == 0xF0u && c <= 0xF4) {
            len = 4;
        } else {
            return false;
        }
        if (i + len > s.size()) {
            return false;
        }
        for (std::size_t k = 1; k < len; ++k) {
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0u) != 0x80u) {
                return false;
            }
        }
        i += len;
    }
    return true;
}

std::string encode_base64(const std::string& bytes) {
    std::ostringstream out;
    Poco::Base64Encoder enc(out);
    enc.rdbuf()->setLineLength(0);
    enc << bytes;
    enc.close();
    return out.str();
}

std::map<std::string, std::string> string_map(const Poco::JSON::Object::Ptr& obj) {
    std::map<std::string, std::string> out;
    if (obj.isNull()) {
        return out;
    }
    for (const auto& [k, v] : *obj) {
        out[k] = v.isEmpty() ? std::string() : v.convert<std::string>();
    }
    return out;
}

Poco::JSON::Object::Ptr to_object(const std::map<std::string, std::string>& m) {
    Poco::JSON::Object::Ptr out = new Poco::JSON::Object;
    for (const auto& [k, v] : m) {
        out->set(k, v);
    }
    return out;
}

std::string error_text(const Response& r) {
    std::string out = "HTTP " + std::to_string(r.status) + " " + r.reason;
    try {
        const std::string m = get_string(parse_object(r.body, "error"), "message");
        if (!m.empty()) {
            out += ": " + m;
        }
    } catch (const std::exception&) {  // NOLINT(bugprone-empty-catch): not a Status body
    }
    return out;
}

}  // namespace

const OptionTable<ConfigMapSinkOptions> kConfigMapSinkOptions{
    option_group(connection_fields(), &ConfigMapSinkOptions::connection),
    option_group(timeout_fields(), &ConfigMapSinkOptions::timeouts),
    option("name", &ConfigMapSinkOptions::name, "name of the ConfigMap to write")
        .required()
        .check(checks::not_empty),
    option("labels", &ConfigMapSinkOptions::labels,
           "labels set on the ConfigMap (other labels are kept)"),
    option("max_conflict_retries", &ConfigMapSinkOptions::max_conflict_retries,
           "how many times a 409 Conflict is resolved by re-reading and retrying")
        .range(0, 100),
    option("allow_empty", &ConfigMapSinkOptions::allow_empty,
           "write a ConfigMap without data; refused by default, as an emptied input is a "
           "mistake"),
};

ConfigMapSink::ConfigMapSink(const ComponentConfig& config, const ConfigMapSinkOptions& options)
    : log_(logger_for(config)),
      name_(options.name),
      labels_(options.labels),
      max_retries_(static_cast<int>(options.max_conflict_retries)),
      allow_empty_(options.allow_empty) {
    const ClusterConfig cluster = resolve_config(options.connection, Environment::system());
    client_ = std::make_unique<Client>(cluster, options.timeouts, log_);
    ns_ = cluster.ns;
}

std::string ConfigMapSink::describe() const {
    return "ConfigMap " + ns_ + "/" + name_;
}

bool ConfigMapSink::matches(const Poco::JSON::Object::Ptr& cm, const Content& desired) const {
    if (string_map(cm->getObject("data")) != desired.data ||
        string_map(cm->getObject("binaryData")) != desired.binary) {
        return false;
    }
    const auto labels = string_map(cm->getObject("metadata")->getObject("labels"));
    return std::all_of(labels_.begin(), labels_.end(), [&](const auto& kv) {
        auto it = labels.find(kv.first);
        return it != labels.end() && it->second == kv.second;
    });
}

Poco::JSON::Object::Ptr ConfigMapSink::render(const Poco::JSON::Object::Ptr& base,
                                              const Content& desired) const {
    Poco::JSON::Object::Ptr cm;
    if (base.isNull()) {
        cm = new Poco::JSON::Object;
        cm->set("apiVersion", "v1");
        cm->set("kind", "ConfigMap");
        Poco::JSON::Object::Ptr meta = new Poco::JSON::Object;
        meta->set("name", name_);
        meta->set("namespace", ns_);
        cm->set("metadata", meta);
    } else {
        cm = parse_object(to_json(base), describe());  // deep copy
    }
    Poco::JSON::Object::Ptr meta = cm->getObject("metadata");
    if (!labels_.empty()) {
        auto labels = string_map(meta->getObject("labels"));
        for (const auto& [k, v] : labels_) {
            labels[k] = v;
        }
        meta->set("labels", to_object(labels));
    }
    cm->set("data", to_object(desired.data));
    if (desired.binary.empty()) {
        cm->remove("binaryData");
    } else {
        cm->set("binaryData", to_object(desired.binary));
    }
    return cm;
}

WriteOutcome ConfigMapSink::write_content(const Content& desired) {
    const std::string collection = "/api/v1/namespaces/" + url_encode(ns_) + "/configmaps";
    const std::string item = collection + "/" + url_encode(name_);
    for (int attempt = 0; attempt <= max_retries_; ++attempt) {
        if (current_.isNull()) {
            const Response r = client_->request("GET", item);
            if (r.status == 404) {
                const std::string body = to_json(render(nullptr, desired));
                const Response c = client_->request("POST", collection, &body);
                if (c.status == 201 || c.status == 200) {
                    current_ = parse_object(c.body, describe());
                    log_(LogLevel::Info, "created " + describe());
                    return WriteOutcome::Written;
                }
                if (c.status == 409) {  // created by someone else meanwhile: re-read
                    continue;
                }
                throw Error("create " + describe() + ": " + error_text(c));
            }
            if (r.status != 200) {
                throw Error("read " + describe() + ": " + error_text(r));
            }
            current_ = parse_object(r.body, describe());
            if (matches(current_, desired)) {
                return WriteOutcome::Unchanged;
            }
        }
        const std::string body = to_json(render(current_, desired));
        const Response u = client_->request("PUT", item, &body);
        if (u.status == 200) {
            current_ = parse_object(u.body, describe());
            return WriteOutcome::Written;
        }
        if (u.status == 409 || u.status == 404) {
            log_(LogLevel::Info,
                 "update " + describe() + ": " + error_text(u) + "; re-reading and retrying");
            current_ = nullptr;
            continue;
        }
        throw Error("update " + describe() + ": " + error_text(u));
    }
    throw Error("update " + describe() + ": still conflicting after " +
                std::to_string(max_retries_ + 1) + " attempts");
}

Status ConfigMapSink::write(const Snapshot& snapshot, WriteOutcome& outcome) noexcept {
    return guard([&]() -> Status {
        if (snapshot.documents.empty() && !allow_empty_) {
            throw Error(describe() +
                        ": the output is empty (no documents); not written (set allow_empty: "
                        "true to write a ConfigMap without data)");
        }
        Content desired;
        for (const auto& doc : snapshot.documents) {
            if (!is_configmap_key(doc->name)) {
                throw Error(describe() + ": document '" + doc->name + "' (from " +
                            doc->origin.describe() + ") is not a valid ConfigMap key");
            }
            if (valid_utf8(doc->content)) {
                desired.data[doc->name] = doc->content;
            } else {
                desired.binary[doc->name] = encode_base64(doc->content);
            }
        }
        if (last_written_ && *last_written_ == desired) {
            outcome = WriteOutcome::Unchanged;
            return Status::ok();
        }
        outcome = write_content(desired);
        last_written_ = desired;
        return Status::ok();
    });
}

}  // namespace crossover::kube
