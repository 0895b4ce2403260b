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
#include "crossover_kube/options.h"
#include "http_server.h"
#include "kube_store.h"
#include "registry.h"
#include "render.h"
#include "tokens.h"

namespace crossover::route_registry {

namespace {

struct RegistryOptions {
    std::string listen = "0.0.0.0:8091";
    std::string tls_cert_file;
    std::string tls_key_file;
    std::string tls_client_ca_file;
    std::string token_file;
    std::string store = "file";
    std::string state_dir;
    std::int64_t compact_after = 1000;
    std::string cds_document = "cds.yaml";
    std::string rds_document = "rds.yaml";
    std::string eds_document = "eds.yaml";
    std::string route_config_name = "routes";
    std::string endpoints_mode = "inline";
    std::string eds_path;
    std::chrono::milliseconds connect_timeout{5000};
    std::int64_t max_body = 65536;
    std::int64_t max_endpoints = 1000;
    std::int64_t threads = 32;
    kube::ConnectionOptions kube_connection;
    kube::Timeouts kube_timeouts;
    std::chrono::milliseconds kube_sync_timeout{10000};
};

// A document name: a plain file name.
bool file_name(const YAML::Node& value, std::string& why) {
    const std::string& v = value.Scalar();
    if (v.empty() || v.find('/') != std::string::npos || v == "." || v == "..") {
        why = "expected a file name, got '" + v + "'";
        return false;
    }
    return true;
}

const OptionTable<RegistryOptions> kOptions{
    option("listen", &RegistryOptions::listen,
           "address of the HTTP API (host:port; port 0 picks a free one, logged at start)")
        .check(checks::host_port),
    option("tls_cert_file", &RegistryOptions::tls_cert_file,
           "PEM certificate (chain) of the API: serve HTTPS instead of HTTP (with tls_key_file)")
        .path(),
    option("tls_key_file", &RegistryOptions::tls_key_file, "PEM private key of tls_cert_file")
        .path(),
    option("tls_client_ca_file", &RegistryOptions::tls_client_ca_file,
           "PEM CA bundle: require client certificates it signed (mutual TLS); needs "
           "tls_cert_file")
        .path(),
    option("token_file", &RegistryOptions::token_file,
           "bearer tokens, one 'TOKEN NAME [read|write]' per line; re-read when it changes")
        .required()
        .path()
        .check(checks::not_empty),
    option("store", &RegistryOptions::store,
           "where routes are kept: file (a journal in state_dir) or kubernetes (Route custom "
           "resources that several replicas share; kube_* options)")
        .choices({"file", "kubernetes"}),
    option("state_dir", &RegistryOptions::state_dir,
           "directory of the file store (journal, snapshot); required with store: file")
        .path(),
    option("compact_after", &RegistryOptions::compact_after,
           "journal records between snapshots of the whole state")
        .range(1, 10000000),
    option("cds_document", &RegistryOptions::cds_document, "name of the CDS document")
        .check(file_name),
    option("rds_document", &RegistryOptions::rds_document, "name of the RDS document")
        .check(file_name),
    option("eds_document", &RegistryOptions::eds_document,
           "name of the EDS document (endpoints_mode: eds)")
        .check(file_name),
    option("route_config_name", &RegistryOptions::route_config_name,
           "name of the RouteConfiguration (what the listener's rds.route_config_name asks for)")
        .check(checks::not_empty),
    option("endpoints_mode", &RegistryOptions::endpoints_mode,
           "inline: endpoints in each Cluster; eds: Clusters of type EDS plus an EDS document")
        .choices({"inline", "eds"}),
    option("eds_path", &RegistryOptions::eds_path,
           "endpoints_mode eds: the path Envoy reads the EDS document from; default: ADS"),
    option("connect_timeout", &RegistryOptions::connect_timeout, "connect_timeout of every Cluster")
        .at_least(std::chrono::milliseconds(1)),
    option("max_body", &RegistryOptions::max_body, "largest request body accepted, in bytes")
        .range(1024, 64LL * 1024 * 1024),
    option("max_endpoints", &RegistryOptions::max_endpoints, "most endpoints one route may list")
        .range(1, 100000),
    option("threads", &RegistryOptions::threads, "HTTP worker threads").range(2, 1024),
    // store: kubernetes: the Kubernetes plugins' connection options, prefixed
    // (token_file and connect_timeout are the registry's own).
    option_group(kube::connection_fields(), &RegistryOptions::kube_connection, "kube_"),
    option_group(kube::timeout_fields(), &RegistryOptions::kube_timeouts, "kube_"),
    option("kube_sync_timeout", &RegistryOptions::kube_sync_timeout,
           "store kubernetes: how long a write waits for this replica's watch to see it")
        .at_least(std::chrono::milliseconds(1)),
};

class RouteRegistrySource final : public Source {
public:
    RouteRegistrySource(const ComponentConfig& config, const RegistryOptions& options)
        : config_(config),
          state_dir_(options.state_dir),
          token_file_(options.token_file),
          listen_(options.listen),
          compact_after_(static_cast<std::size_t>(options.compact_after)),
          max_body_(static_cast<std::size_t>(options.max_body)),
          threads_(static_cast<int>(options.threads)),
          kube_(options.store == "kubernetes") {
        if (kube_) {
            kube_options_.cluster =
                kube::resolve_config(options.kube_connection, kube::Environment::system());
            kube_options_.ns = kube_options_.cluster.ns;
            kube_options_.timeouts = options.kube_timeouts;
            kube_options_.sync_timeout = options.kube_sync_timeout;
        } else if (state_dir_.empty()) {
            throw option_error(config, "state_dir", "required with store: file");
        }
        tls_.cert_file = options.tls_cert_file;
        tls_.key_file = options.tls_key_file;
        tls_.client_ca_file = options.tls_client_ca_file;
        if (tls_.cert_file.empty() != tls_.key_file.empty()) {
            throw option_error(config, tls_.cert_file.empty() ? "tls_cert_file" : "tls_key_file",
                               "tls_cert_file and tls_key_file go together");
        }
        if (!tls_.client_ca_file.empty() && tls_.cert_file.empty()) {
            throw option_error(config, "tls_client_ca_file",
                               "needs tls_cert_file and tls_key_file");
        }
        limits_.max_endpoints = static_cast<std::size_t>(options.max_endpoints);
        kube_options_.limits = limits_;
        render_.cds_document = options.cds_document;
        render_.rds_document = options.rds_document;
        render_.eds_document = options.eds_document;
        render_.route_config_name = options.route_config_name;
        render_.eds = options.endpoints_mode == "eds";
        render_.eds_path = options.eds_path;
        render_.connect_timeout = options.connect_timeout;
        render_.component = config.name;
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
