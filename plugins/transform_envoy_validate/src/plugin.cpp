// The `envoy_validate` transform: passes its inputs through unchanged when
// every xDS document in them loads in Envoy, and fails the run otherwise.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "crossover/inputs.h"
#include "crossover/sdk.h"
#include "envoy_validator.h"

namespace crossover::envoy_validate {
namespace {

struct EnvoyValidateOptions {
    std::string proto_path;
    std::vector<std::string> bootstrap;
    bool allow_v2 = true;
    std::string non_xds = "pass";
    bool check_clusters = true;
    std::int64_t max_errors = 20;
    std::string when_protos_missing = "error";
};

const OptionTable<EnvoyValidateOptions> kOptions{
    option("proto_path", &EnvoyValidateOptions::proto_path,
           "Directory of Envoy's .proto files (as installed by fetch-envoy-protos.sh); default: "
           "share/crossover/envoy-protos next to the plugin")
        .path(),
    option("bootstrap", &EnvoyValidateOptions::bootstrap,
           "Names of documents to check as an Envoy bootstrap "
           "(envoy.config.bootstrap.v3.Bootstrap)"),
    option("allow_v2", &EnvoyValidateOptions::allow_v2,
           "Pass legacy envoy.api.v2 documents unchecked (with a warning) instead of failing"),
    option("non_xds", &EnvoyValidateOptions::non_xds,
           "Documents that are not DiscoveryResponses: pass (unchecked) or error")
        .choices({"pass", "error"}),
    option("check_clusters", &EnvoyValidateOptions::check_clusters,
           "Fail when a route names a cluster no Cluster resource defines (only when the output "
           "has Clusters)"),
    option("max_errors", &EnvoyValidateOptions::max_errors,
           "Report at most this many errors per run")
        .at_least(1),
    option("when_protos_missing", &EnvoyValidateOptions::when_protos_missing,
           "Without Envoy's protos at proto_path: error (refuse to start) or warn (log one "
           "warning and pass every document through unchecked)")
        .choices({"error", "warn"}),
};

ValidatorOptions validator_options(const EnvoyValidateOptions& given) {
    ValidatorOptions o;
    o.proto_path = given.proto_path;
    o.bootstrap = given.bootstrap;
    o.allow_v2 = given.allow_v2;
    o.check_clusters = given.check_clusters;
    o.non_xds_error = given.non_xds == "error";
    o.max_errors = static_cast<std::size_t>(given.max_errors);
    return o;
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

// A small route document of the usual shape (virtual hosts, routes, weighted clusters): checking
// it builds the descriptors and checks that the first real route document needs.
const char* const kWarmUpName = "(warm-up).yaml";
const char* const kWarmUpRoutes =
    "version_info: \"0\"\n"
    "resources:\n"
    "- \"@type\": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n"
    "  name: warm_up\n"
    "  virtual_hosts:\n"
    "  - name: warm_up\n"
    "    domains: [\"warm-up\"]\n"
    "    routes:\n"
    "    - match: {prefix: \"/\"}\n"
    "      route:\n"
    "        timeout: 15s\n"
    "        weighted_clusters:\n"
    "          clusters:\n"
    "          - {name: warm-up-primary, weight: 100}\n"
    "          - {name: warm-up-canary, weight: 0}\n";

class EnvoyValidate final : public Transform {
public:
    EnvoyValidate(const ComponentConfig& config, const EnvoyValidateOptions& options)
        : config_(config) {
        ValidatorOptions o = validator_options(options);
        const bool warn_missing = options.when_protos_missing == "warn";
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
        if (config.onetime) {
            // A one-time run checks once, right after its sources answer; what that first
            // check builds on first use (milliseconds) is built meanwhile on another core.
            // Nothing else touches the validator until transform() has joined this thread.
            warm_up_ = std::thread([v = validator_.get()] { warm_up(*v); });
        }
    }

    ~EnvoyValidate() override {
        if (warm_up_.joinable()) {
            warm_up_.join();
        }
    }
    EnvoyValidate(const EnvoyValidate&) = delete;
    EnvoyValidate& operator=(const EnvoyValidate&) = delete;
    EnvoyValidate(EnvoyValidate&&) = delete;
    EnvoyValidate& operator=(EnvoyValidate&&) = delete;

    Status transform(const std::vector<Input>& inputs, SnapshotPtr& output) noexcept override {
        if (warm_up_.joinable()) {
            warm_up_.join();
        }
        return guard([&]() -> Status {
            SnapshotPtr result = shared_union_of(inputs);
            if (!validator_) {  // protos missing, when_protos_missing: warn
                output = std::move(result);
                return Status::ok();
            }
            std::vector<DocumentView> views;
            views.reserve(result->documents.size());
            for (const auto& d : result->documents) {
                // The document's own text, shared with the validator for the
                // next run's comparison (aliasing: it keeps the Document alive).
                views.push_back({&d->name, &d->content,
                                 d->origin.kind.empty() ? std::string() : d->origin.describe(),
                                 std::shared_ptr<const std::string>(d, &d->content)});
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
    // Checks kWarmUpRoutes; its result is of no interest (the next check forgets it).
    static void warm_up(Validator& validator) noexcept {
        try {
            const std::string name = kWarmUpName;
            const std::string content = kWarmUpRoutes;
            validator.validate({DocumentView{&name, &content, std::string()}});
        } catch (...) {  // NOLINT(bugprone-empty-catch): the real check reports its own errors
        }
    }

    ComponentConfig config_;
    std::unique_ptr<Validator> validator_;  // null: protos missing, passing documents through
    std::thread warm_up_;                   // one-time mode: see the constructor
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
