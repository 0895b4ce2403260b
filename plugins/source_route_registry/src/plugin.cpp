// `route_registry` source: programs register routes over an authenticated
// HTTP API; the registry keeps them durably and publishes them as Envoy CDS
// and RDS (or EDS) documents.
#include <condition_variable>
#include <memory>
#include <mutex>

#include "api.h"
#include "crossover/errors.h"
#include "crossover/sdk.h"
#include "http_server.h"
#include "registry.h"
#include "render.h"
#include "tokens.h"

namespace crossover::route_registry {

namespace {

const OptionSpec kOptions[] = {
    {"listen", OptionType::String, "\"0.0.0.0:8091\"", false,
     "address of the HTTP API (host:port; port 0 picks a free one, logged at start)"},
    {"tls_cert_file", OptionType::String, nullptr, false,
     "PEM certificate (chain) of the API: serve HTTPS instead of HTTP (with tls_key_file)"},
    {"tls_key_file", OptionType::String, nullptr, false, "PEM private key of tls_cert_file"},
    {"tls_client_ca_file", OptionType::String, nullptr, false,
     "PEM CA bundle: require client certificates it signed (mutual TLS); needs tls_cert_file"},
    {"token_file", OptionType::String, nullptr, true,
     "bearer tokens, one 'TOKEN NAME [read|write]' per line; re-read when it changes"},
    {"store", OptionType::String, "file", false,
     "where routes are kept: file (a journal in state_dir)"},
    {"state_dir", OptionType::String, nullptr, false,
     "directory of the file store (journal, snapshot); required with store: file"},
    {"compact_after", OptionType::Int, "1000", false,
     "journal records between snapshots of the whole state"},
    {"cds_document", OptionType::String, "cds.yaml", false, "name of the CDS document"},
    {"rds_document", OptionType::String, "rds.yaml", false, "name of the RDS document"},
    {"eds_document", OptionType::String, "eds.yaml", false,
     "name of the EDS document (endpoints_mode: eds)"},
    {"route_config_name", OptionType::String, "routes", false,
     "name of the RouteConfiguration (what the listener's rds.route_config_name asks for)"},
    {"endpoints_mode", OptionType::String, "inline", false,
     "inline: endpoints in each Cluster; eds: Clusters of type EDS plus an EDS document"},
    {"eds_path", OptionType::String, nullptr, false,
     "endpoints_mode eds: the path Envoy reads the EDS document from; default: ADS"},
    {"connect_timeout", OptionType::Duration, "5s", false, "connect_timeout of every Cluster"},
    {"max_body", OptionType::Int, "65536", false, "largest request body accepted, in bytes"},
    {"max_endpoints", OptionType::Int, "1000", false, "most endpoints one route may list"},
    {"threads", OptionType::Int, "32", false, "HTTP worker threads"},
};

class RouteRegistrySource final : public Source {
public:
    explicit RouteRegistrySource(const ComponentConfig& config) : config_(config) {
        get_choice(config, "store", {"file"}, "file");
        state_dir_ = config.get_path("state_dir");
        if (state_dir_.empty()) {
            throw option_error(config, "state_dir", "required with store: file");
        }
        token_file_ = config.get_path("token_file");
        listen_ = config.get_string("listen");
        tls_.cert_file = config.get_path("tls_cert_file");
        tls_.key_file = config.get_path("tls_key_file");
        tls_.client_ca_file = config.get_path("tls_client_ca_file");
        if (tls_.cert_file.empty() != tls_.key_file.empty()) {
            throw option_error(config, tls_.cert_file.empty() ? "tls_cert_file" : "tls_key_file",
                               "tls_cert_file and tls_key_file go together");
        }
        if (!tls_.client_ca_file.empty() && tls_.cert_file.empty()) {
            throw option_error(config, "tls_client_ca_file",
                               "needs tls_cert_file and tls_key_file");
        }
        compact_after_ =
            static_cast<std::size_t>(get_int_in_range(config, "compact_after", 1, 10000000));
        max_body_ = static_cast<std::size_t>(
            get_int_in_range(config, "max_body", 1024, 64LL * 1024 * 1024));
        limits_.max_endpoints =
            static_cast<std::size_t>(get_int_in_range(config, "max_endpoints", 1, 100000));
        threads_ = static_cast<int>(get_int_in_range(config, "threads", 2, 1024));
        render_.cds_document = config.get_string("cds_document");
        render_.rds_document = config.get_string("rds_document");
        render_.eds_document = config.get_string("eds_document");
        render_.route_config_name = config.get_string("route_config_name");
        render_.eds = get_choice(config, "endpoints_mode", {"inline", "eds"}, "inline") == "eds";
        render_.eds_path = config.get_string("eds_path");
        render_.connect_timeout = config.get_duration("connect_timeout");
        if (render_.connect_timeout.count() <= 0) {
            throw option_error(config, "connect_timeout", "must be above 0");
        }
        render_.component = config.name;
        for (const char* key : {"cds_document", "rds_document", "eds_document"}) {
            const std::string v = config.get_string(key);
            if (v.empty() || v.find('/') != std::string::npos || v == "." || v == "..") {
                throw option_error(config, key, "expected a file name");
            }
        }
        if (render_.cds_document == render_.rds_document ||
            (render_.eds && (render_.eds_document == render_.cds_document ||
                             render_.eds_document == render_.rds_document))) {
            throw option_error(config, "rds_document", "the document names must differ");
        }
        // Check the token file now, so a bad one fails validation of the pipeline.
        tokens_ = std::make_shared<TokenFile>(token_file_, log_fn());
    }

    Status run(SourceContext& context) noexcept override {
        return guard([&] { return run_impl(context); });
    }

    void stop() noexcept override {
        const std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
        wake_.notify_all();
    }

private:
    [[nodiscard]] TokenFile::LogFn log_fn() const {
        Logger* logger = config_.logger;
        std::string name = config_.name;
        return [logger, name](LogLevel level, std::string_view message) {
            if (logger != nullptr) {
                logger->log(level, name, message);
            }
        };
    }

    void publish(SourceContext& context, Renderer& renderer) {
        const View view = registry_->view();
        auto snapshot = std::make_shared<Snapshot>();
        snapshot->documents = renderer.render(view);
        context.publish(std::move(snapshot));
    }

    Status run_impl(SourceContext& context) {
        if (!registry_ || registry_->failed()) {
            registry_.reset();
            registry_ =
                std::make_shared<Registry>(Registry::Options{state_dir_, compact_after_}, log_fn());
        }
        Renderer renderer(render_);
        if (config_.onetime) {
            publish(context, renderer);
            return Status::ok();
        }
        registry_->on_change([this] {
            const std::lock_guard<std::mutex> lock(mutex_);
            dirty_ = true;
            wake_.notify_all();
        });
        auto api = std::make_shared<Api>(*registry_, *tokens_, limits_, max_body_, log_fn());
        HttpServer server(api, listen_, threads_, tls_);
        config_.log(
            LogLevel::Info,
            "route registry listening on " + server.address() +
                (tls_.enabled() ? (tls_.client_ca_file.empty() ? " (TLS)" : " (mutual TLS)") : ""));
        publish(context, renderer);
        std::unique_lock<std::mutex> lock(mutex_);
        while (!stopping_ && !context.stopping()) {
            wake_.wait_for(lock, std::chrono::milliseconds(500),
                           [&] { return dirty_ || stopping_; });
            if (registry_->failed()) {
                return Status::error("the registry's journal failed; recovering from " +
                                     state_dir_);
            }
            if (!dirty_ || stopping_) {
                continue;
            }
            dirty_ = false;
            lock.unlock();
            publish(context, renderer);
            lock.lock();
        }
        return Status::ok();
    }

    ComponentConfig config_;
    std::string state_dir_;
    std::string token_file_;
    std::string listen_;
    TlsFiles tls_;
    std::size_t compact_after_ = 1000;
    std::size_t max_body_ = 65536;
    int threads_ = 32;
    RouteLimits limits_;
    RenderOptions render_;
    std::shared_ptr<TokenFile> tokens_;
    std::shared_ptr<RouteStore> registry_;

    std::mutex mutex_;
    std::condition_variable wake_;
    bool dirty_ = false;
    bool stopping_ = false;
};

}  // namespace

}  // namespace crossover::route_registry

CROSSOVER_PLUGIN(crossover::Kind::Source, crossover::route_registry::RouteRegistrySource,
                 "route_registry",
                 "Routes registered by programs over an authenticated HTTP API (PUT/DELETE "
                 "/v1/routes/{name}), kept durably in a journal and published as Envoy CDS and RDS "
                 "(or EDS) documents.",
                 crossover::route_registry::kOptions)
