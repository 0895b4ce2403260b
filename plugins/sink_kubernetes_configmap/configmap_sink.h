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

inline constexpr OptionSpec kConfigMapSinkOptions[] = {
    CROSSOVER_KUBE_CONNECTION_OPTIONS,
    {"name", OptionType::String, nullptr, true, "name of the ConfigMap to write"},
    {"labels", OptionType::StringMap, nullptr, false,
     "labels set on the ConfigMap (other labels are kept)"},
    {"max_conflict_retries", OptionType::Int, "5", false,
     "how many times a 409 Conflict is resolved by re-reading and retrying"},
    {"allow_empty", OptionType::Bool, "false", false,
     "write a ConfigMap without data; refused by default, as an emptied input is a mistake"},
};

inline constexpr const char* kConfigMapSinkDoc =
    "Writes the input documents as the data of one ConfigMap (binaryData for content that is not "
    "UTF-8): creates it when missing, updates it with the last resourceVersion seen, re-reads and "
    "retries on 409 Conflict, and sends nothing when the content is unchanged.";

class ConfigMapSink final : public Sink {
public:
    explicit ConfigMapSink(const ComponentConfig& config);
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
