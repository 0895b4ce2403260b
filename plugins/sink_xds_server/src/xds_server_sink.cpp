// The `xds_server` sink: serves its input documents to Envoy and gRPC xDS
// clients over the aggregated discovery service (state of the world) and the
// per-type discovery services.
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <utility>

#include "crossover/sdk.h"
#include "crossover_envoy/api.h"
#include "discovery_codec.h"
#include "grpc_server.h"
#include "node_groups.h"
#include "resource_reader.h"
#include "rest_gateway.h"

namespace crossover::xds_server {
namespace {

const OptionSpec kOptions[] = {
    {"listen", OptionType::String, "\"127.0.0.1:18000\"", false,
     "gRPC address to serve xDS on, host:port (port 0 picks a free one; the log names it)"},
    {"rest_listen", OptionType::String, nullptr, false,
     "Address to serve REST-JSON xDS on, host:port (POST /v3/discovery:clusters, :endpoints, "
     ":listeners, :routes); off unless set"},
    {"max_streams", OptionType::Int, "10000", false,
     "Streams served at once; more are refused with RESOURCE_EXHAUSTED"},
    {"keepalive_time", OptionType::Duration, "\"30s\"", false,
     "A client connection idle this long is pinged (HTTP/2 keepalive)"},
    {"keepalive_timeout", OptionType::Duration, "\"10s\"", false,
     "A client that does not answer a keepalive ping within this time is disconnected"},
    {"keepalive_permit_without_calls", OptionType::Bool, "true", false,
     "Ping connections that have no open stream too, and accept clients' pings on them"},
    {"tls_cert_file", OptionType::String, nullptr, false,
     "PEM certificate chain to serve gRPC over TLS (with tls_key_file); plaintext unless set"},
    {"tls_key_file", OptionType::String, nullptr, false, "PEM private key of tls_cert_file"},
    {"tls_client_ca_file", OptionType::String, nullptr, false,
     "PEM CA bundle: clients must present a certificate it signed (mTLS); needs tls_cert_file"},
    {"node_groups", OptionType::Any, nullptr, false,
     "List of {name, node_cluster and/or node_id (patterns), documents (name patterns)}: a "
     "client whose node matches a group is served only those documents; others get all"},
    {"proto_path", OptionType::String, nullptr, false,
     "Directory of Envoy's API (envoy-api.pb, as the build installs it); default: "
     "share/crossover/envoy-protos next to the plugin"},
};

std::string api_dir(const ComponentConfig& config) {
    if (config.has("proto_path")) {
        return config.get_path("proto_path");
    }
    std::string dir = envoy::default_api_dir();
    if (dir.empty()) {
        std::string looked;
        for (const auto& c : envoy::default_api_candidates()) {
            looked += (looked.empty() ? "'" : " or '") + c + "'";
        }
        throw Error(config.where() + "Envoy's API (envoy-api.pb) not found in " + looked +
                    "; set proto_path");
    }
    return dir;
}

// The contents of a PEM file option, or "" when unset.
std::string read_pem(const ComponentConfig& config, const std::string& key) {
    if (!config.has(key)) {
        return {};
    }
    const std::string path = config.get_path(key);
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in || text.str().find("-----BEGIN ") == std::string::npos) {
        throw Error(config.where(key) + "cannot read a PEM file at '" + path + "'");
    }
    return text.str();
}

// A keepalive duration in milliseconds, as gRPC takes it (an int).
std::int64_t keepalive(const ComponentConfig& config, const std::string& key) {
    const std::int64_t ms = config.get_duration(key).count();
    if (ms < 1 || ms > std::numeric_limits<int>::max()) {
        throw Error(config.where(key) + "must be between 1ms and 24 days");
    }
    return ms;
}

ServerOptions server_options(const ComponentConfig& config) {
    ServerOptions o;
    o.tls_cert_pem = read_pem(config, "tls_cert_file");
    o.tls_key_pem = read_pem(config, "tls_key_file");
    o.tls_client_ca_pem = read_pem(config, "tls_client_ca_file");
    if (o.tls_cert_pem.empty() != o.tls_key_pem.empty()) {
        throw Error(config.where(o.tls_cert_pem.empty() ? "tls_key_file" : "tls_cert_file") +
                    "tls_cert_file and tls_key_file go together");
    }
    if (!o.tls_client_ca_pem.empty() && o.tls_cert_pem.empty()) {
        throw Error(config.where("tls_client_ca_file") +
                    "mTLS needs tls_cert_file and tls_key_file");
    }
    o.listen = config.get_string("listen");
    if (o.listen.find(':') == std::string::npos) {
        throw Error(config.where("listen") + "expected host:port, got '" + o.listen + "'");
    }
    o.metrics = config.metrics;
    o.max_streams = config.get_int("max_streams");
    if (o.max_streams < 1) {
        throw Error(config.where("max_streams") + "must be at least 1");
    }
    o.keepalive_ms = keepalive(config, "keepalive_time");
    o.keepalive_timeout_ms = keepalive(config, "keepalive_timeout");
    o.keepalive_permit_without_calls = config.get_bool("keepalive_permit_without_calls");
    return o;
}

class XdsServerSink final : public Sink {
public:
    explicit XdsServerSink(const ComponentConfig& config)
        : logger_(config.logger),
          name_(config.name),
          groups_(config.has("node_groups") ? config.get("node_groups") : YAML::Node(),
                  config.where("node_groups")) {
        ServerOptions options = server_options(config);
        if (groups_.size() > 0) {
            const NodeGroups* groups = &groups_;
            options.group_of = [groups](const NodeInfo& node) { return groups->group_of(node); };
        }
        try {
            api_ = std::make_unique<envoy::Api>(api_dir(config));
            codec_ = std::make_shared<const DiscoveryCodec>(api_->pool());
        } catch (const Error&) {
            throw;
        } catch (const std::exception& e) {
            throw Error(config.where() + e.what());
        }
        reader_ = std::make_unique<ResourceReader>(*api_, *codec_);
        try {
            server_ = std::make_unique<GrpcServer>(
                options, codec_, [this](LogLevel level, std::string_view m) { log(level, m); });
        } catch (const std::exception& e) {
            throw Error(config.where("listen") + e.what());
        }
        if (config.has("rest_listen")) {
            const std::string rest = config.get_string("rest_listen");
            if (rest.find(':') == std::string::npos) {
                throw Error(config.where("rest_listen") + "expected host:port, got '" + rest + "'");
            }
            GrpcServer* server = server_.get();
            try {
                rest_ = std::make_unique<RestGateway>(
                    rest, codec_, [server](const NodeInfo& node) { return server->current(node); },
                    [this](LogLevel level, std::string_view m) { log(level, m); });
            } catch (const std::exception& e) {
                throw Error(config.where("rest_listen") + e.what());
            }
            log(LogLevel::Info, "serving REST-JSON xDS on " + rest.substr(0, rest.rfind(':')) +
                                    ":" + std::to_string(rest_->port()));
        }
        const std::string host = options.listen.substr(0, options.listen.rfind(':'));
        const char* security = options.tls_cert_pem.empty()        ? ""
                               : options.tls_client_ca_pem.empty() ? ", TLS"
                                                                   : ", mTLS";
        log(LogLevel::Info, std::string("serving xDS (ADS and per-type services, state of the "
                                        "world and Delta") +
                                security + ") on " + host + ":" + std::to_string(server_->port()));
    }

    ~XdsServerSink() override {
        // Stop serving before the resources and the API go away.
        rest_.reset();
        server_.reset();
    }
    XdsServerSink(const XdsServerSink&) = delete;
    XdsServerSink& operator=(const XdsServerSink&) = delete;
    XdsServerSink(XdsServerSink&&) = delete;
    XdsServerSink& operator=(XdsServerSink&&) = delete;

    Status write(const Snapshot& snapshot, WriteOutcome& outcome) noexcept override {
        outcome = WriteOutcome::Unchanged;
        return guard([&]() -> Status {
            // One set per group, the default group (every document) last.
            std::vector<ResourceSetPtr> sets;
            for (std::size_t g = 0; g < groups_.size(); ++g) {
                sets.push_back(reader_->read(snapshot, [this, g](const std::string& name) {
                    return groups_.includes(g, name);
                }));
            }
            sets.push_back(reader_->read(snapshot));
            if (same_versions(last_, sets)) {
                return Status::ok();
            }
            server_->publish(sets);
            last_ = std::move(sets);
            outcome = WriteOutcome::Written;
            return Status::ok();
        });
    }

private:
    static bool same_versions(const std::vector<ResourceSetPtr>& a,
                              const std::vector<ResourceSetPtr>& b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (std::size_t i = 0; i < a.size(); ++i) {
            if (!same_versions(*a[i], *b[i])) {
                return false;
            }
        }
        return true;
    }

    static bool same_versions(const ResourceSet& a, const ResourceSet& b) {
        if (a.types().size() != b.types().size()) {
            return false;
        }
        for (const auto& [type_url, t] : a.types()) {
            if (b.type(type_url).version != t.version) {
                return false;
            }
        }
        return true;
    }

    void log(LogLevel level, std::string_view message) const noexcept {
        if (logger_ != nullptr) {
            logger_->log(level, name_, message);
        }
    }

    Logger* logger_;
    std::string name_;
    NodeGroups groups_;
    std::unique_ptr<envoy::Api> api_;
    std::shared_ptr<const DiscoveryCodec> codec_;
    std::unique_ptr<ResourceReader> reader_;
    std::unique_ptr<GrpcServer> server_;
    std::unique_ptr<RestGateway> rest_;
    std::vector<ResourceSetPtr> last_;
};

}  // namespace
}  // namespace crossover::xds_server

CROSSOVER_PLUGIN(crossover::Kind::Sink, crossover::xds_server::XdsServerSink, "xds_server",
                 "Serves the documents (Envoy DiscoveryResponses) to Envoy and gRPC xDS clients "
                 "over gRPC: the aggregated discovery service (ADS) and the per-type services, "
                 "state of the world and Delta; versions are hashes of the resources.",
                 crossover::xds_server::kOptions)
