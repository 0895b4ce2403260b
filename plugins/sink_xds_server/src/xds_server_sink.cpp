// The `xds_server` sink: serves its input documents to Envoy and gRPC xDS
// clients over the aggregated discovery service (state of the world) and the
// per-type discovery services.
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
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

struct XdsServerOptions {
    std::string listen = "127.0.0.1:18000";
    std::optional<std::string> rest_listen;
    std::int64_t max_streams = 10000;
    std::chrono::milliseconds keepalive_time{30000};
    std::chrono::milliseconds keepalive_timeout{10000};
    bool keepalive_permit_without_calls = true;
    std::string tls_cert_file;
    std::string tls_key_file;
    std::string tls_client_ca_file;
    YAML::Node node_groups;
    std::string proto_path;
};

const OptionTable<XdsServerOptions> kOptions{
    option("listen", &XdsServerOptions::listen,
           "gRPC address to serve xDS on, host:port (port 0 picks a free one; the log names it)")
        .check(checks::host_port),
    option("rest_listen", &XdsServerOptions::rest_listen,
           "Address to serve REST-JSON xDS on, host:port (POST /v3/discovery:clusters, "
           ":endpoints, :listeners, :routes); off unless set")
        .check(checks::host_port),
    option("max_streams", &XdsServerOptions::max_streams,
           "Streams served at once; more are refused with RESOURCE_EXHAUSTED")
        .at_least(1),
    option("keepalive_time", &XdsServerOptions::keepalive_time,
           "A client connection idle this long is pinged (HTTP/2 keepalive)")
        .range(1, std::numeric_limits<int>::max()),
    option("keepalive_timeout", &XdsServerOptions::keepalive_timeout,
           "A client that does not answer a keepalive ping within this time is disconnected")
        .range(1, std::numeric_limits<int>::max()),
    option("keepalive_permit_without_calls", &XdsServerOptions::keepalive_permit_without_calls,
           "Ping connections that have no open stream too, and accept clients' pings on them"),
    option("tls_cert_file", &XdsServerOptions::tls_cert_file,
           "PEM certificate chain to serve gRPC over TLS (with tls_key_file); plaintext unless "
           "set")
        .path(),
    option("tls_key_file", &XdsServerOptions::tls_key_file, "PEM private key of tls_cert_file")
        .path(),
    option("tls_client_ca_file", &XdsServerOptions::tls_client_ca_file,
           "PEM CA bundle: clients must present a certificate it signed (mTLS); needs "
           "tls_cert_file")
        .path(),
    option("node_groups", &XdsServerOptions::node_groups,
           "List of {name, node_cluster and/or node_id (patterns), documents (name patterns)}: a "
           "client whose node matches a group is served only those documents; others get all"),
    option("proto_path", &XdsServerOptions::proto_path,
           "Directory of Envoy's API (envoy-api.pb, as the build installs it); default: "
           "share/crossover/envoy-protos next to the plugin")
        .path(),
};

std::string api_dir(const ComponentConfig& config, const XdsServerOptions& given) {
    if (!given.proto_path.empty()) {
        return given.proto_path;
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
std::string read_pem(const ComponentConfig& config, const std::string& key,
                     const std::string& path) {
    if (path.empty()) {
        return {};
    }
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in || text.str().find("-----BEGIN ") == std::string::npos) {
        throw Error(config.where(key) + "cannot read a PEM file at '" + path + "'");
    }
    return text.str();
}

ServerOptions server_options(const ComponentConfig& config, const XdsServerOptions& given) {
    ServerOptions o;
    o.tls_cert_pem = read_pem(config, "tls_cert_file", given.tls_cert_file);
    o.tls_key_pem = read_pem(config, "tls_key_file", given.tls_key_file);
    o.tls_client_ca_pem = read_pem(config, "tls_client_ca_file", given.tls_client_ca_file);
    if (o.tls_cert_pem.empty() != o.tls_key_pem.empty()) {
        throw Error(config.where(o.tls_cert_pem.empty() ? "tls_key_file" : "tls_cert_file") +
                    "tls_cert_file and tls_key_file go together");
    }
    if (!o.tls_client_ca_pem.empty() && o.tls_cert_pem.empty()) {
        throw Error(config.where("tls_client_ca_file") +
                    "mTLS needs tls_cert_file and tls_key_file");
    }
    o.listen = given.listen;
    o.metrics = config.metrics;
    o.max_streams = given.max_streams;
    o.keepalive_ms = given.keepalive_time.count();
    o.keepalive_timeout_ms = given.keepalive_timeout.count();
    o.keepalive_permit_without_calls = given.keepalive_permit_without_calls;
    return o;
}

class XdsServerSink final : public Sink {
public:
    XdsServerSink(const ComponentConfig& config, const XdsServerOptions& given)
        : logger_(config.logger),
          name_(config.name),
          groups_(given.node_groups, config.where("node_groups")) {
        ServerOptions options = server_options(config, given);
        if (groups_.size() > 0) {
            const NodeGroups* groups = &groups_;
            options.group_of = [groups](const NodeInfo& node) { return groups->group_of(node); };
        }
        try {
            api_ = std::make_unique<envoy::Api>(api_dir(config, given));
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
        if (given.rest_listen) {
            const std::string& rest = *given.rest_listen;
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
