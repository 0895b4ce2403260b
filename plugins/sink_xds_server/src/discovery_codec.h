// Reads and writes the xDS envelope messages (DiscoveryRequest,
// DiscoveryResponse and their Delta forms) on the wire.
//
// Requests are few (one per response) and are parsed as dynamic messages of
// Envoy's own descriptors. Responses are many (one per stream per change) and
// mostly the same bytes for every stream, so they are written field by field
// with the field numbers taken from the same descriptors: the resources'
// entries are encoded once per resource and shared, only the nonce differs.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "resources.h"

namespace google::protobuf {
class Descriptor;
class DescriptorPool;
class DynamicMessageFactory;
}  // namespace google::protobuf

namespace crossover::xds_server {

struct NodeInfo {
    std::string id;
    std::string cluster;
};

// What the server reads from a DiscoveryRequest or a DeltaDiscoveryRequest.
struct Request {
    bool has_node = false;
    NodeInfo node;
    std::string type_url;
    std::string response_nonce;
    bool has_error = false;  // error_detail set: a NACK
    std::int32_t error_code = 0;
    std::string error_message;
    // State of the world.
    std::string version_info;
    std::vector<std::string> resource_names;
    // Delta.
    std::vector<std::string> subscribe;
    std::vector<std::string> unsubscribe;
    std::map<std::string, std::string> initial_versions;
};

// A response ready to send: `head` (everything but the resources) followed
// by the body's pieces in order, which are shared with the ResourceSet.
struct EncodedResponse {
    std::string head;
    std::vector<std::shared_ptr<const std::string>> body;
    [[nodiscard]] std::size_t size() const;
    [[nodiscard]] std::string flatten() const;
};

class DiscoveryCodec {
public:
    // Throws crossover::Error when the pool lacks the discovery messages.
    explicit DiscoveryCodec(const google::protobuf::DescriptorPool& pool);
    ~DiscoveryCodec();
    DiscoveryCodec(const DiscoveryCodec&) = delete;
    DiscoveryCodec& operator=(const DiscoveryCodec&) = delete;
    DiscoveryCodec(DiscoveryCodec&&) = delete;
    DiscoveryCodec& operator=(DiscoveryCodec&&) = delete;

    // Parse a request; throws crossover::Error saying what is wrong.
    [[nodiscard]] Request parse_sotw_request(const std::string& bytes) const;
    [[nodiscard]] Request parse_delta_request(const std::string& bytes) const;

    // Fills `version` and `sotw_entry` of a resource whose name, type URL and
    // value are set.
    void seal(Resource& resource) const;

    // A state-of-the-world response. `all` sends every resource of the type
    // (sharing its prebuilt body); otherwise `selected` are sent.
    [[nodiscard]] EncodedResponse sotw_response(const ResourceSetPtr& set,
                                                const TypeResources& type,
                                                const std::string& type_url, bool all,
                                                const std::vector<ResourcePtr>& selected,
                                                const std::string& nonce) const;

    // A delta response: `changed` as Resource entries, `removed` by name.
    [[nodiscard]] std::string delta_response(const std::string& type_url,
                                             const std::string& system_version,
                                             const std::vector<ResourcePtr>& changed,
                                             const std::vector<std::string>& removed,
                                             const std::string& nonce) const;

    // The request message descriptors, for the REST gateway's JSON mapping.
    [[nodiscard]] const google::protobuf::Descriptor* sotw_request_type() const;
    [[nodiscard]] const google::protobuf::Descriptor* sotw_response_type() const;

private:
    struct Fields;
    std::unique_ptr<Fields> f_;
    std::unique_ptr<google::protobuf::DynamicMessageFactory> factory_;
};

}  // namespace crossover::xds_server
