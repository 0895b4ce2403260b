// `route_registry` source: programs register routes over an authenticated
// HTTP API; the registry keeps them durably and publishes them as Envoy CDS
// and RDS (or EDS) documents.
#include <condition_variable>
#include <memory>
#include <mutex>

#include "api.h"
#include "crossover/errors.h"
#include "crossover/sdk.h"
#include "crossover_kube/config.h"
#include "http_server.h"
#include "kube_store.h"
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
     "where routes are kept: file (a journal in state_dir) or kubernetes (Route custom "
     "resources that several replicas share)"},
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
    // store: kubernetes. The Kubernetes plugins' connection options, prefixed
    // (token_file and connect_timeout are the registry's own).
    {"kube_namespace", OptionType::String, nullptr, false,
     "store kubernetes: namespace of the Routes; default: $POD_NAMESPACE, else the service "
     "account's, else the kubeconfig context's, else default"},
    {"kube_apiserver", OptionType::String, nullptr, false,
     "store kubernetes: API server URL; default: from the kubeconfig, else in-cluster"},
    {"kube_kubeconfig", OptionType::String, nullptr, false,
     "store kubernetes: kubeconfig file; default: $KUBECONFIG, else ~/.kube/config"},
    {"kube_context", OptionType::String, nullptr, false, "store kubernetes: kubeconfig context"},
    {"kube_token_file", OptionType::String, nullptr, false,
     "store kubernetes: bearer token file for the API server (re-read when it changes)"},
    {"kube_ca_file", OptionType::String, nullptr, false,
     "store kubernetes: PEM CA bundle of the API server's certificate"},
    {"kube_insecure", OptionType::Bool, "false", false,
     "store kubernetes: skip the API server's certificate verification (never in production)"},
    {"kube_request_timeout", OptionType::Duration, "30s", false,
     "store kubernetes: read timeout of each request to the API server"},
    {"kube_sync_timeout", OptionType::Duration, "10s", false,
     "store kubernetes: how long a write waits for this replica's watch to see it"},
};

class RouteRegistrySource final : public Source {
public:
    explicit RouteRegistrySource(const ComponentConfig& config) : config_(config) {
        kube_ = get_choice(config, "store", {"file", "kubernetes"}, "file") == "kubernetes";
        state_dir_ = config.get_path("state_dir");
        if (kube_) {
            read_kube_options(config);
        } else if (state_dir_.empty()) {
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
        kube_options_.limits = limits_;
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
        if (kube_store_) {
            kube_store_->stop();
        }
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

    void read_kube_options(const ComponentConfig& config) {
        kube::ConnectionOptions o;
        o.apiserver = config.get_string("kube_apiserver");
        o.kubeconfig = config.get_path("kube_kubeconfig");
        o.context = config.get_string("kube_context");
        o.token_file = config.get_path("kube_token_file");
        o.ca_file = config.get_path("kube_ca_file");
        o.ns = config.get_string("kube_namespace");
        o.insecure = config.has("kube_insecure") && config.get_bool("kube_insecure");
        kube_options_.cluster = kube::resolve_config(o, kube::Environment::system());
        kube_options_.ns = kube_options_.cluster.ns;
        if (config.has("kube_request_timeout")) {
            kube_options_.timeouts.request = config.get_duration("kube_request_timeout");
        }
        if (config.has("kube_sync_timeout")) {
            kube_options_.sync_timeout = config.get_duration("kube_sync_timeout");
        }
    }

    static void publish(SourceContext& context, Renderer& renderer, RouteStore& store) {
        const View view = store.view();
        auto snapshot = std::make_shared<Snapshot>();
        snapshot->documents = renderer.render(view);
        context.publish(std::move(snapshot));
    }

    // store: kubernetes. The informer runs on this thread and publishes
    // every change it sees, the API's writes included.
    Status run_kube(SourceContext& context, Renderer& renderer) {
        auto store = std::make_shared<KubeStore>(kube_options_, log_fn());
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            if (stopping_) {
                return Status::ok();
            }
            kube_store_ = store;
        }
        struct Forget {
            RouteRegistrySource& self;
            ~Forget() {
                const std::lock_guard<std::mutex> lock(self.mutex_);
                self.kube_store_.reset();
            }
        } forget{*this};
        if (config_.onetime) {
            store->load_once();
            publish(context, renderer, *store);
            return Status::ok();
        }
        store->on_change([&] { publish(context, renderer, *store); });
        auto api = std::make_shared<Api>(*store, *tokens_, limits_, max_body_, log_fn());
        HttpServer server(api, listen_, threads_, tls_);
        config_.log(
            LogLevel::Info,
            "route registry listening on " + server.address() +
                (tls_.enabled() ? (tls_.client_ca_file.empty() ? " (TLS)" : " (mutual TLS)") : "") +
                "; routes are " + store->collection() + " on " + kube_options_.cluster.server);
        store->run(context);
        return Status::ok();
    }

    Status run_impl(SourceContext& context) {
        if (kube_) {
            Renderer renderer(render_);
            return run_kube(context, renderer);
        }
        if (!registry_ || registry_->failed()) {
            registry_.reset();
            registry_ =
                std::make_shared<Registry>(Registry::Options{state_dir_, compact_after_}, log_fn());
        }
        Renderer renderer(render_);
        if (config_.onetime) {
            publish(context, renderer, *registry_);
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
        publish(context, renderer, *registry_);
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
            publish(context, renderer, *registry_);
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
    std::shared_ptr<Registry> registry_;
    bool kube_ = false;
    KubeStore::Options kube_options_;
    std::shared_ptr<KubeStore> kube_store_;  // while run_kube runs

    std::mutex mutex_;
    std::condition_variable wake_;
    bool dirty_ = false;
    bool stopping_ = false;
};

}  // namespace

}  // namespace crossover::route_registry

CROSSOVER_PLUGIN(
    crossover::Kind::Source, crossover::route_registry::RouteRegistrySource, "route_registry",
    "Routes registered by programs over an authenticated HTTP API (PUT/DELETE "
    "/v1/routes/{name}), kept durably in a journal or as Kubernetes custom resources shared "
    "by replicas, and published as Envoy CDS and RDS "
    "(or EDS) documents.",
    crossover::route_registry::kOptions)
