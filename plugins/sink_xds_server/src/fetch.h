// One request, one answer: the state-of-the-world response the REST gateway
// and the gRPC Fetch* methods serve, from the same selection rules as a
// stream's first response (every resource of a wildcard type unless names
// are given, "*" for all of them, names that do not exist left out).
#pragma once

#include <string>

#include "discovery_codec.h"
#include "resources.h"

namespace crossover::xds_server {

// The response to `request` for `type_url` from `set` (not null), without a nonce.
[[nodiscard]] EncodedResponse fetch_response(const DiscoveryCodec& codec, const ResourceSetPtr& set,
                                             const std::string& type_url, const Request& request);

}  // namespace crossover::xds_server
