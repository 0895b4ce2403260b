// The kubernetes_configmap sink: writes the input documents as the data of
// one ConfigMap (the original crossover's "<name>-gen" ConfigMap).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include <Poco/JSON/Object.h>

#include "crossover/sdk.h"
#include "crossover_kube/client.h"
#include "crossover_kube/options.h"

namespace crossover::kube {

struct ConfigMapSinkOptions {
    ConnectionOptions connection;
    Timeouts timeouts;
    std::string name;
    std::map<std::string, std::string> labels;
    std::int64_t max_conflict_retries = 5;
    bool allow_empty = false;
};

extern const OptionTable<ConfigMapSinkOptions> kConfigMapSinkOptions;

inline constexpr const char* kConfigMapSinkDoc =
    "Writes the input documents as the data of one ConfigMap (binaryData for content that is not "
    "UTF-8): creates it when missing, updates it with the last resourceVersion seen, re-reads and "
    "retries on 409 Conflict, and sends nothing when the content is unchanged.";

class ConfigMapSink final : public Sink {
public:
    ConfigMapSink(const ComponentConfig& config, const ConfigMapSinkOptions& options);
    Status write(const Snapshot& snapshot, WriteOutcome& outcome) noexcept override;

private:
    struct Content {
        std::map<std::string, std::string> data;
        std::map<std::string, std::string> binary;  // base64
        bool operator==(const Content&) const = default;
    };
    WriteOutcome write_content(const Content& desired);
    [[nodiscard]] bool matches(const Poco::JSON::Object::Ptr& cm, const Content& desired) const;
    Poco::JSON::Object::Ptr render(const Poco::JSON::Object::Ptr& base,
                                   const Content& desired) const;
    [[nodiscard]] std::string describe() const;

    LogFn log_;
    std::unique_ptr<Client> client_;
    std::string ns_;
    std::string name_;
    std::map<std::string, std::string> labels_;
    int max_retries_ = 5;
    bool allow_empty_ = false;
    Poco::JSON::Object::Ptr current_;  // the object as last seen on the server
    std::optional<Content> last_written_;
};

}  // namespace crossover::kube
