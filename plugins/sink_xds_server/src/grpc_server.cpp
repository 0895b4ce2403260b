#include "grpc_server.h"

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/slice.h>

#include <map>
#include <optional>
#include <utility>

#include "crossover/status.h"
#include "delta_protocol.h"
#include "fetch.h"
#include "server_metrics.h"
#include "sotw_protocol.h"

namespace crossover::xds_server {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kAds = "/envoy.service.discovery.v3.AggregatedDiscoveryService/";

struct Method {
    std::string_view type;  // empty: any type (ADS)
    bool delta;
    std::string_view service;  // for metrics
    bool unary = false;        // Fetch*: one request, one response
};

// The methods served: ADS and the per-type services, each in both stream
// variants, and the per-type services' unary Fetch*.
const std::map<std::string, Method, std::less<>>& methods() {
    static const std::map<std::string, Method, std::less<>> m{
        {std::string(kAds) + "StreamAggregatedResources", {{}, false, "ads"}},
        {std::string(kAds) + "DeltaAggregatedResources", {{}, true, "ads"}},
        {"/envoy.service.cluster.v3.ClusterDiscoveryService/StreamClusters",
         {kClusterType, false, "clusters"}},
        {"/envoy.service.cluster.v3.ClusterDiscoveryService/DeltaClusters",
         {kClusterType, true, "clusters"}},
        {"/envoy.service.endpoint.v3.EndpointDiscoveryService/StreamEndpoints",
         {kEndpointType, false, "endpoints"}},
        {"/envoy.service.endpoint.v3.EndpointDiscoveryService/DeltaEndpoints",
         {kEndpointType, true, "endpoints"}},
        {"/envoy.service.listener.v3.ListenerDiscoveryService/StreamListeners",
         {kListenerType, false, "listeners"}},
        {"/envoy.service.listener.v3.ListenerDiscoveryService/DeltaListeners",
         {kListenerType, true, "listeners"}},
        {"/envoy.service.route.v3.RouteDiscoveryService/StreamRoutes",
         {kRouteType, false, "routes"}},
        {"/envoy.service.route.v3.RouteDiscoveryService/DeltaRoutes", {kRouteType, true, "routes"}},
        {"/envoy.service.cluster.v3.ClusterDiscoveryService/FetchClusters",
         {kClusterType, false, "clusters", true}},
        {"/envoy.service.endpoint.v3.EndpointDiscoveryService/FetchEndpoints",
         {kEndpointType, false, "endpoints", true}},
        {"/envoy.service.listener.v3.ListenerDiscoveryService/FetchListeners",
         {kListenerType, false, "listeners", true}},
        {"/envoy.service.route.v3.RouteDiscoveryService/FetchRoutes",
         {kRouteType, false, "routes", true}},
    };
    return m;
}

std::string to_string(const grpc::ByteBuffer& buffer) {
    std::vector<grpc::Slice> slices;
    std::string out;
    if (!buffer.Dump(&slices).ok()) {
        return out;
    }
    out.reserve(buffer.Length());
    for (const auto& s : slices) {
        out.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    return out;
}

void release_piece(void* owner) {
    delete static_cast<std::shared_ptr<const std::string>*>(owner);
}

// The response as gRPC slices: the head is copied, the body's pieces are
// referenced (each keeps its owner alive until gRPC has sent it).
grpc::ByteBuffer to_byte_buffer(const EncodedResponse& response) {
    std::vector<grpc::Slice> slices;
    slices.reserve(1 + response.body.size());
    slices.emplace_back(response.head);
    for (const auto& piece : response.body) {
        auto* owner = new std::shared_ptr<const std::string>(piece);
        slices.emplace_back(const_cast<char*>(piece->data()), piece->size(), &release_piece, owner);
    }
    return grpc::ByteBuffer(slices.data(), slices.size());
}

std::string describe(const NodeInfo& node) {
    std::string out = "node '" + node.id + "'";
    if (!node.cluster.empty()) {
        out += " (cluster '" + node.cluster + "')";
    }
    return out;
}

std::shared_ptr<grpc::ServerCredentials> credentials(const ServerOptions& options) {
    if (options.tls_cert_pem.empty()) {
        return grpc::InsecureServerCredentials();
    }
    grpc::SslServerCredentialsOptions ssl(
        options.tls_client_ca_pem.empty()
            ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
            : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    ssl.pem_root_certs = options.tls_client_ca_pem;
    ssl.pem_key_cert_pairs.push_back({options.tls_key_pem, options.tls_cert_pem});
    return grpc::SslServerCredentials(ssl);
}

}  // namespace

struct GrpcServer::Shared {
    explicit Shared(Metrics* m) : metrics(m) {}

    std::shared_ptr<const DiscoveryCodec> codec;
    LogFn log;
    ServerOptions options;
    ServerCounters counters;
    ServerMetrics metrics;

    std::mutex mu;  // guards sets and streams
    std::vector<ResourceSetPtr> sets;
    std::map<std::uint64_t, std::shared_ptr<Stream>> streams;
    std::uint64_t next_id = 0;

    [[nodiscard]] std::size_t group_of(const NodeInfo& node) const {
        return options.group_of ? options.group_of(node) : 0;
    }
    ResourceSetPtr current(std::size_t group) {
        std::lock_guard<std::mutex> lock(mu);
        return group < sets.size() ? sets[group] : nullptr;
    }
};

// One stream: ADS or a per-type service, state of the world or Delta.
class GrpcServer::Stream final : public grpc::ServerGenericBidiReactor {
public:
    Stream(std::shared_ptr<Shared> shared, std::string fixed_type, bool delta, std::string peer,
           Gauge& open)
        : shared_(std::move(shared)),
          fixed_type_(std::move(fixed_type)),
          delta_(delta),
          peer_(std::move(peer)),
          open_(open) {}

    void start(std::shared_ptr<Stream> self) {
        self_ = std::move(self);
        StartRead(&read_buf_);
    }

    // A new ResourceSet was published at `when`.
    void poke(Clock::time_point when) {
        {
            std::lock_guard<std::mutex> lock(mu_);
            // Responses from here on carry the change, until nothing is due; a
            // stream that has not asked for anything yet is not pushed to.
            if (group_ != kNoGroup && !change_since_) {
                change_since_ = when;
            }
        }
        pump();
    }

    void OnReadDone(bool ok) override {
        if (!ok) {
            // The client half-closed or went away.
            finish(grpc::Status::OK);
            return;
        }
        std::optional<Request> request;
        try {
            const std::string bytes = to_string(read_buf_);
            request = delta_ ? shared_->codec->parse_delta_request(bytes)
                             : shared_->codec->parse_sotw_request(bytes);
        } catch (const std::exception& e) {
            shared_->counters.bad_requests.fetch_add(1);
            shared_->log(LogLevel::Warn,
                         "xDS stream from " + peer_ + ": " + e.what() + "; ending the stream");
            finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, e.what()));
            return;
        }
        handle(*request);
        shared_->counters.requests.fetch_add(1);
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (finishing_) {
                return;
            }
        }
        StartRead(&read_buf_);
        pump();
    }

    void OnWriteDone(bool ok) override {
        shared_->counters.writes_in_flight.fetch_sub(1);
        bool finish_now = false;
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (ok) {
                shared_->metrics.pushed(write_type_);
                if (write_change_since_) {
                    shared_->metrics.push_latency(write_type_, Clock::now() - *write_change_since_);
                }
            }
            writing_ = false;
            write_buf_.Clear();
            if (!ok) {
                finishing_ = true;
            }
            finish_now = finishing_ && !finished_;
            if (finish_now) {
                finished_ = true;
            }
        }
        if (finish_now) {
            Finish(ok ? finish_status_ : grpc::Status::CANCELLED);
            return;
        }
        pump();
    }

    void OnDone() override {
        {
            std::lock_guard<std::mutex> lock(mu_);
            done_ = true;
        }
        shared_->counters.streams_open.fetch_sub(1);
        open_.add(-1);
        std::shared_ptr<Stream> self;
        {
            std::lock_guard<std::mutex> lock(shared_->mu);
            shared_->streams.erase(id_);
            self = std::move(self_);
        }
        // `self` may be the last owner: the stream goes with it.
    }

    std::uint64_t id_ = 0;

private:
    void handle(Request& request) {
        if (!fixed_type_.empty()) {
            if (request.type_url.empty()) {
                request.type_url = fixed_type_;
            } else if (request.type_url != fixed_type_) {
                shared_->counters.unknown_types.fetch_add(1);
                shared_->log(LogLevel::Warn, "xDS stream from " + peer_ + ": type '" +
                                                 request.type_url + "' on the service for '" +
                                                 fixed_type_ + "'; ignored");
                return;
            }
        }
        if (request.type_url.empty() || !served_type(request.type_url)) {
            shared_->counters.unknown_types.fetch_add(1);
            shared_->log(LogLevel::Warn, "xDS stream from " + peer_ + ": unknown type URL '" +
                                             request.type_url + "'; request ignored");
            return;
        }
        RequestResult result;
        NodeInfo node;
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (group_ == kNoGroup) {
                // The node of the first request decides what this stream is served.
                group_ = shared_->group_of(request.node);
            }
            result = delta_ ? delta_protocol_.on_request(request) : protocol_.on_request(request);
            node = delta_ ? delta_protocol_.node() : protocol_.node();
        }
        switch (result.kind) {
            case RequestKind::Ack:
                shared_->counters.acks.fetch_add(1);
                shared_->metrics.ack(request.type_url);
                break;
            case RequestKind::Nack:
                shared_->counters.nacks.fetch_add(1);
                shared_->metrics.nack(request.type_url);
                shared_->log(LogLevel::Warn, "xDS client " + describe(node) + " refused " +
                                                 request.type_url + " version " + result.version +
                                                 ": " + request.error_message);
                break;
            case RequestKind::Stale: shared_->counters.stale.fetch_add(1); break;
            case RequestKind::Subscribe: break;
        }
    }

    // Starts the next due write if none is in flight.
    void pump() {
        std::size_t group = kNoGroup;
        {
            std::lock_guard<std::mutex> lock(mu_);
            group = group_;
        }
        const ResourceSetPtr set = group == kNoGroup ? nullptr : shared_->current(group);
        if (!set) {
            return;
        }
        std::unique_lock<std::mutex> lock(mu_);
        if (writing_ || finishing_ || done_) {
            return;
        }
        if (delta_) {
            std::optional<DueDelta> due = delta_protocol_.next(*set);
            if (!due) {
                change_since_.reset();
                return;
            }
            write_type_ = due->type_url;
            const grpc::Slice slice(shared_->codec->delta_response(
                due->type_url, due->system_version, due->changed, due->removed, due->nonce));
            write_buf_ = grpc::ByteBuffer(&slice, 1);
        } else {
            std::optional<DueResponse> due = protocol_.next(*set);
            if (!due) {
                change_since_.reset();
                return;
            }
            write_type_ = due->type_url;
            const TypeResources& type = set->type(due->type_url);
            write_buf_ = to_byte_buffer(shared_->codec->sotw_response(
                set, type, due->type_url, due->all, due->selected, due->nonce));
        }
        write_change_since_ = change_since_;
        writing_ = true;
        lock.unlock();
        shared_->counters.responses.fetch_add(1);
        shared_->counters.writes_in_flight.fetch_add(1);
        StartWrite(&write_buf_);
    }

    void finish(const grpc::Status& status) {
        bool finish_now = false;
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (finishing_) {
                return;
            }
            finishing_ = true;
            finish_status_ = status;
            finish_now = !writing_;
            finished_ = finish_now;
        }
        if (finish_now) {
            Finish(status);
        }
    }

    std::shared_ptr<Shared> shared_;
    const std::string fixed_type_;
    const bool delta_;
    const std::string peer_;
    Gauge& open_;                   // streams of this service and mode
    std::shared_ptr<Stream> self_;  // the registry's hold is dropped in OnDone
    grpc::ByteBuffer read_buf_;

    static constexpr std::size_t kNoGroup = static_cast<std::size_t>(-1);

    std::mutex mu_;                 // guards everything below
    std::size_t group_ = kNoGroup;  // chosen by the first request's node
    SotwProtocol protocol_;
    DeltaProtocol delta_protocol_;
    grpc::ByteBuffer write_buf_;
    bool writing_ = false;
    bool finishing_ = false;  // no new reads or writes
    bool finished_ = false;   // Finish called
    bool done_ = false;
    grpc::Status finish_status_;
    // The oldest published change not yet sent (unset: nothing pending), and
    // the one the response in flight carries, with its type.
    std::optional<Clock::time_point> change_since_;
    std::optional<Clock::time_point> write_change_since_;
    std::string write_type_;
};

namespace {

// Ends a call at once with `status` (unknown methods, too many streams).
class Refusal final : public grpc::ServerGenericBidiReactor {
public:
    explicit Refusal(const grpc::Status& status) { Finish(status); }
    void OnDone() override { delete this; }
};

}  // namespace

// A unary Fetch* call: one DiscoveryRequest, answered with the resources of
// the service's type the node is served now (see fetch.h), then done. The
// answer is the current state even when the request's version_info is
// current: gRPC has no "not modified", and a client compares version_info.
class GrpcServer::FetchCall final : public grpc::ServerGenericBidiReactor {
public:
    FetchCall(std::shared_ptr<Shared> shared, std::string type_url, std::string peer)
        : shared_(std::move(shared)), type_url_(std::move(type_url)), peer_(std::move(peer)) {
        StartRead(&read_buf_);
    }

    void OnReadDone(bool ok) override {
        const grpc::Status status =
            ok ? answer()
               : grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no DiscoveryRequest sent");
        if (!status.ok()) {
            Finish(status);
            return;
        }
        StartWriteAndFinish(&write_buf_, grpc::WriteOptions(), grpc::Status::OK);
    }
    void OnDone() override { delete this; }

private:
    grpc::Status answer() {
        Request request;
        try {
            request = shared_->codec->parse_sotw_request(to_string(read_buf_));
        } catch (const std::exception& e) {
            shared_->counters.bad_requests.fetch_add(1);
            shared_->log(LogLevel::Warn, "xDS fetch from " + peer_ + ": " + e.what());
            return {grpc::StatusCode::INVALID_ARGUMENT, e.what()};
        }
        shared_->counters.requests.fetch_add(1);
        if (!request.type_url.empty() && request.type_url != type_url_) {
            shared_->counters.unknown_types.fetch_add(1);
            return {grpc::StatusCode::INVALID_ARGUMENT,
                    "type_url " + request.type_url + " on the service for " + type_url_};
        }
        const ResourceSetPtr set = shared_->current(shared_->group_of(request.node));
        if (!set) {
            return {grpc::StatusCode::UNAVAILABLE,
                    "no resources yet: the pipeline has not produced an output"};
        }
        write_buf_ = to_byte_buffer(fetch_response(*shared_->codec, set, type_url_, request));
        shared_->counters.responses.fetch_add(1);
        return grpc::Status::OK;
    }

    std::shared_ptr<Shared> shared_;
    const std::string type_url_;
    const std::string peer_;
    grpc::ByteBuffer read_buf_;
    grpc::ByteBuffer write_buf_;
};

class GrpcServer::Service final : public grpc::CallbackGenericService {
public:
    explicit Service(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}

    grpc::ServerGenericBidiReactor* CreateReactor(
        grpc::GenericCallbackServerContext* context) override {
        const std::string& method = context->method();
        const auto served = methods().find(method);
        if (served == methods().end()) {
            return new Refusal(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                            "method " + method + " is not served"));
        }
        if (served->second.unary) {
            return new FetchCall(shared_, std::string(served->second.type), context->peer());
        }
        Gauge& open = shared_->metrics.streams(served->second.service, served->second.delta);
        auto stream = std::make_shared<Stream>(shared_, std::string(served->second.type),
                                               served->second.delta, context->peer(), open);
        {
            std::lock_guard<std::mutex> lock(shared_->mu);
            if (static_cast<std::int64_t>(shared_->streams.size()) >=
                shared_->options.max_streams) {
                shared_->counters.streams_refused.fetch_add(1);
                shared_->metrics.refused().increment();
                return new Refusal(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                                "too many xDS streams (max_streams " +
                                                    std::to_string(shared_->options.max_streams) +
                                                    ")"));
            }
            stream->id_ = ++shared_->next_id;
            shared_->streams.emplace(stream->id_, stream);
        }
        shared_->counters.streams_open.fetch_add(1);
        shared_->counters.streams_total.fetch_add(1);
        open.add(1);
        Stream* raw = stream.get();
        raw->start(std::move(stream));
        return raw;
    }

private:
    std::shared_ptr<Shared> shared_;
};

GrpcServer::GrpcServer(const ServerOptions& options, std::shared_ptr<const DiscoveryCodec> codec,
                       LogFn log)
    : shared_(std::make_shared<Shared>(options.metrics)), counters_(shared_->counters) {
    shared_->codec = std::move(codec);
    shared_->log = std::move(log);
    shared_->options = options;
    service_ = std::make_unique<Service>(shared_);

    grpc::ServerBuilder builder;
    builder.AddListeningPort(options.listen, credentials(options), &port_);
    builder.RegisterCallbackGenericService(service_.get());
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(options.keepalive_ms));
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                               static_cast<int>(options.keepalive_timeout_ms));
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS,
                               options.keepalive_permit_without_calls ? 1 : 0);
    // Envoy and gRPC clients ping to keep idle streams open: allow it.
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
    server_ = builder.BuildAndStart();
    if (!server_ || port_ == 0) {
        throw Error("cannot listen on '" + options.listen + "' (address in use or invalid)");
    }
}

GrpcServer::~GrpcServer() {
    // Ends every stream (their OnDone runs before Shutdown returns), then stops.
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    server_->Wait();
}

ResourceSetPtr GrpcServer::current(const NodeInfo& node) const {
    return shared_->current(shared_->group_of(node));
}

void GrpcServer::publish(ResourceSetPtr set) {
    publish(std::vector<ResourceSetPtr>{std::move(set)});
}

void GrpcServer::publish(std::vector<ResourceSetPtr> sets) {
    const Clock::time_point now = Clock::now();
    std::vector<std::shared_ptr<Stream>> streams;
    {
        std::lock_guard<std::mutex> lock(shared_->mu);
        shared_->sets = std::move(sets);
        streams.reserve(shared_->streams.size());
        for (const auto& [id, s] : shared_->streams) {
            streams.push_back(s);
        }
    }
    for (const auto& s : streams) {
        s->poke(now);
    }
}

}  // namespace crossover::xds_server
