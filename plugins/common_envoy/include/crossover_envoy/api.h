// Envoy's v3 API as protobuf descriptors, for plugins that read or check
// xDS resources (envoy_validate, the xDS server sink).
//
// The build compiles Envoy's .proto files once into a FileDescriptorSet
// (packaging/envoy-descriptor-set.sh, `envoy-api.pb` beside the protos). An
// Api reads that file and indexes each encoded file by its name and the
// names it defines, without parsing it; a file is parsed and built only when
// a type it holds is first asked for, and its imports only when a type from
// them is used: resolving RouteConfiguration does not build the other 400
// files.
//
// Plugins are loaded RTLD_LOCAL, so each plugin linking this static library
// has its own libprotobuf state and its own Api; nothing is shared between
// plugins through it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor_database.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>

namespace crossover::envoy {

namespace pb = google::protobuf;

// The descriptor set's file name inside a protos directory.
inline constexpr const char* kDescriptorSetFile = "envoy-api.pb";

// Where the protos directory is looked for by default, in order: next to the
// installed (or built) plugin that links this library, then the build tree.
std::vector<std::string> default_api_candidates();
// The first default candidate that holds the API; empty when none does.
std::string default_api_dir();
// True when `dir` holds a VERSION file and the descriptor set.
bool api_present(const std::string& dir);

class Api {
public:
    // Reads DIR/envoy-api.pb and DIR/VERSION. Throws std::runtime_error
    // naming the file when it is missing or is not a FileDescriptorSet.
    explicit Api(std::string dir);
    ~Api();
    Api(const Api&) = delete;
    Api& operator=(const Api&) = delete;
    Api(Api&&) = delete;
    Api& operator=(Api&&) = delete;

    // A message type by full name ("envoy.config.route.v3.RouteConfiguration"),
    // built on first use; null when the API has no such message.
    [[nodiscard]] const pb::Descriptor* find_message(std::string_view full_name) const;
    // The same for a type URL ("type.googleapis.com/envoy.config...").
    [[nodiscard]] const pb::Descriptor* find_type_url(std::string_view type_url) const;

    // The pool every descriptor above comes from (extensions, enums, ...).
    [[nodiscard]] const pb::DescriptorPool& pool() const { return *pool_; }
    // Makes messages of this pool's types (dynamic messages).
    [[nodiscard]] pb::MessageFactory& factory() const { return *factory_; }
    // A new, empty message of `type` (which must come from pool()).
    [[nodiscard]] std::unique_ptr<pb::Message> new_message(const pb::Descriptor* type) const;

    // The protos directory and its VERSION (the @grpc/grpc-js-xds version).
    [[nodiscard]] const std::string& dir() const { return dir_; }
    [[nodiscard]] const std::string& version() const { return version_; }
    // How many files the descriptor set holds (none of them built yet).
    [[nodiscard]] std::size_t file_count() const { return file_count_; }

private:
    std::string dir_;
    std::string version_;
    std::string bytes_;  // the FileDescriptorSet; the database points into it
    std::size_t file_count_ = 0;
    std::unique_ptr<pb::DescriptorDatabase> database_;
    std::unique_ptr<pb::DescriptorPool> pool_;
    std::unique_ptr<pb::DynamicMessageFactory> factory_;
};

}  // namespace crossover::envoy
