// crossover-xds-bench: the xds_server sink's push to many streams, measured in
// one process (server and clients share the machine): N ADS streams (state
// of the world or Delta) watch K RouteConfigurations holding R virtual hosts; each
// canary step publishes new weights for one virtual host and the bench times, per stream, publish
// -> response read, and counts the bytes each stream received per step.
//
//   crossover-xds-bench [--streams N] [--routes R] [--configs K] [--steps S] [--delta]
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "crossover_envoy/api.h"
#include "discovery_codec.h"
#include "grpc_server.h"
#include "resource_reader.h"

using namespace crossover::xds_server;
using Clock = std::chrono::steady_clock;
namespace pb = google::protobuf;

namespace {

// R virtual hosts spread over K RouteConfigurations ("routes-<k>"); a canary
// step changes the weights of the first virtual host only, as one
// TrafficSplit step does.
std::string rds(int routes, int configs, int canary) {
    std::vector<std::string> bodies(static_cast<std::size_t>(configs));
    for (int i = 0; i < routes; ++i) {
        const std::string n = std::to_string(i);
        const int w = i == 0 ? canary : 10;
        bodies[static_cast<std::size_t>(i % configs)] +=
            "  - name: app-" + n + "\n    domains: [app-" + n +
            "]\n    routes:\n    - match: {prefix: /}\n      route:\n        weighted_clusters:\n"
            "          clusters:\n          - {name: app-" +
            n + "-primary, weight: " + std::to_string(100 - w) + "}\n          - {name: app-" + n +
            "-canary, weight: " + std::to_string(w) + "}\n";
    }
    std::string out = "resources:\n";
    for (int k = 0; k < configs; ++k) {
        out +=
            "- \"@type\": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n"
            "  name: routes-" +
            std::to_string(k) + "\n  virtual_hosts:\n" + bodies[static_cast<std::size_t>(k)];
    }
    return out;
}

crossover::Snapshot snapshot(int routes, int configs, int canary) {
    auto d = std::make_shared<crossover::Document>();
    d->name = "rds.yaml";
    d->content = rds(routes, configs, canary);
    crossover::Snapshot s;
    s.documents.push_back(d);
    return s;
}

std::string request(const crossover::envoy::Api& api, bool delta, int configs) {
    const char* type = delta ? "envoy.service.discovery.v3.DeltaDiscoveryRequest"
                             : "envoy.service.discovery.v3.DiscoveryRequest";
    auto m = api.new_message(api.find_message(type));
    const pb::Reflection* r = m->GetReflection();
    const pb::Descriptor* d = m->GetDescriptor();
    r->SetString(m.get(), d->FindFieldByName("type_url"), std::string(kRouteType));
    for (int k = 0; k < configs; ++k) {
        r->AddString(m.get(),
                     d->FindFieldByName(delta ? "resource_names_subscribe" : "resource_names"),
                     "routes-" + std::to_string(k));
    }
    return m->SerializeAsString();
}

long rss_kib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

enum class Op { Start, Write, Read };

// A completion-queue tag: which stream, which operation.
struct Tag {
    std::size_t stream = 0;
    Op op = Op::Start;
};

struct Stream {
    Tag tags[3];
    grpc::ClientContext context;
    std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call;
    grpc::ByteBuffer out;
    grpc::ByteBuffer in;
    std::atomic<int> received{0};
    std::atomic<std::int64_t> bytes{0};
    std::atomic<std::int64_t> last_ns{0};
};

void* tag(Stream& s, Op op) {
    return &s.tags[static_cast<int>(op)];
}

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
        .count();
}

struct BenchArgs {
    int streams = 1000;
    int routes = 1000;
    int configs = 1;
    int steps = 20;
    bool delta = false;
};

// False on an unknown or incomplete argument.
bool parse_args(int argc, char** argv, BenchArgs& args) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--streams" && i + 1 < argc) {
            args.streams = std::atoi(argv[++i]);
        } else if (a == "--routes" && i + 1 < argc) {
            args.routes = std::atoi(argv[++i]);
        } else if (a == "--configs" && i + 1 < argc) {
            args.configs = std::max(1, std::atoi(argv[++i]));
        } else if (a == "--steps" && i + 1 < argc) {
            args.steps = std::atoi(argv[++i]);
        } else if (a == "--delta") {
            args.delta = true;
        } else {
            return false;
        }
    }
    return true;
}

// The N client streams, 50 per connection, driven by one completion-queue
// thread: each sends its subscription once started and then keeps reading,
// recording when its last response arrived and how many bytes it received.
class Clients {
public:
    Clients(int port, const BenchArgs& args, std::string subscription)
        : subscription_(std::move(subscription)) {
        for (int c = 0; c < (args.streams + 49) / 50; ++c) {
            grpc::ChannelArguments channel_args;
            channel_args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
            channel_args.SetMaxReceiveMessageSize(64 << 20);
            channels_.push_back(grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port),
                                                          grpc::InsecureChannelCredentials(),
                                                          channel_args));
        }
        const std::string method =
            std::string("/envoy.service.discovery.v3.AggregatedDiscoveryService/") +
            (args.delta ? "DeltaAggregatedResources" : "StreamAggregatedResources");
        for (int i = 0; i < args.streams; ++i) {
            auto s = std::make_unique<Stream>();
            for (int op = 0; op < 3; ++op) {
                s->tags[op] = Tag{static_cast<std::size_t>(i), static_cast<Op>(op)};
            }
            grpc::GenericStub stub(channels_[static_cast<std::size_t>(i / 50)]);
            s->call = stub.PrepareCall(&s->context, method, &cq_);
            s->call->StartCall(tag(*s, Op::Start));
            streams_.push_back(std::move(s));
        }
        poller_ = std::thread([this] { poll(); });
    }
    Clients(const Clients&) = delete;
    Clients& operator=(const Clients&) = delete;
    Clients(Clients&&) = delete;
    Clients& operator=(Clients&&) = delete;
    ~Clients() {
        for (auto& s : streams_) {
            s->context.TryCancel();
        }
        cq_.Shutdown();
        poller_.join();
    }

    // Waits (at most two minutes) until every stream has read `count` responses.
    bool wait_all(int count) const {
        const auto deadline = Clock::now() + std::chrono::seconds(120);
        for (;;) {
            bool done = true;
            for (const auto& s : streams_) {
                done = done && s->received.load() >= count;
            }
            if (done) {
                return true;
            }
            if (Clock::now() > deadline) {
                return false;
            }
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    }
    [[nodiscard]] std::int64_t bytes() const {
        std::int64_t total = 0;
        for (const auto& s : streams_) {
            total += s->bytes.load();
        }
        return total;
    }
    // Each stream's time from `t0_ns` to its last response, in ms.
    [[nodiscard]] std::vector<double> since(std::int64_t t0_ns) const {
        std::vector<double> ms;
        ms.reserve(streams_.size());
        for (const auto& s : streams_) {
            ms.push_back(static_cast<double>(s->last_ns.load() - t0_ns) / 1e6);
        }
        return ms;
    }

private:
    void poll() {
        void* t = nullptr;
        bool ok = false;
        while (cq_.Next(&t, &ok)) {
            const Tag& done = *static_cast<const Tag*>(t);
            Stream& s = *streams_[done.stream];
            if (!ok) {
                continue;
            }
            if (done.op == Op::Start) {
                grpc::Slice slice(subscription_);
                s.out = grpc::ByteBuffer(&slice, 1);
                s.call->Write(s.out, tag(s, Op::Write));
                s.call->Read(&s.in, tag(s, Op::Read));
            } else if (done.op == Op::Read) {
                s.bytes.fetch_add(static_cast<std::int64_t>(s.in.Length()));
                s.last_ns.store(now_ns());
                s.received.fetch_add(1);
                s.call->Read(&s.in, tag(s, Op::Read));
            }
        }
    }

    std::string subscription_;
    std::vector<std::shared_ptr<grpc::Channel>> channels_;
    grpc::CompletionQueue cq_;
    std::vector<std::unique_ptr<Stream>> streams_;
    std::thread poller_;
};

struct StepTimes {
    std::vector<double> per_stream_ms;   // publish -> one stream's response, every stream
    std::vector<double> all_streams_ms;  // publish -> the slowest stream's response, per step
    std::int64_t bytes = 0;              // received by all streams over the steps
};

// The canary steps; false (after saying which) when a step does not reach
// every stream.
bool run_steps(const BenchArgs& args, ResourceReader& reader, GrpcServer& server,
               const Clients& clients, StepTimes& times) {
    const std::int64_t bytes_before = clients.bytes();
    for (int step = 1; step <= args.steps; ++step) {
        const crossover::Snapshot snap =
            snapshot(args.routes, args.configs, step % 2 == 1 ? 10 : 20);
        const ResourceSetPtr set =
            reader.read(snap);  // parsing is the pipeline's cost, not the push's
        const std::int64_t t0_ns = now_ns();
        server.publish(set);
        if (!clients.wait_all(step + 1)) {
            std::fprintf(stderr, "step %d did not reach every stream\n", step);
            return false;
        }
        const std::vector<double> ms = clients.since(t0_ns);
        times.per_stream_ms.insert(times.per_stream_ms.end(), ms.begin(), ms.end());
        times.all_streams_ms.push_back(*std::max_element(ms.begin(), ms.end()));
    }
    times.bytes = clients.bytes() - bytes_before;
    return true;
}

void print_report(const BenchArgs& args, const StepTimes& times, long rss_growth_kib) {
    std::printf("mode %s, %d streams, %d virtual hosts in %d RouteConfigurations, %d steps\n",
                args.delta ? "Delta" : "state of the world", args.streams, args.routes,
                args.configs, args.steps);
    std::printf("publish -> response read, per stream: p50 %.2f ms, p99 %.2f ms\n",
                percentile(times.per_stream_ms, 0.5), percentile(times.per_stream_ms, 0.99));
    std::printf("publish -> every stream has it: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
                percentile(times.all_streams_ms, 0.5), percentile(times.all_streams_ms, 0.99),
                percentile(times.all_streams_ms, 1.0));
    std::printf("bytes per stream per step: %lld\n",
                static_cast<long long>(times.bytes /
                                       (static_cast<std::int64_t>(args.streams) * args.steps)));
    std::printf(
        "max RSS growth while opening the streams (server and clients): %.1f KiB per stream\n",
        static_cast<double>(rss_growth_kib) / args.streams);
}

}  // namespace

int main(int argc, char** argv) {
    BenchArgs args;
    if (!parse_args(argc, argv, args)) {
        std::fprintf(stderr,
                     "usage: crossover-xds-bench [--streams N] [--routes R] [--configs K] "
                     "[--steps S] [--delta]\n");
        return 2;
    }
    const crossover::envoy::Api api(CROSSOVER_XDS_BENCH_PROTOS);
    auto codec = std::make_shared<const DiscoveryCodec>(api.pool());
    ResourceReader reader(api, *codec);
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    GrpcServer server(options, codec, [](crossover::LogLevel, std::string_view) {});
    server.publish(reader.read(snapshot(args.routes, args.configs, 0)));

    const long rss_before = rss_kib();
    StepTimes times;
    {
        const Clients clients(server.port(), args, request(api, args.delta, args.configs));
        if (!clients.wait_all(1)) {
            std::fprintf(stderr, "not every stream got its first response\n");
            return 1;
        }
        const long rss_growth = rss_kib() - rss_before;
        if (!run_steps(args, reader, server, clients, times)) {
            return 1;
        }
        print_report(args, times, rss_growth);
    }
    return 0;
}
