// The gRPC side of the xDS server: one generic callback service answering
// the aggregated (ADS) and per-type discovery services (streams, and the
// per-type unary Fetch* calls), one reactor per call, and the registry that
// pushes each new ResourceSet to every stream.
//
// No thread ever waits for a client: a push marks the stream and starts a
// write only when none is in flight; a stream whose client does not read keeps
// one response in flight and, per type, only the newest state to send next.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "crossover/log.h"
#include "crossover/metrics.h"
#include "discovery_codec.h"
#include "resources.h"

namespace grpc {
class Server;
}  // namespace grpc

namespace crossover::xds_server {

struct ServerOptions {
    std::string listen = "127.0.0.1:18000";
    std::int64_t max_streams = 10000;
    // HTTP/2 keepalive: a connection idle this long is pinged, and closed when
    // the answer takes longer than the timeout (a client that vanished).
    std::int64_t keepalive_ms = 30000;
    std::int64_t keepalive_timeout_ms = 10000;
    // Ping connections without an open call too, and accept clients' pings on them.
    bool keepalive_permit_without_calls = true;
    // TLS: PEM certificate chain and key; empty serves plaintext. With a
    // client CA, clients must present a certificate it signed (mTLS).
    std::string tls_cert_pem;
    std::string tls_key_pem;
    std::string tls_client_ca_pem;
    // The group (index into the sets publish() takes) that serves a node;
    // unset: every client is served the first set.
    std::function<std::size_t(const NodeInfo&)> group_of;
    // Where streams, pushes, ACKs, NACKs and push latency are exported (null: nowhere).
    Metrics* metrics = nullptr;
};

// Counters, readable at any time (metrics, tests).
struct ServerCounters {
    std::atomic<std::int64_t> streams_open{0};
    std::atomic<std::int64_t> streams_total{0};
    std::atomic<std::int64_t> streams_refused{0};  // above max_streams
    std::atomic<std::int64_t> requests{0};         // handled (after parsing), whatever they were
    std::atomic<std::int64_t> responses{0};
    // Responses handed to gRPC and not yet sent: at most one per stream.
    std::atomic<std::int64_t> writes_in_flight{0};
    std::atomic<std::int64_t> acks{0};
    std::atomic<std::int64_t> nacks{0};
    std::atomic<std::int64_t> stale{0};
    std::atomic<std::int64_t> bad_requests{0};   // unparsable: the stream is ended
    std::atomic<std::int64_t> unknown_types{0};  // requests for types no xDS client may ask for
};

using LogFn = std::function<void(LogLevel, std::string_view)>;

class GrpcServer {
public:
    // Binds and starts serving; throws crossover::Error when the address cannot be bound.
    GrpcServer(const ServerOptions& options, std::shared_ptr<const DiscoveryCodec> codec,
               LogFn log);
    ~GrpcServer();
    GrpcServer(const GrpcServer&) = delete;
    GrpcServer& operator=(const GrpcServer&) = delete;
    GrpcServer(GrpcServer&&) = delete;
    GrpcServer& operator=(GrpcServer&&) = delete;

    // Makes `set` the state every stream follows and pushes what changed.
    void publish(ResourceSetPtr set);
    // The same with one set per node group (see ServerOptions::group_of).
    void publish(std::vector<ResourceSetPtr> sets);

    // The set published last for `node`'s group (null before the first).
    [[nodiscard]] ResourceSetPtr current(const NodeInfo& node = {}) const;

    // The port actually bound (useful with port 0).
    [[nodiscard]] int port() const { return port_; }
    [[nodiscard]] const ServerCounters& counters() const { return counters_; }

    // Shared with the streams.
    class Stream;
    struct Shared;

private:
    class Service;
    class FetchCall;

    std::shared_ptr<Shared> shared_;
    std::unique_ptr<Service> service_;
    std::unique_ptr<grpc::Server> server_;
    ServerCounters& counters_;
    int port_ = 0;
};

}  // namespace crossover::xds_server
