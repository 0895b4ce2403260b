// Envoy's xDS resource types by type URL. The table itself lives in
// crossover_envoy/xds.h (header-only, which plugins without protobuf use too); this header
// adds what needs the protobuf API: the message and the field that names a
// resource.
#pragma once

#include <string>
#include <string_view>

#include "crossover_envoy/xds.h"

namespace crossover::envoy {

using xds::ResourceKind;
using xds::type_info;  // type URL or name -> {kind, v2}
using xds::type_name;  // "type.googleapis.com/X" -> "X"
using xds::type_url;   // kind -> "type.googleapis.com/envoy.config...."

using xds::kTypeUrlPrefix;

// The field that holds a resource's name: `cluster_name` for a
// ClusterLoadAssignment, `name` for every other kind.
inline const char* name_field(ResourceKind kind) noexcept {
    return kind == ResourceKind::ClusterLoadAssignment ? "cluster_name" : "name";
}

// "type.googleapis.com/" + full_name.
inline std::string type_url_of(std::string_view full_name) {
    return std::string(kTypeUrlPrefix) + std::string(full_name);
}

// google.protobuf.*Value: written in YAML and JSON as the bare value.
inline bool is_wrapper(std::string_view full_name) noexcept {
    return full_name == "google.protobuf.DoubleValue" ||
           full_name == "google.protobuf.FloatValue" || full_name == "google.protobuf.Int64Value" ||
           full_name == "google.protobuf.UInt64Value" ||
           full_name == "google.protobuf.Int32Value" ||
           full_name == "google.protobuf.UInt32Value" || full_name == "google.protobuf.BoolValue" ||
           full_name == "google.protobuf.StringValue" || full_name == "google.protobuf.BytesValue";
}

}  // namespace crossover::envoy
