// Discovery requests from the network, on the path the xds_server sink takes:
// the first byte picks state of the world or Delta, the rest is the request
// as it arrives in a gRPC frame. A request that parses goes through a
// stream's protocol twice (the second time answering the response it got),
// and every response due must name only resources of the set served.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "crossover/status.h"
#include "crossover_envoy/api.h"
#include "delta_protocol.h"
#include "discovery_codec.h"
#include "resources.h"
#include "sotw_protocol.h"

using namespace crossover::xds_server;

namespace {

struct Fixture {
    std::unique_ptr<crossover::envoy::Api> api;
    std::unique_ptr<DiscoveryCodec> codec;
    std::unique_ptr<ResourceSet> set;
};

ResourcePtr make(std::string_view type, const std::string& name) {
    auto r = std::make_shared<Resource>();
    r->name = name;
    r->type_url = std::string(type);
    r->value = name;
    r->version = content_version(name);
    return r;
}

const Fixture& fixture() {
    static const Fixture f = [] {
        Fixture out;
        if (crossover::envoy::api_present(CROSSOVER_FUZZ_ENVOY_PROTOS)) {
            out.api = std::make_unique<crossover::envoy::Api>(CROSSOVER_FUZZ_ENVOY_PROTOS);
            out.codec = std::make_unique<DiscoveryCodec>(out.api->pool());
        }
        out.set = std::make_unique<ResourceSet>(std::vector<ResourcePtr>{
            make(kClusterType, "a"), make(kClusterType, "b"), make(kRouteType, "r"),
            make(kListenerType, "l"), make(kEndpointType, "a")});
        return out;
    }();
    return f;
}

void check(const ResourceSet& set, const std::string& type_url,
           const std::vector<ResourcePtr>& sent) {
    for (const auto& r : sent) {
        if (r->type_url != type_url || set.type(type_url).by_name.count(r->name) == 0) {
            std::abort();
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const Fixture& f = fixture();
    if (!f.codec || size == 0) {
        return 0;
    }
    const bool delta = (data[0] & 1U) != 0;
    const std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
    Request request;
    try {
        request = delta ? f.codec->parse_delta_request(bytes) : f.codec->parse_sotw_request(bytes);
    } catch (const crossover::Error&) {
        return 0;  // the server ends such a stream
    }
    if (!served_type(request.type_url)) {
        return 0;  // the server ignores it
    }
    if (delta) {
        DeltaProtocol p;
        p.on_request(request);
        while (auto due = p.next(*f.set)) {
            check(*f.set, due->type_url, due->changed);
            request.response_nonce = due->nonce;
        }
        p.on_request(request);
        while (auto due = p.next(*f.set)) {
            check(*f.set, due->type_url, due->changed);
        }
    } else {
        SotwProtocol p;
        p.on_request(request);
        while (auto due = p.next(*f.set)) {
            check(*f.set, due->type_url, due->selected);
            request.response_nonce = due->nonce;
        }
        p.on_request(request);
        while (auto due = p.next(*f.set)) {
            check(*f.set, due->type_url, due->selected);
        }
    }
    return 0;
}
