// A small blocking xDS client for the tests: a gRPC generic stub (raw bytes)
// with a completion queue, and DiscoveryRequest/DiscoveryResponse built and
// read as dynamic messages of Envoy's API. Every wait has a deadline.
#pragma once

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crossover_envoy/api.h"

namespace crossover::xds_server::test {

namespace pb = google::protobuf;

inline constexpr const char* kAdsMethod =
    "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources";

struct SotwResponse {
    std::string version;
    std::string type_url;
    std::string nonce;
    std::vector<std::string> names;  // the resources' names, in order
    std::vector<std::unique_ptr<pb::Message>> messages;
};

struct SotwRequestSpec {
    SotwRequestSpec(std::string type, std::vector<std::string> resource_names,
                    std::string version_info = {}, std::string response_nonce = {})
        : type_url(std::move(type)),
          names(std::move(resource_names)),
          version(std::move(version_info)),
          nonce(std::move(response_nonce)) {}
    std::string type_url;
    std::vector<std::string> names;
    std::string version;
    std::string nonce;
    std::string node_id = "test-node";
    std::string node_cluster;
    std::string error;  // non-empty: a NACK with this error_detail message
};

struct DeltaRequestSpec {
    std::string type_url;
    std::vector<std::string> subscribe;
    std::vector<std::string> unsubscribe;
    std::map<std::string, std::string> initial_versions;
    std::string nonce;
    std::string error;  // non-empty: a NACK
};

struct DeltaResponse {
    std::string system_version;
    std::string type_url;
    std::string nonce;
    std::map<std::string, std::string> versions;  // name -> version of each resource sent
    std::vector<std::string> removed;
};

// Builds and reads discovery messages with Envoy's API.
class Messages {
public:
    explicit Messages(const envoy::Api& api) : api_(api) {}

    [[nodiscard]] std::string request(const SotwRequestSpec& spec) const {
        auto m = api_.new_message(type("envoy.service.discovery.v3.DiscoveryRequest"));
        const pb::Reflection* r = m->GetReflection();
        const pb::Descriptor* d = m->GetDescriptor();
        r->SetString(m.get(), d->FindFieldByName("type_url"), spec.type_url);
        r->SetString(m.get(), d->FindFieldByName("version_info"), spec.version);
        r->SetString(m.get(), d->FindFieldByName("response_nonce"), spec.nonce);
        for (const auto& n : spec.names) {
            r->AddString(m.get(), d->FindFieldByName("resource_names"), n);
        }
        pb::Message* node = r->MutableMessage(m.get(), d->FindFieldByName("node"));
        node->GetReflection()->SetString(node, node->GetDescriptor()->FindFieldByName("id"),
                                         spec.node_id);
        node->GetReflection()->SetString(node, node->GetDescriptor()->FindFieldByName("cluster"),
                                         spec.node_cluster);
        if (!spec.error.empty()) {
            pb::Message* status = r->MutableMessage(m.get(), d->FindFieldByName("error_detail"));
            status->GetReflection()->SetInt32(status,
                                              status->GetDescriptor()->FindFieldByName("code"), 3);
            status->GetReflection()->SetString(
                status, status->GetDescriptor()->FindFieldByName("message"), spec.error);
        }
        return m->SerializeAsString();
    }

    [[nodiscard]] std::string delta_request(const DeltaRequestSpec& spec) const {
        auto m = api_.new_message(type("envoy.service.discovery.v3.DeltaDiscoveryRequest"));
        const pb::Reflection* r = m->GetReflection();
        const pb::Descriptor* d = m->GetDescriptor();
        r->SetString(m.get(), d->FindFieldByName("type_url"), spec.type_url);
        r->SetString(m.get(), d->FindFieldByName("response_nonce"), spec.nonce);
        for (const auto& n : spec.subscribe) {
            r->AddString(m.get(), d->FindFieldByName("resource_names_subscribe"), n);
        }
        for (const auto& n : spec.unsubscribe) {
            r->AddString(m.get(), d->FindFieldByName("resource_names_unsubscribe"), n);
        }
        for (const auto& [name, version] : spec.initial_versions) {
            pb::Message* e =
                r->AddMessage(m.get(), d->FindFieldByName("initial_resource_versions"));
            e->GetReflection()->SetString(e, e->GetDescriptor()->FindFieldByName("key"), name);
            e->GetReflection()->SetString(e, e->GetDescriptor()->FindFieldByName("value"), version);
        }
        if (!spec.error.empty()) {
            pb::Message* status = r->MutableMessage(m.get(), d->FindFieldByName("error_detail"));
            status->GetReflection()->SetString(
                status, status->GetDescriptor()->FindFieldByName("message"), spec.error);
        }
        return m->SerializeAsString();
    }

    [[nodiscard]] DeltaResponse delta_response(const std::string& bytes) const {
        auto m = api_.new_message(type("envoy.service.discovery.v3.DeltaDiscoveryResponse"));
        if (!m->ParseFromString(bytes)) {
            throw std::runtime_error("not a DeltaDiscoveryResponse");
        }
        const pb::Reflection* r = m->GetReflection();
        const pb::Descriptor* d = m->GetDescriptor();
        DeltaResponse out;
        out.system_version = r->GetString(*m, d->FindFieldByName("system_version_info"));
        out.type_url = r->GetString(*m, d->FindFieldByName("type_url"));
        out.nonce = r->GetString(*m, d->FindFieldByName("nonce"));
        const pb::FieldDescriptor* removed = d->FindFieldByName("removed_resources");
        for (int i = 0; i < r->FieldSize(*m, removed); ++i) {
            out.removed.push_back(r->GetRepeatedString(*m, removed, i));
        }
        const pb::FieldDescriptor* resources = d->FindFieldByName("resources");
        for (int i = 0; i < r->FieldSize(*m, resources); ++i) {
            const pb::Message& res = r->GetRepeatedMessage(*m, resources, i);
            const pb::Descriptor* rd = res.GetDescriptor();
            const pb::Reflection* rr = res.GetReflection();
            const pb::Message& any = rr->GetMessage(res, rd->FindFieldByName("resource"));
            const std::string url = any.GetReflection()->GetString(
                any, any.GetDescriptor()->FindFieldByName("type_url"));
            if (url != out.type_url) {
                throw std::runtime_error("resource of type " + url + " in a " + out.type_url +
                                         " response");
            }
            out.versions[rr->GetString(res, rd->FindFieldByName("name"))] =
                rr->GetString(res, rd->FindFieldByName("version"));
        }
        return out;
    }

    // Throws std::runtime_error when the bytes are not a DiscoveryResponse.
    [[nodiscard]] SotwResponse response(const std::string& bytes) const {
        auto m = api_.new_message(type("envoy.service.discovery.v3.DiscoveryResponse"));
        if (!m->ParseFromString(bytes)) {
            throw std::runtime_error("not a DiscoveryResponse");
        }
        const pb::Reflection* r = m->GetReflection();
        const pb::Descriptor* d = m->GetDescriptor();
        SotwResponse out;
        out.version = r->GetString(*m, d->FindFieldByName("version_info"));
        out.type_url = r->GetString(*m, d->FindFieldByName("type_url"));
        out.nonce = r->GetString(*m, d->FindFieldByName("nonce"));
        const pb::FieldDescriptor* resources = d->FindFieldByName("resources");
        for (int i = 0; i < r->FieldSize(*m, resources); ++i) {
            const pb::Message& any = r->GetRepeatedMessage(*m, resources, i);
            const pb::Descriptor* ad = any.GetDescriptor();
            const std::string url =
                any.GetReflection()->GetString(any, ad->FindFieldByName("type_url"));
            const pb::Descriptor* rt = api_.find_type_url(url);
            if (rt == nullptr) {
                throw std::runtime_error("resource of unknown type " + url);
            }
            auto msg = api_.new_message(rt);
            if (!msg->ParseFromString(
                    any.GetReflection()->GetString(any, ad->FindFieldByName("value")))) {
                throw std::runtime_error("resource does not parse as " + url);
            }
            const pb::FieldDescriptor* name = rt->FindFieldByName("name");
            if (name == nullptr) {
                name = rt->FindFieldByName("cluster_name");
            }
            out.names.push_back(msg->GetReflection()->GetString(*msg, name));
            out.messages.push_back(std::move(msg));
        }
        return out;
    }

private:
    [[nodiscard]] const pb::Descriptor* type(const char* name) const {
        const pb::Descriptor* t = api_.find_message(name);
        if (t == nullptr) {
            throw std::runtime_error(std::string("Envoy's API lacks ") + name);
        }
        return t;
    }
    const envoy::Api& api_;
};

// One bidirectional stream of raw messages.
class RawStream {
public:
    RawStream(const std::shared_ptr<grpc::Channel>& channel, const std::string& method)
        : stub_(channel) {
        call_ = stub_.PrepareCall(&context_, method, &cq_);
        call_->StartCall(tag(kStart));
        started_ = wait(kStart, std::chrono::seconds(10));
    }
    ~RawStream() {
        context_.TryCancel();
        // Drain whatever is outstanding so the queue can shut down.
        if (read_pending_) {
            wait(kRead, std::chrono::seconds(10));
        }
        if (write_pending_) {
            wait(kWrite, std::chrono::seconds(10));
        }
        if (started_ && !finished_) {
            call_->Finish(&status_, tag(kFinish));
            wait(kFinish, std::chrono::seconds(10));
        }
        cq_.Shutdown();
        void* t = nullptr;
        bool ok = false;
        while (cq_.Next(&t, &ok)) {
        }
    }
    RawStream(const RawStream&) = delete;
    RawStream& operator=(const RawStream&) = delete;
    RawStream(RawStream&&) = delete;
    RawStream& operator=(RawStream&&) = delete;

    [[nodiscard]] bool started() const { return started_; }

    // False when the stream is broken or the write did not complete in time
    // (then it stays pending: a peer that does not read).
    bool send(const std::string& bytes,
              std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) {
        if (write_pending_ && !wait(kWrite, timeout)) {
            return false;
        }
        grpc::Slice slice(bytes);
        write_buf_ = grpc::ByteBuffer(&slice, 1);
        call_->Write(write_buf_, tag(kWrite));
        write_pending_ = true;
        if (!wait(kWrite, timeout)) {
            return false;
        }
        write_pending_ = false;
        return last_ok_;
    }

    // The next message, or nullopt when none came in time or the stream ended.
    std::optional<std::string> read(std::chrono::milliseconds timeout) {
        if (ended_) {
            return std::nullopt;
        }
        if (!read_pending_) {
            call_->Read(&read_buf_, tag(kRead));
            read_pending_ = true;
        }
        if (!wait(kRead, timeout)) {
            return std::nullopt;
        }
        read_pending_ = false;
        if (!last_ok_) {
            ended_ = true;
            return std::nullopt;
        }
        std::vector<grpc::Slice> slices;
        std::string out;
        if (read_buf_.Dump(&slices).ok()) {
            for (const auto& s : slices) {
                out.append(reinterpret_cast<const char*>(s.begin()), s.size());
            }
        }
        return out;
    }

    // After the server ended the stream: its status.
    grpc::Status finish(std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) {
        if (read_pending_) {
            wait(kRead, timeout);
            read_pending_ = false;
        }
        call_->Finish(&status_, tag(kFinish));
        finished_ = wait(kFinish, timeout);
        return status_;
    }

    [[nodiscard]] bool ended() const { return ended_; }

private:
    enum Tag : std::intptr_t { kStart = 1, kWrite = 2, kRead = 3, kFinish = 4 };
    static void* tag(Tag t) { return reinterpret_cast<void*>(static_cast<std::intptr_t>(t)); }

    // Waits until `t` completes; completions of other tags are kept.
    bool wait(Tag t, std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::system_clock::now() + timeout;
        for (;;) {
            if (const auto it = done_.find(t); it != done_.end()) {
                last_ok_ = it->second;
                done_.erase(it);
                return true;
            }
            void* got = nullptr;
            bool ok = false;
            const auto status = cq_.AsyncNext(&got, &ok, deadline);
            if (status != grpc::CompletionQueue::GOT_EVENT) {
                return false;
            }
            done_[static_cast<Tag>(reinterpret_cast<std::intptr_t>(got))] = ok;
        }
    }

    grpc::GenericStub stub_;
    grpc::ClientContext context_;
    grpc::CompletionQueue cq_;
    std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call_;
    grpc::ByteBuffer write_buf_;
    grpc::ByteBuffer read_buf_;
    grpc::Status status_;
    std::map<Tag, bool> done_;
    bool last_ok_ = false;
    bool started_ = false;
    bool read_pending_ = false;
    bool write_pending_ = false;
    bool ended_ = false;
    bool finished_ = false;
};

// A state-of-the-world xDS client on one stream.
class SotwClient {
public:
    SotwClient(const std::shared_ptr<grpc::Channel>& channel, const Messages& messages,
               const std::string& method = kAdsMethod)
        : stream_(channel, method), messages_(messages) {}

    bool send(const SotwRequestSpec& spec) { return stream_.send(messages_.request(spec)); }
    std::optional<SotwResponse> receive(
        std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) {
        auto bytes = stream_.read(timeout);
        if (!bytes) {
            return std::nullopt;
        }
        return messages_.response(*bytes);
    }
    // ACKs a response, keeping the same names.
    bool ack(const SotwResponse& r, const std::vector<std::string>& names) {
        return send({r.type_url, names, r.version, r.nonce});
    }
    RawStream& raw() { return stream_; }

private:
    RawStream stream_;
    const Messages& messages_;
};

inline constexpr const char* kDeltaAdsMethod =
    "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources";

// A Delta xDS client on one stream.
class DeltaClient {
public:
    DeltaClient(const std::shared_ptr<grpc::Channel>& channel, const Messages& messages,
                const std::string& method = kDeltaAdsMethod)
        : stream_(channel, method), messages_(messages) {}

    bool send(const DeltaRequestSpec& spec) { return stream_.send(messages_.delta_request(spec)); }
    std::optional<DeltaResponse> receive(
        std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) {
        auto bytes = stream_.read(timeout);
        if (!bytes) {
            return std::nullopt;
        }
        return messages_.delta_response(*bytes);
    }
    bool ack(const DeltaResponse& r) { return send({r.type_url, {}, {}, {}, r.nonce, {}}); }

private:
    RawStream stream_;
    const Messages& messages_;
};

// One unary call of `method` (a Fetch*): its status, and the response's bytes when it is OK.
struct UnaryResult {
    grpc::Status status;
    std::string response;
};

// On the wire a unary call is a stream of one message each way.
inline UnaryResult unary_call(const std::shared_ptr<grpc::Channel>& channel,
                              const std::string& method, const std::string& request) {
    RawStream stream(channel, method);
    UnaryResult out;
    if (stream.send(request)) {
        if (auto response = stream.read(std::chrono::milliseconds(10000))) {
            out.response = std::move(*response);
        }
    }
    out.status = stream.finish();
    return out;
}

inline std::shared_ptr<grpc::Channel> channel_to(int port) {
    grpc::ChannelArguments args;
    // A fresh connection per channel, so tests do not share one subchannel.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port),
                                     grpc::InsecureChannelCredentials(), args);
}

}  // namespace crossover::xds_server::test
