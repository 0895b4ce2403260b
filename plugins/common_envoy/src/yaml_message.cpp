#include "crossover_envoy/yaml_message.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string_view>
#include <unordered_map>

#include <google/protobuf/duration.pb.h>
#include <google/protobuf/field_mask.pb.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/field_mask_util.h>
#include <google/protobuf/util/time_util.h>

#include "crossover/yaml_load.h"
#include "crossover_envoy/doc_tree_yaml.h"
#include "crossover_envoy/field_path.h"
#include "crossover_envoy/types.h"
#include "crossover_envoy/yaml_scalar.h"

namespace crossover::envoy {

namespace {

using FD = pb::FieldDescriptor;
using N = std::uint32_t;  // a node of an xds::DocTree

const std::string kAtType = "@type";
const std::string kValue = "value";

std::string range_text(long double v) {
    std::ostringstream os;
    os.precision(17);
    os << static_cast<double>(v);
    return os.str();
}

// A type of google/protobuf (the well-known types): Envoy's own types are
// told from them by their first byte, before any full comparison.
bool well_known(const std::string& n) {
    return std::string_view(n).starts_with("google.protobuf.");
}

// Well-known types whose JSON form is not an object of their fields.
bool special_json(const std::string& n) {
    return is_wrapper(n) || n == "google.protobuf.Duration" || n == "google.protobuf.Timestamp" ||
           n == "google.protobuf.FieldMask" || n == "google.protobuf.Struct" ||
           n == "google.protobuf.Value" || n == "google.protobuf.ListValue" ||
           n == "google.protobuf.Any";
}

// Standard or URL-safe base64, padded or not, as the JSON mapping accepts.
bool base64_decode(std::string_view in, std::string& out) {
    out.clear();
    std::uint32_t acc = 0;
    int bits = 0;
    std::size_t i = 0;
    for (; i < in.size(); ++i) {
        const char c = in[i];
        int v = -1;
        if (c >= 'A' && c <= 'Z') {
            v = c - 'A';
        } else if (c >= 'a' && c <= 'z') {
            v = c - 'a' + 26;
        } else if (c >= '0' && c <= '9') {
            v = c - '0' + 52;
        } else if (c == '+' || c == '-') {
            v = 62;
        } else if (c == '/' || c == '_') {
            v = 63;
        } else if (c == '=') {
            break;
        } else {
            return false;
        }
        acc = (acc << 6u) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> static_cast<unsigned>(bits)) & 0xffu);
        }
    }
    for (; i < in.size(); ++i) {
        if (in[i] != '=') {
            return false;
        }
    }
    return bits < 6;
}

bool parse_double(const std::string& text, double& out) {
    if (text == "NaN") {
        out = std::numeric_limits<double>::quiet_NaN();
        return true;
    }
    if (text == "Infinity") {
        out = std::numeric_limits<double>::infinity();
        return true;
    }
    if (text == "-Infinity") {
        out = -std::numeric_limits<double>::infinity();
        return true;
    }
    const char* begin = text.data();
    const char* end = begin + text.size();
    if (begin != end && *begin == '+') {
        ++begin;
    }
    auto res = std::from_chars(begin, end, out);
    return res.ec == std::errc() && res.ptr == end && begin != end;
}

}  // namespace

class YamlReader::Builder {
public:
    explicit Builder(const Api& api) : api_(api) {}
    const xds::DocTree* tree = nullptr;
    Problems* problems = nullptr;
    std::vector<IntegerSite>* sites = nullptr;
    AnyContents* any_contents = nullptr;
    const ItemStream* stream = nullptr;
    // While reading a google.protobuf.*Value: the field holding it.
    const FD* wrapper_field = nullptr;

    void message(N node, pb::Message& out, const FieldPath& path) {
        const pb::Descriptor* d = out.GetDescriptor();
        const std::string& name = d->full_name();
        if (!well_known(name)) {
            if (!tree->is_map(node)) {
                report(path, "expected a map (" + name + "), got " + node_kind(*tree, node));
                return;
            }
            fields(node, out, path, false);
            return;
        }
        if (name == "google.protobuf.Any") {
            any(node, out, path);
            return;
        }
        if (name == "google.protobuf.Duration" || name == "google.protobuf.Timestamp" ||
            name == "google.protobuf.FieldMask") {
            time_or_mask(node, out, path);
            return;
        }
        if (is_wrapper(name)) {
            value(node, out, d->FindFieldByName("value"), path);
            return;
        }
        if (name == "google.protobuf.Struct") {
            if (!tree->is_map(node)) {
                report(path, "expected a map (Struct), got " + node_kind(*tree, node));
                return;
            }
            generic(node, out);
            return;
        }
        if (name == "google.protobuf.ListValue") {
            if (!tree->is_seq(node)) {
                report(path, "expected a list, got " + node_kind(*tree, node));
                return;
            }
            generic(node, out);
            return;
        }
        if (name == "google.protobuf.Value") {
            generic(node, out);
            return;
        }
        if (!tree->is_map(node)) {
            report(path, "expected a map (" + name + "), got " + node_kind(*tree, node));
            return;
        }
        fields(node, out, path, false);
    }

    // The map's fields into `out`. `after_type` skips "@type".
    void fields(N node, pb::Message& out, const FieldPath& path, bool after_type) {
        const pb::Descriptor* d = out.GetDescriptor();
        // The oneofs set so far, and by whose key; few per message.
        std::vector<std::pair<const pb::OneofDescriptor*, std::string_view>> oneofs_set;
        // The fields set so far, by their index in the type: a bit for the
        // first 64 (nearly every type has fewer), a set beyond.
        std::uint64_t seen_first = 0;
        std::set<int> seen_beyond;
        const xds::DocTree& t = *tree;
        for (N k = node + 1, end = t[node].next; k < end; k = t[t[k].next].next) {
            const N v = t[k].next;
            if (!t.is_scalar(k)) {
                report(path, "a key is " + node_kind(t, k) + ", expected a field name");
                continue;
            }
            // A view of the tree's key: the tree outlives the read.
            const std::string_view key = t[k].value;
            if (after_type && key == "@type") {
                continue;
            }
            const FD* f = find_field(d, key);
            if (f == nullptr) {
                report(path, "unknown field " + quote(std::string(key)) + " in " + d->full_name());
                continue;
            }
            const int index = f->index();
            const bool again = index < 64 ? (seen_first & (std::uint64_t{1} << index)) != 0
                                          : !seen_beyond.insert(index).second;
            seen_first |= index < 64 ? std::uint64_t{1} << index : 0;
            if (again) {
                const std::string written(key);
                report(FieldPath::field(path, written),
                       "field " + quote(f->name()) + " given twice");
                continue;
            }
            const bool null = is_null(v);
            if (const pb::OneofDescriptor* o = f->real_containing_oneof(); o != nullptr && !null) {
                const auto it = std::find_if(oneofs_set.begin(), oneofs_set.end(),
                                             [&](const auto& entry) { return entry.first == o; });
                if (it == oneofs_set.end()) {
                    oneofs_set.emplace_back(o, key);
                } else {
                    report(path, "fields " + quote(std::string(it->second)) + " and " +
                                     quote(std::string(key)) +
                                     " are both set, but only one of oneof " + quote(o->name()) +
                                     " may be");
                    continue;
                }
            }
            field(v, out, f, FieldPath::field(path, f->name()));
        }
    }

private:
    void report(const FieldPath& path, const std::string& problem) {
        problems->add(path.str(), problem);
    }

    // A missing node (npos) or a null: both leave a field unset.
    [[nodiscard]] bool is_null(N node) const {
        return node == xds::DocTree::npos || (*tree)[node].kind == xds::DocKind::Null;
    }

    const FD* find_field(const pb::Descriptor* d, std::string_view key) {
        auto it = field_index_.find(d);
        if (it == field_index_.end()) {
            FieldIndex index;
            for (int i = 0; i < d->field_count(); ++i) {
                const FD* f = d->field(i);
                index.emplace(f->name(), f);
                index.emplace(f->json_name(), f);
            }
            it = field_index_.emplace(d, std::move(index)).first;
        }
        auto f = it->second.find(key);
        return f == it->second.end() ? nullptr : f->second;
    }

    void any(N node, pb::Message& out, const FieldPath& path) {
        if (!tree->is_map(node)) {
            report(path, "expected a map with \"@type\" (Any), got " + node_kind(*tree, node));
            return;
        }
        const xds::DocTree& t = *tree;
        const N type = t.find(node, {"@type"});
        if (!t.is_scalar(type)) {
            if (t[node].next != node + 1) {
                report(path, "missing \"@type\"");
            }
            return;
        }
        const std::string url(t[type].value);
        const std::size_t slash = url.rfind('/');
        if (slash == std::string::npos) {
            report(FieldPath::field(path, kAtType),
                   "type URL " + quote(url) + " has no '/' (expected type.googleapis.com/" + url +
                       ")");
            return;
        }
        const pb::Descriptor* d = api_.find_message(url.substr(slash + 1));
        if (d == nullptr) {
            report(FieldPath::field(path, kAtType),
                   "unknown type " + quote(url) + ": no such message in the Envoy API (v3)");
            return;
        }
        // On the Any's arena, if it has one.
        std::unique_ptr<pb::Message, DeleteUnlessOnArena> inner(
            api_.factory().GetPrototype(d)->New(out.GetArena()));
        if (special_json(d->full_name())) {
            for (N k = node + 1, end = t[node].next; k < end; k = t[t[k].next].next) {
                const std::string key(t.scalar(k));
                if (key != "@type" && key != "value") {
                    report(path, "unknown field " + quote(key) + " in Any holding " +
                                     d->full_name() + " (expected \"value\")");
                }
            }
            const N v = t.find(node, {"value"});
            if (!is_null(v)) {
                message(v, *inner, FieldPath::field(path, kValue));
            }
        } else {
            fields(node, *inner, path, true);
        }
        const pb::Descriptor* ad = out.GetDescriptor();
        const pb::Reflection* r = out.GetReflection();
        r->SetString(&out, ad->FindFieldByName("type_url"), url);
        if (any_contents != nullptr) {
            (*any_contents)[&out] = std::move(inner);
            return;
        }
        r->SetString(&out, ad->FindFieldByName("value"), inner->SerializeAsString());
    }

    void time_or_mask(N node, pb::Message& out, const FieldPath& path) {
        const pb::Descriptor* d = out.GetDescriptor();
        const std::string& name = d->full_name();
        const bool is_duration = name == "google.protobuf.Duration";
        if (!tree->is_scalar(node)) {
            report(path, "expected a " + d->name() + " string, got " + node_kind(*tree, node));
            return;
        }
        const Scalar s = classify(*tree, node);
        if (s.kind != ScalarKind::String) {
            report(path, "expected a " + d->name() + " string" +
                             (is_duration ? " such as \"15s\"" : "") + ", got " + describe(s));
            return;
        }
        // Whole seconds ("15s", the usual form) set directly: what
        // TimeUtil::FromString reads from them, without its round trip.
        if (is_duration && s.text.size() >= 2 && s.text.size() <= 12 && s.text.back() == 's' &&
            std::all_of(s.text.begin(), s.text.end() - 1,
                        [](char c) { return c >= '0' && c <= '9'; })) {
            std::int64_t seconds = 0;
            std::from_chars(s.text.data(), s.text.data() + s.text.size() - 1, seconds);
            out.GetReflection()->SetInt64(&out, d->FindFieldByName("seconds"), seconds);
            return;
        }
        std::string bytes;
        bool ok = false;
        if (is_duration) {
            pb::Duration v;
            ok = s.text.size() > 1 && s.text.back() == 's' &&
                 pb::util::TimeUtil::FromString(s.text, &v);
            bytes = v.SerializeAsString();
        } else if (name == "google.protobuf.Timestamp") {
            pb::Timestamp v;
            ok = pb::util::TimeUtil::FromString(s.text, &v);
            bytes = v.SerializeAsString();
        } else {
            pb::FieldMask v;
            ok = pb::util::FieldMaskUtil::FromJsonString(s.text, &v);
            bytes = v.SerializeAsString();
        }
        if (!ok) {
            report(path, "invalid " + d->name() + " " + quote(s.text) +
                             (is_duration ? " (expected seconds such as \"15s\")" : ""));
            return;
        }
        out.ParseFromString(bytes);
    }

    // Any YAML value, without a schema, into a Struct, ListValue or Value.
    void generic(N node, pb::Message& out) {
        const pb::Descriptor* d = out.GetDescriptor();
        const pb::Reflection* r = out.GetReflection();
        const std::string& name = d->full_name();
        if (name == "google.protobuf.Struct") {
            const FD* fields_field = d->FindFieldByName("fields");
            const FD* key_field = fields_field->message_type()->map_key();
            const FD* value_field = fields_field->message_type()->map_value();
            const xds::DocTree& t = *tree;
            for (N k = node + 1, end = t[node].next; k < end; k = t[t[k].next].next) {
                pb::Message* entry = r->AddMessage(&out, fields_field, &api_.factory());
                entry->GetReflection()->SetString(entry, key_field, std::string(t.scalar(k)));
                generic(t[k].next, *entry->GetReflection()->MutableMessage(entry, value_field,
                                                                           &api_.factory()));
            }
            return;
        }
        if (name == "google.protobuf.ListValue") {
            const FD* values = d->FindFieldByName("values");
            for (const N item : tree->children(node)) {
                generic(item, *r->AddMessage(&out, values, &api_.factory()));
            }
            return;
        }
        // google.protobuf.Value
        switch (node == xds::DocTree::npos ? xds::DocKind::Null : (*tree)[node].kind) {
            case xds::DocKind::Map:
                generic(node, *r->MutableMessage(&out, d->FindFieldByName("struct_value"),
                                                 &api_.factory()));
                return;
            case xds::DocKind::Sequence:
                generic(node, *r->MutableMessage(&out, d->FindFieldByName("list_value"),
                                                 &api_.factory()));
                return;
            case xds::DocKind::Scalar: break;
            default: r->SetEnumValue(&out, d->FindFieldByName("null_value"), 0); return;
        }
        const Scalar s = classify(*tree, node);
        switch (s.kind) {
            case ScalarKind::Null:
                r->SetEnumValue(&out, d->FindFieldByName("null_value"), 0);
                return;
            case ScalarKind::Bool:
                r->SetBool(&out, d->FindFieldByName("bool_value"), s.boolean);
                return;
            case ScalarKind::Int:
                // Envoy's YAML loader keeps integers beyond int32 as strings.
                if (s.integer >= std::numeric_limits<std::int32_t>::min() &&
                    s.integer <= std::numeric_limits<std::int32_t>::max()) {
                    r->SetDouble(&out, d->FindFieldByName("number_value"),
                                 static_cast<double>(s.integer));
                } else {
                    r->SetString(&out, d->FindFieldByName("string_value"),
                                 std::to_string(s.integer));
                }
                return;
            case ScalarKind::Double:
                if (std::isnan(s.real) || std::isinf(s.real)) {
                    r->SetString(&out, d->FindFieldByName("string_value"),
                                 std::isnan(s.real) ? "NaN"
                                 : s.real > 0       ? "Infinity"
                                                    : "-Infinity");
                } else {
                    r->SetDouble(&out, d->FindFieldByName("number_value"), s.real);
                }
                return;
            case ScalarKind::String:
                r->SetString(&out, d->FindFieldByName("string_value"), s.text);
                return;
        }
    }

    void field(N node, pb::Message& out, const FD* f, const FieldPath& path) {
        if (is_null(node)) {
            // null leaves a field unset, except a google.protobuf.Value,
            // which then holds null.
            if (!f->is_repeated() && f->cpp_type() == FD::CPPTYPE_MESSAGE &&
                f->message_type()->full_name() == "google.protobuf.Value") {
                generic(node, *out.GetReflection()->MutableMessage(&out, f, &api_.factory()));
            }
            return;
        }
        if (f->is_map()) {
            if (!tree->is_map(node)) {
                report(path, "expected a map, got " + node_kind(*tree, node));
                return;
            }
            const FD* key_field = f->message_type()->map_key();
            const FD* value_field = f->message_type()->map_value();
            const xds::DocTree& t = *tree;
            for (N k = node + 1, end = t[node].next; k < end; k = t[t[k].next].next) {
                const N v = t[k].next;
                if (!t.is_scalar(k)) {
                    report(path, "a map key is " + node_kind(t, k));
                    continue;
                }
                const std::string key(t[k].value);
                const FieldPath entry_path = FieldPath::entry(path, key);
                pb::Message* entry = out.GetReflection()->AddMessage(&out, f, &api_.factory());
                map_key(key, *entry, key_field, entry_path);
                if (!is_null(v)) {
                    value(v, *entry, value_field, entry_path);
                } else if (value_field->cpp_type() != FD::CPPTYPE_MESSAGE ||
                           value_field->message_type()->full_name() != "google.protobuf.Value") {
                    report(entry_path, "null is not a valid map value");
                } else {
                    generic(v, *entry->GetReflection()->MutableMessage(entry, value_field,
                                                                       &api_.factory()));
                }
            }
            return;
        }
        if (f->is_repeated()) {
            if (!tree->is_seq(node)) {
                report(path, "expected a list, got " + node_kind(*tree, node));
                return;
            }
            const bool streamed =
                stream != nullptr && f == stream->field && f->cpp_type() == FD::CPPTYPE_MESSAGE;
            int i = 0;
            for (const N item : tree->children(node)) {
                const int index = i++;
                const FieldPath item_path = FieldPath::item(path, index);
                if (streamed && !is_null(item)) {
                    pb::Message* sub = stream->next(out);
                    const FD* outer = wrapper_field;
                    const std::string& type = f->message_type()->full_name();
                    wrapper_field = well_known(type) && is_wrapper(type) ? f : nullptr;
                    message(item, *sub, item_path);
                    wrapper_field = outer;
                    stream->done(out, *sub, index, item_path);
                    continue;
                }
                if (is_null(item)) {
                    if (f->cpp_type() == FD::CPPTYPE_MESSAGE &&
                        f->message_type()->full_name() == "google.protobuf.Value") {
                        generic(item, *out.GetReflection()->AddMessage(&out, f, &api_.factory()));
                    } else {
                        report(item_path, "null is not a valid list item");
                    }
                    continue;
                }
                value(item, out, f, item_path);
            }
            return;
        }
        value(node, out, f, path);
    }

    // Remembers where a plain decimal integer of a singular field came from.
    void record_site(N node, const Scalar& s, const FD* f) {
        const FD* rule_field = wrapper_field != nullptr ? wrapper_field : f;
        if (sites == nullptr || s.kind != ScalarKind::Int || f->is_repeated() ||
            rule_field->is_repeated() || (*tree)[node].pos == SIZE_MAX || s.text.empty()) {
            return;
        }
        for (const char c : s.text) {
            if (c < '0' || c > '9') {
                return;
            }
        }
        sites->push_back({(*tree)[node].pos, s.text.size(), f, rule_field});
    }

    void map_key(const std::string& key, pb::Message& entry, const FD* f, const FieldPath& path) {
        const pb::Reflection* r = entry.GetReflection();
        switch (f->cpp_type()) {
            case FD::CPPTYPE_STRING: r->SetString(&entry, f, key); return;
            case FD::CPPTYPE_BOOL:
                if (key == "true" || key == "false") {
                    r->SetBool(&entry, f, key == "true");
                    return;
                }
                break;
            default: {
                const bool is_unsigned =
                    f->cpp_type() == FD::CPPTYPE_UINT32 || f->cpp_type() == FD::CPPTYPE_UINT64;
                long double v = 0;
                if (parse_integer_text(key, is_unsigned, v) && set_integer(entry, f, v, false)) {
                    return;
                }
                break;
            }
        }
        report(path, "invalid map key " + quote(key) + " for " + f->type_name());
    }

    // Sets (or, for a repeated field, adds) integer `v`; false when out of range.
    static bool set_integer(pb::Message& out, const FD* f, long double v, bool add) {
        const pb::Reflection* r = out.GetReflection();
        switch (f->cpp_type()) {
            case FD::CPPTYPE_INT32:
                if (v < std::numeric_limits<std::int32_t>::min() ||
                    v > std::numeric_limits<std::int32_t>::max()) {
                    return false;
                }
                add ? r->AddInt32(&out, f, static_cast<std::int32_t>(v))
                    : r->SetInt32(&out, f, static_cast<std::int32_t>(v));
                return true;
            case FD::CPPTYPE_UINT32:
                if (v < 0 || v > std::numeric_limits<std::uint32_t>::max()) {
                    return false;
                }
                add ? r->AddUInt32(&out, f, static_cast<std::uint32_t>(v))
                    : r->SetUInt32(&out, f, static_cast<std::uint32_t>(v));
                return true;
            case FD::CPPTYPE_INT64:
                if (v < static_cast<long double>(std::numeric_limits<std::int64_t>::min()) ||
                    v > static_cast<long double>(std::numeric_limits<std::int64_t>::max())) {
                    return false;
                }
                add ? r->AddInt64(&out, f, static_cast<std::int64_t>(v))
                    : r->SetInt64(&out, f, static_cast<std::int64_t>(v));
                return true;
            case FD::CPPTYPE_UINT64:
                if (v < 0 ||
                    v > static_cast<long double>(std::numeric_limits<std::uint64_t>::max())) {
                    return false;
                }
                add ? r->AddUInt64(&out, f, static_cast<std::uint64_t>(v))
                    : r->SetUInt64(&out, f, static_cast<std::uint64_t>(v));
                return true;
            default: return false;
        }
    }

    // One value of field `f`'s type, set in `out` (added when `f` is repeated).
    void value(N node, pb::Message& out, const FD* f, const FieldPath& path) {
        const pb::Reflection* r = out.GetReflection();
        const bool add = f->is_repeated();
        if (f->cpp_type() == FD::CPPTYPE_MESSAGE) {
            pb::Message* sub = add ? r->AddMessage(&out, f, &api_.factory())
                                   : r->MutableMessage(&out, f, &api_.factory());
            const FD* outer = wrapper_field;
            const std::string& type = f->message_type()->full_name();
            wrapper_field = well_known(type) && is_wrapper(type) ? f : nullptr;
            message(node, *sub, path);
            wrapper_field = outer;
            return;
        }
        if (is_null(node)) {
            return;
        }
        if (!tree->is_scalar(node)) {
            report(path, std::string("expected ") +
                             (f->cpp_type() == FD::CPPTYPE_STRING ? "a string"
                              : f->cpp_type() == FD::CPPTYPE_ENUM
                                  ? "an enum value of " + f->enum_type()->full_name()
                                  : std::string("a ") + f->type_name()) +
                             ", got " + node_kind(*tree, node));
            return;
        }
        const Scalar s = classify(*tree, node);
        switch (f->cpp_type()) {
            case FD::CPPTYPE_STRING: {
                if (s.kind != ScalarKind::String) {
                    report(path,
                           "expected a string, got " + describe(s) + ": Envoy reads it as a " +
                               (s.kind == ScalarKind::Bool ? "boolean" : "number") + "; quote it");
                    return;
                }
                std::string bytes;
                const std::string* v = &s.text;
                if (f->type() == FD::TYPE_BYTES) {
                    if (!base64_decode(s.text, bytes)) {
                        report(path, "expected base64 (bytes), got " + describe(s));
                        return;
                    }
                    v = &bytes;
                }
                add ? r->AddString(&out, f, *v) : r->SetString(&out, f, *v);
                return;
            }
            case FD::CPPTYPE_ENUM: {
                const pb::EnumDescriptor* e = f->enum_type();
                int number = 0;
                if (s.kind == ScalarKind::String) {
                    const pb::EnumValueDescriptor* ev = e->FindValueByName(s.text);
                    if (ev == nullptr) {
                        std::string names;
                        for (int i = 0; i < e->value_count() && i < 12; ++i) {
                            names += (i ? ", " : "") + e->value(i)->name();
                        }
                        if (e->value_count() > 12) {
                            names += ", ...";
                        }
                        report(path, "unknown enum value " + quote(s.text) + " for " +
                                         e->full_name() + " (one of " + names + ")");
                        return;
                    }
                    number = ev->number();
                } else if (s.kind == ScalarKind::Int &&
                           s.integer >= std::numeric_limits<std::int32_t>::min() &&
                           s.integer <= std::numeric_limits<std::int32_t>::max()) {
                    number = static_cast<int>(s.integer);
                } else {
                    report(path, s.kind == ScalarKind::Int
                                     ? "enum number " + s.text + " is out of range"
                                     : "expected an enum value name of " + e->full_name() +
                                           ", got " + describe(s));
                    return;
                }
                add ? r->AddEnumValue(&out, f, number) : r->SetEnumValue(&out, f, number);
                return;
            }
            case FD::CPPTYPE_BOOL:
                if (s.kind != ScalarKind::Bool) {
                    report(path, "expected true or false, got " + describe(s));
                    return;
                }
                add ? r->AddBool(&out, f, s.boolean) : r->SetBool(&out, f, s.boolean);
                return;
            case FD::CPPTYPE_FLOAT:
            case FD::CPPTYPE_DOUBLE: {
                double v = 0;
                bool ok = true;
                switch (s.kind) {
                    case ScalarKind::Int: v = static_cast<double>(s.integer); break;
                    case ScalarKind::Double: v = s.real; break;
                    case ScalarKind::String: ok = parse_double(s.text, v); break;
                    default: ok = false; break;
                }
                if (!ok) {
                    report(path, std::string("expected a number (") + f->type_name() + "), got " +
                                     describe(s));
                    return;
                }
                if (f->cpp_type() == FD::CPPTYPE_FLOAT) {
                    if (std::isfinite(v) &&
                        std::fabs(v) > static_cast<double>(std::numeric_limits<float>::max())) {
                        report(path, "value " + s.text + " is out of range for float");
                        return;
                    }
                    add ? r->AddFloat(&out, f, static_cast<float>(v))
                        : r->SetFloat(&out, f, static_cast<float>(v));
                } else {
                    add ? r->AddDouble(&out, f, v) : r->SetDouble(&out, f, v);
                }
                return;
            }
            default: break;
        }
        // Integers.
        const bool is_unsigned =
            f->cpp_type() == FD::CPPTYPE_UINT32 || f->cpp_type() == FD::CPPTYPE_UINT64;
        long double v = 0;
        bool ok = false;
        if (s.kind == ScalarKind::Int) {
            v = static_cast<long double>(s.integer);
            ok = true;
        } else if (s.kind == ScalarKind::String || s.kind == ScalarKind::Double) {
            ok = parse_integer_text(s.text, is_unsigned, v);
            if (!ok && s.kind == ScalarKind::Double && std::floor(s.real) == s.real) {
                v = static_cast<long double>(s.real);
                ok = true;
            }
        }
        if (!ok) {
            report(path,
                   std::string("expected an integer (") + f->type_name() + "), got " + describe(s));
            return;
        }
        if (set_integer(out, f, v, add)) {
            record_site(node, s, f);
        } else {
            long double lo = 0;
            long double hi = 0;
            switch (f->cpp_type()) {
                case FD::CPPTYPE_INT32:
                    lo = std::numeric_limits<std::int32_t>::min();
                    hi = std::numeric_limits<std::int32_t>::max();
                    break;
                case FD::CPPTYPE_UINT32: hi = std::numeric_limits<std::uint32_t>::max(); break;
                case FD::CPPTYPE_INT64:
                    lo = static_cast<long double>(std::numeric_limits<std::int64_t>::min());
                    hi = static_cast<long double>(std::numeric_limits<std::int64_t>::max());
                    break;
                default:
                    hi = static_cast<long double>(std::numeric_limits<std::uint64_t>::max());
                    break;
            }
            report(path, "value " + s.text + " is out of range for " + f->type_name() + " (" +
                             range_text(lo) + ".." + range_text(hi) + ")");
        }
    }

    const Api& api_;
    // A type's fields by name and JSON name, looked up by the tree's views.
    struct NameHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    using FieldIndex = std::unordered_map<std::string, const FD*, NameHash, std::equal_to<>>;
    std::unordered_map<const pb::Descriptor*, FieldIndex> field_index_;
};

YamlReader::YamlReader(const Api& api) : api_(api), builder_(std::make_unique<Builder>(api)) {}

YamlReader::~YamlReader() = default;

void YamlReader::record_integer_sites(std::vector<IntegerSite>* sites) {
    builder_->sites = sites;
}

void YamlReader::keep_any_contents(AnyContents* contents) {
    builder_->any_contents = contents;
}

void YamlReader::stream_items(const ItemStream* stream) {
    builder_->stream = stream;
}

bool YamlReader::read(const xds::DocTree& tree, std::uint32_t node, pb::Message& out,
                      const std::string& path, Problems& problems) {
    const std::size_t before = problems.total();
    builder_->tree = &tree;
    builder_->problems = &problems;
    builder_->wrapper_field = nullptr;
    if (node != xds::DocTree::npos && tree[node].kind != xds::DocKind::Null) {
        builder_->message(node, out, FieldPath::root(path));
    }
    return problems.total() == before;
}

bool YamlReader::read_fields(const xds::DocTree& tree, std::uint32_t map, pb::Message& out,
                             const std::string& path, Problems& problems) {
    const std::size_t before = problems.total();
    builder_->tree = &tree;
    builder_->problems = &problems;
    builder_->wrapper_field = nullptr;
    builder_->fields(map, out, FieldPath::root(path), true);
    return problems.total() == before;
}

xds::DocTree read_doc_tree(const std::string& text) {
    xds::ScanResult scanned = xds::scan_document(text);
    if (scanned.accepted) {
        return std::move(scanned.tree);
    }
    return xds::tree_from_yaml(load_yaml(text));
}

}  // namespace crossover::envoy
