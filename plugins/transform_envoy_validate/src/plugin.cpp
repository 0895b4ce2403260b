// The `envoy_validate` transform: passes its inputs through unchanged when
// every xDS document in them loads in Envoy, and fails the run otherwise.
#include <memory>
#include <string>
#include <vector>

#include "crossover/inputs.h"
#include "crossover/sdk.h"
#include "envoy_validator.h"

namespace crossover::envoy_validate {
namespace {

const OptionSpec kOptions[] = {
    {"proto_path", OptionType::String, nullptr, false,
     "Directory of Envoy's .proto files (as installed by fetch-envoy-protos.sh); default: "
     "share/crossover/envoy-protos next to the plugin"},
    {"bootstrap", OptionType::StringList, "[]", false,
     "Names of documents to check as an Envoy bootstrap (envoy.config.bootstrap.v3.Bootstrap)"},
    {"allow_v2", OptionType::Bool, "true", false,
     "Pass legacy envoy.api.v2 documents unchecked (with a warning) instead of failing"},
    {"non_xds", OptionType::String, "pass", false,
     "Documents that are not DiscoveryResponses: pass (unchecked) or error"},
    {"check_clusters", OptionType::Bool, "true", false,
     "Fail when a route names a cluster no Cluster resource defines (only when the output has "
     "Clusters)"},
    {"max_errors", OptionType::Int, "20", false, "Report at most this many errors per run"},
    {"when_protos_missing", OptionType::String, "error", false,
     "Without Envoy's protos at proto_path: error (refuse to start) or warn (log one warning "
     "and pass every document through unchecked)"},
};

ValidatorOptions read_options(const ComponentConfig& config) {
    ValidatorOptions o;
    o.proto_path = config.get_path("proto_path");
    o.bootstrap = config.get_string_list("bootstrap");
    o.allow_v2 = config.has("allow_v2") ? config.get_bool("allow_v2") : true;
    o.check_clusters = config.has("check_clusters") ? config.get_bool("check_clusters") : true;
    const std::string non_xds = config.has("non_xds") ? config.get_string("non_xds") : "pass";
    if (non_xds != "pass" && non_xds != "error") {
        throw Error(config.where("non_xds") + "expected pass or error, got '" + non_xds + "'");
    }
    o.non_xds_error = non_xds == "error";
    const std::int64_t max_errors = config.has("max_errors") ? config.get_int("max_errors") : 20;
    if (max_errors < 1) {
        throw Error(config.where("max_errors") + "must be at least 1");
    }
    o.max_errors = static_cast<std::size_t>(max_errors);
    return o;
}

// "warn" when the pipeline accepts running unchecked without protos.
bool warn_when_protos_missing(const ComponentConfig& config) {
    const std::string v =
        config.has("when_protos_missing") ? config.get_string("when_protos_missing") : "error";
    if (v != "error" && v != "warn") {
        throw Error(config.where("when_protos_missing") + "expected error or warn, got '" + v +
                    "'");
    }
    return v == "warn";
}

// Where the protos were looked for, for messages.
std::string looked_in(const std::string& proto_path) {
    if (!proto_path.empty()) {
        return "'" + proto_path + "'";
    }
    std::string where;
    for (const auto& candidate : default_proto_candidates()) {
        where += (where.empty() ? "'" : " or '") + candidate + "'";
    }
    return where.empty() ? "next to the plugin" : where;
}

class EnvoyValidate final : public Transform {
public:
    explicit EnvoyValidate(const ComponentConfig& config) : config_(config) {
        ValidatorOptions o = read_options(config);
        const bool warn_missing = warn_when_protos_missing(config);
        const ComponentConfig* c = &config_;
        o.warn = [c](const std::string& message) { c->log(LogLevel::Warn, message); };
        if (warn_missing &&
            !protos_present(o.proto_path.empty() ? default_proto_path() : o.proto_path)) {
            config_.log(LogLevel::Warn,
                        "Envoy protos not found in " + looked_in(o.proto_path) +
                            ": xDS documents pass unchecked (install them with "
                            "packaging/fetch-envoy-protos.sh or set option 'proto_path')");
            return;
        }
        try {
            validator_ = std::make_unique<Validator>(std::move(o));
        } catch (const std::exception& e) {
            throw Error(config.where("proto_path") + e.what());
        }
        config_.log(LogLevel::Info,
                    "checking xDS documents against Envoy's API from " + validator_->proto_path() +
                        " (protos of @grpc/grpc-js-xds " + validator_->proto_version() + ")");
    }

    Status transform(const std::vector<Input>& inputs, SnapshotPtr& output) noexcept override {
        return guard([&]() -> Status {
            SnapshotPtr result = shared_union_of(inputs);
            if (!validator_) {  // protos missing, when_protos_missing: warn
                output = std::move(result);
                return Status::ok();
            }
            std::vector<DocumentView> views;
            views.reserve(result->documents.size());
            for (const auto& d : result->documents) {
                views.push_back({&d->name, &d->content,
                                 d->origin.kind.empty() ? std::string() : d->origin.describe()});
            }
            const std::vector<std::string> errors = validator_->validate(views);
            if (!errors.empty()) {
                std::string message;
                if (errors.size() > 1) {
                    message = "invalid xDS: ";
                }
                for (std::size_t i = 0; i < errors.size(); ++i) {
                    message += (i > 0 ? "; " : "") + errors[i];
                }
                return Status::error(message);
            }
            output = std::move(result);
            return Status::ok();
        });
    }

private:
    ComponentConfig config_;
    std::unique_ptr<Validator> validator_;  // null: protos missing, passing documents through
};

}  // namespace
}  // namespace crossover::envoy_validate

CROSSOVER_PLUGIN(crossover::Kind::Transform, crossover::envoy_validate::EnvoyValidate,
                 "envoy_validate",
                 "Checks every xDS document (DiscoveryResponse) and bootstrap the way Envoy loads "
                 "it: protobuf JSON mapping against Envoy's v3 API, protoc-gen-validate rules and "
                 "route-to-cluster references. Fails the run on any error, so no invalid file "
                 "reaches the sinks.",
                 crossover::envoy_validate::kOptions)
