// Shared set-up of the xds_server tests: Envoy's API from the build tree, an
// in-process server on a free loopback port, and resources read from the
// test documents the way the sink reads them.
#pragma once

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "crossover/snapshot.h"
#include "crossover_envoy/api.h"
#include "discovery_codec.h"
#include "grpc_server.h"
#include "process.h"
#include "resource_reader.h"
#include "xds_documents.h"
#include "xds_test_client.h"

namespace crossover::xds_server::test {

// Envoy's API as the build installs it; null (with the line CTest reads as
// "skipped") when the build could not fetch it.
inline const envoy::Api* api_or_skip() {
    static std::unique_ptr<envoy::Api> api = [] {
        const char* build = std::getenv("CROSSOVER_BUILD_DIR");
        const std::string dir =
            std::string(build != nullptr ? build : ".") + "/share/crossover/envoy-protos";
        if (!envoy::api_present(dir)) {
            return std::unique_ptr<envoy::Api>();
        }
        return std::make_unique<envoy::Api>(dir);
    }();
    if (!api) {
        std::cout << "SKIPPED: Envoy protos absent (the build could not fetch them)\n";
    }
    return api.get();
}

inline DocumentPtr doc(const std::string& name, const std::string& content) {
    auto d = std::make_shared<Document>();
    d->name = name;
    d->content = content;
    return d;
}

inline Snapshot snapshot(std::vector<DocumentPtr> documents) {
    Snapshot s;
    s.documents = std::move(documents);
    return s;
}

using crossover::test::eventually;

class ServerFixture {
public:
    explicit ServerFixture(const envoy::Api& api, std::int64_t max_streams = 10000)
        : ServerFixture(api, options(max_streams)) {}

    static ServerOptions options(std::int64_t max_streams = 10000) {
        ServerOptions o;
        o.listen = "127.0.0.1:0";
        o.max_streams = max_streams;
        return o;
    }

    ServerFixture(const envoy::Api& api, const ServerOptions& o)
        : codec_(std::make_shared<const DiscoveryCodec>(api.pool())),
          reader_(api, *codec_),
          messages_(api) {
        server_ = std::make_unique<GrpcServer>(o, codec_, [this](LogLevel, std::string_view m) {
            std::lock_guard<std::mutex> lock(mu_);
            logs_.emplace_back(m);
        });
        channel_ = channel_to(server_->port());
    }

    // Publishes the four test documents.
    void publish(int primary, int canary, const std::string& extra_cluster = {},
                 const std::string& extra_route = {}) {
        server_->publish(reader_.read(
            snapshot({doc("cds.yaml", cds_yaml(extra_cluster)),
                      doc("eds.yaml", eds_yaml(8001, 8002)), doc("lds.yaml", lds_yaml()),
                      doc("rds.yaml", rds_yaml(primary, canary, extra_route))})));
    }

    void publish(std::vector<DocumentPtr> documents) {
        server_->publish(reader_.read(snapshot(std::move(documents))));
    }

    [[nodiscard]] ResourceReader& reader() { return reader_; }

    [[nodiscard]] GrpcServer& server() { return *server_; }
    [[nodiscard]] const Messages& messages() const { return messages_; }
    [[nodiscard]] const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
    std::unique_ptr<SotwClient> client(const std::string& method = kAdsMethod) {
        // A channel per client: each stream on its own connection.
        return std::make_unique<SotwClient>(channel_to(server_->port()), messages_, method);
    }
    std::unique_ptr<DeltaClient> delta_client(const std::string& method = kDeltaAdsMethod) {
        return std::make_unique<DeltaClient>(channel_to(server_->port()), messages_, method);
    }
    [[nodiscard]] std::vector<std::string> logs() {
        std::lock_guard<std::mutex> lock(mu_);
        return logs_;
    }
    [[nodiscard]] bool logged(const std::string& needle) {
        for (const auto& l : logs()) {
            if (l.find(needle) != std::string::npos) {
                return true;
            }
        }
        return false;
    }

private:
    std::shared_ptr<const DiscoveryCodec> codec_;
    ResourceReader reader_;
    Messages messages_;
    std::unique_ptr<GrpcServer> server_;
    std::shared_ptr<grpc::Channel> channel_;
    std::mutex mu_;
    std::vector<std::string> logs_;
};

}  // namespace crossover::xds_server::test
