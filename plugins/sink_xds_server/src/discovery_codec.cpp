#include "discovery_codec.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/message.h>
#include <google/protobuf/wire_format_lite.h>

#include <cstdint>
#include <memory>
#include <utility>

#include "crossover/status.h"

namespace crossover::xds_server {

namespace pb = google::protobuf;

namespace {

const pb::Descriptor* message(const pb::DescriptorPool& pool, const std::string& name) {
    const pb::Descriptor* d = pool.FindMessageTypeByName(name);
    if (d == nullptr) {
        throw Error("Envoy's API lacks message " + name);
    }
    return d;
}

const pb::FieldDescriptor* field(const pb::Descriptor* d, const std::string& name) {
    const pb::FieldDescriptor* f = d->FindFieldByName(name);
    if (f == nullptr) {
        throw Error("Envoy's API lacks field " + d->full_name() + "." + name);
    }
    return f;
}

// Appends one length-delimited field (a string, bytes or message) to `out`.
void put_field(std::string& out, int number, std::string_view value) {
    std::uint8_t buf[16];
    std::uint8_t* p = pb::io::CodedOutputStream::WriteTagToArray(
        pb::internal::WireFormatLite::MakeTag(
            number, pb::internal::WireFormatLite::WIRETYPE_LENGTH_DELIMITED),
        buf);
    p = pb::io::CodedOutputStream::WriteVarint32ToArray(static_cast<std::uint32_t>(value.size()),
                                                        p);
    out.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(p - buf));
    out.append(value);
}

std::vector<std::string> strings(const pb::Message& m, const pb::FieldDescriptor* f) {
    const pb::Reflection* r = m.GetReflection();
    std::vector<std::string> out;
    const int n = r->FieldSize(m, f);
    out.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        out.push_back(r->GetRepeatedString(m, f, i));
    }
    return out;
}

}  // namespace

// Descriptors and field numbers, looked up once.
struct DiscoveryCodec::Fields {
    const pb::Descriptor* request = nullptr;
    const pb::Descriptor* response = nullptr;
    const pb::Descriptor* delta_request = nullptr;
    // DiscoveryRequest
    const pb::FieldDescriptor* rq_version = nullptr;
    const pb::FieldDescriptor* rq_node = nullptr;
    const pb::FieldDescriptor* rq_names = nullptr;
    const pb::FieldDescriptor* rq_type = nullptr;
    const pb::FieldDescriptor* rq_nonce = nullptr;
    const pb::FieldDescriptor* rq_error = nullptr;
    // DeltaDiscoveryRequest
    const pb::FieldDescriptor* dq_node = nullptr;
    const pb::FieldDescriptor* dq_type = nullptr;
    const pb::FieldDescriptor* dq_subscribe = nullptr;
    const pb::FieldDescriptor* dq_unsubscribe = nullptr;
    const pb::FieldDescriptor* dq_initial = nullptr;
    const pb::FieldDescriptor* dq_nonce = nullptr;
    const pb::FieldDescriptor* dq_error = nullptr;
    // config.core.v3.Node, google.rpc.Status, map entries
    const pb::FieldDescriptor* node_id = nullptr;
    const pb::FieldDescriptor* node_cluster = nullptr;
    const pb::FieldDescriptor* status_code = nullptr;
    const pb::FieldDescriptor* status_message = nullptr;
    const pb::FieldDescriptor* entry_key = nullptr;
    const pb::FieldDescriptor* entry_value = nullptr;
    // Numbers of the response fields.
    int rs_version = 0;
    int rs_resources = 0;
    int rs_type = 0;
    int rs_nonce = 0;
    int any_type = 0;
    int any_value = 0;
    int ds_system_version = 0;
    int ds_resources = 0;
    int ds_type = 0;
    int ds_removed = 0;
    int ds_nonce = 0;
    int res_name = 0;
    int res_version = 0;
    int res_resource = 0;
};

std::size_t EncodedResponse::size() const {
    std::size_t n = head.size();
    for (const auto& p : body) {
        n += p->size();
    }
    return n;
}

std::string EncodedResponse::flatten() const {
    std::string out;
    out.reserve(size());
    out += head;
    for (const auto& p : body) {
        out += *p;
    }
    return out;
}

DiscoveryCodec::DiscoveryCodec(const pb::DescriptorPool& pool)
    : f_(std::make_unique<Fields>()), factory_(std::make_unique<pb::DynamicMessageFactory>(&pool)) {
    const std::string ns = "envoy.service.discovery.v3.";
    Fields& f = *f_;
    f.request = message(pool, ns + "DiscoveryRequest");
    f.response = message(pool, ns + "DiscoveryResponse");
    f.delta_request = message(pool, ns + "DeltaDiscoveryRequest");
    const pb::Descriptor* delta_response = message(pool, ns + "DeltaDiscoveryResponse");
    const pb::Descriptor* resource = message(pool, ns + "Resource");
    const pb::Descriptor* any = message(pool, "google.protobuf.Any");

    f.rq_version = field(f.request, "version_info");
    f.rq_node = field(f.request, "node");
    f.rq_names = field(f.request, "resource_names");
    f.rq_type = field(f.request, "type_url");
    f.rq_nonce = field(f.request, "response_nonce");
    f.rq_error = field(f.request, "error_detail");
    f.dq_node = field(f.delta_request, "node");
    f.dq_type = field(f.delta_request, "type_url");
    f.dq_subscribe = field(f.delta_request, "resource_names_subscribe");
    f.dq_unsubscribe = field(f.delta_request, "resource_names_unsubscribe");
    f.dq_initial = field(f.delta_request, "initial_resource_versions");
    f.dq_nonce = field(f.delta_request, "response_nonce");
    f.dq_error = field(f.delta_request, "error_detail");
    f.node_id = field(f.rq_node->message_type(), "id");
    f.node_cluster = field(f.rq_node->message_type(), "cluster");
    f.status_code = field(f.rq_error->message_type(), "code");
    f.status_message = field(f.rq_error->message_type(), "message");
    f.entry_key = field(f.dq_initial->message_type(), "key");
    f.entry_value = field(f.dq_initial->message_type(), "value");

    f.rs_version = field(f.response, "version_info")->number();
    f.rs_resources = field(f.response, "resources")->number();
    f.rs_type = field(f.response, "type_url")->number();
    f.rs_nonce = field(f.response, "nonce")->number();
    f.any_type = field(any, "type_url")->number();
    f.any_value = field(any, "value")->number();
    f.ds_system_version = field(delta_response, "system_version_info")->number();
    f.ds_resources = field(delta_response, "resources")->number();
    f.ds_type = field(delta_response, "type_url")->number();
    f.ds_removed = field(delta_response, "removed_resources")->number();
    f.ds_nonce = field(delta_response, "nonce")->number();
    f.res_name = field(resource, "name")->number();
    f.res_version = field(resource, "version")->number();
    f.res_resource = field(resource, "resource")->number();
}

DiscoveryCodec::~DiscoveryCodec() = default;

namespace {

// Reads node and error_detail, common to both request forms.
void read_common(const pb::Message& m, const pb::FieldDescriptor* node_f,
                 const pb::FieldDescriptor* error_f, const pb::FieldDescriptor* id_f,
                 const pb::FieldDescriptor* cluster_f, const pb::FieldDescriptor* code_f,
                 const pb::FieldDescriptor* message_f, Request& out) {
    const pb::Reflection* r = m.GetReflection();
    if (r->HasField(m, node_f)) {
        const pb::Message& node = r->GetMessage(m, node_f);
        out.has_node = true;
        out.node.id = node.GetReflection()->GetString(node, id_f);
        out.node.cluster = node.GetReflection()->GetString(node, cluster_f);
    }
    if (r->HasField(m, error_f)) {
        const pb::Message& status = r->GetMessage(m, error_f);
        out.has_error = true;
        out.error_code = status.GetReflection()->GetInt32(status, code_f);
        out.error_message = status.GetReflection()->GetString(status, message_f);
    }
}

// `bytes` read as a message of the prototype's type; an Error naming the type
// when they do not parse.
std::unique_ptr<pb::Message> parse_message(const pb::Message& prototype, const std::string& bytes) {
    std::unique_ptr<pb::Message> m(prototype.New());
    if (!m->ParseFromString(bytes)) {
        throw Error("not a " + prototype.GetDescriptor()->name() + " (" +
                    std::to_string(bytes.size()) + " bytes that do not parse)");
    }
    return m;
}

}  // namespace

Request DiscoveryCodec::parse_sotw_request(const std::string& bytes) const {
    const Fields& f = *f_;
    const auto m = parse_message(*factory_->GetPrototype(f.request), bytes);
    const pb::Reflection* r = m->GetReflection();
    Request out;
    read_common(*m, f.rq_node, f.rq_error, f.node_id, f.node_cluster, f.status_code,
                f.status_message, out);
    out.version_info = r->GetString(*m, f.rq_version);
    out.type_url = r->GetString(*m, f.rq_type);
    out.response_nonce = r->GetString(*m, f.rq_nonce);
    out.resource_names = strings(*m, f.rq_names);
    return out;
}

Request DiscoveryCodec::parse_delta_request(const std::string& bytes) const {
    const Fields& f = *f_;
    const auto m = parse_message(*factory_->GetPrototype(f.delta_request), bytes);
    const pb::Reflection* r = m->GetReflection();
    Request out;
    read_common(*m, f.dq_node, f.dq_error, f.node_id, f.node_cluster, f.status_code,
                f.status_message, out);
    out.type_url = r->GetString(*m, f.dq_type);
    out.response_nonce = r->GetString(*m, f.dq_nonce);
    out.subscribe = strings(*m, f.dq_subscribe);
    out.unsubscribe = strings(*m, f.dq_unsubscribe);
    const int n = r->FieldSize(*m, f.dq_initial);
    for (int i = 0; i < n; ++i) {
        const pb::Message& e = r->GetRepeatedMessage(*m, f.dq_initial, i);
        out.initial_versions[e.GetReflection()->GetString(e, f.entry_key)] =
            e.GetReflection()->GetString(e, f.entry_value);
    }
    return out;
}

void DiscoveryCodec::seal(Resource& resource) const {
    resource.version = content_version(resource.value);
    std::string any;
    put_field(any, f_->any_type, resource.type_url);
    put_field(any, f_->any_value, resource.value);
    resource.sotw_entry.clear();
    put_field(resource.sotw_entry, f_->rs_resources, any);
}

EncodedResponse DiscoveryCodec::sotw_response(const ResourceSetPtr& set, const TypeResources& type,
                                              const std::string& type_url, bool all,
                                              const std::vector<ResourcePtr>& selected,
                                              const std::string& nonce) const {
    EncodedResponse out;
    put_field(out.head, f_->rs_version, type.version);
    put_field(out.head, f_->rs_type, type_url);
    put_field(out.head, f_->rs_nonce, nonce);
    if (all) {
        if (!type.all_entries.empty()) {
            // Keeps the whole set alive while the body is in flight.
            out.body.emplace_back(set, &type.all_entries);
        }
        return out;
    }
    for (const auto& r : selected) {
        out.body.emplace_back(r, &r->sotw_entry);
    }
    return out;
}

std::string DiscoveryCodec::delta_response(const std::string& type_url,
                                           const std::string& system_version,
                                           const std::vector<ResourcePtr>& changed,
                                           const std::vector<std::string>& removed,
                                           const std::string& nonce) const {
    const Fields& f = *f_;
    std::string out;
    put_field(out, f.ds_system_version, system_version);
    put_field(out, f.ds_type, type_url);
    put_field(out, f.ds_nonce, nonce);
    for (const auto& name : removed) {
        put_field(out, f.ds_removed, name);
    }
    std::string entry;
    std::string any;
    for (const auto& r : changed) {
        any.clear();
        put_field(any, f.any_type, r->type_url);
        put_field(any, f.any_value, r->value);
        entry.clear();
        put_field(entry, f.res_name, r->name);
        put_field(entry, f.res_version, r->version);
        put_field(entry, f.res_resource, any);
        put_field(out, f.ds_resources, entry);
    }
    return out;
}

const pb::Descriptor* DiscoveryCodec::sotw_request_type() const {
    return f_->request;
}
const pb::Descriptor* DiscoveryCodec::sotw_response_type() const {
    return f_->response;
}

}  // namespace crossover::xds_server
