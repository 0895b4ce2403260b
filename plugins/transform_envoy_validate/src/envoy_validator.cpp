#include "envoy_validator.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>
#include <yaml-cpp/yaml.h>

#include "crossover/yaml_load.h"
#include "crossover_envoy/api.h"
#include "crossover_envoy/types.h"
#include "crossover_envoy/yaml_message.h"
#include "crossover_envoy/yaml_scalar.h"
#include "integer_diff.h"

namespace crossover::envoy_validate {

namespace pb = google::protobuf;
namespace fs = std::filesystem;

namespace {

constexpr const char* kTypeUrlPrefix = "type.googleapis.com/";
constexpr const char* kV2Prefix = "envoy.api.v2.";
constexpr const char* kDiscoveryResponse = "envoy.service.discovery.v3.DiscoveryResponse";
constexpr const char* kBootstrap = "envoy.config.bootstrap.v3.Bootstrap";
constexpr const char* kCluster = "envoy.config.cluster.v3.Cluster";
constexpr const char* kRouteAction = "envoy.config.route.v3.RouteAction";
constexpr const char* kClusterWeight = "envoy.config.route.v3.WeightedCluster.ClusterWeight";

using crossover::envoy::is_wrapper;
using crossover::envoy::quote;

std::string join_path(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
}

std::string index_path(const std::string& path, std::size_t i) {
    return path + "[" + std::to_string(i) + "]";
}

// ---- protoc-gen-validate rules --------------------------------------------

struct Bounds {
    std::optional<long double> gt, gte, lt, lte, equal;
    [[nodiscard]] bool any() const { return gt || gte || lt || lte || equal; }
};

struct FieldRule {
    std::string kind;  // "string", "uint32", "message", ... for messages
    bool message_required = false;
    bool message_skip = false;
    // string / bytes
    std::optional<std::uint64_t> min_len, max_len, len, min_bytes, max_bytes;
    bool ignore_empty = false;
    // numbers (also wrapped in google.protobuf.*Value) and durations (ns)
    Bounds bounds;
    bool enum_defined_only = false;
    bool value_required = false;  // any/duration/timestamp required
    // repeated / map
    std::optional<std::uint64_t> min_items, max_items, min_pairs, max_pairs;
    std::shared_ptr<const FieldRule> items;
};

std::string bound_text(long double v, bool duration) {
    if (duration) {
        const long double seconds = v / 1e9L;
        std::ostringstream os;
        os << static_cast<double>(seconds) << 's';
        return os.str();
    }
    std::ostringstream os;
    os.precision(17);
    os << static_cast<double>(v);
    return os.str();
}

}  // namespace

// Named outside the anonymous namespace: referenced by dladdr below.
bool protos_present(const std::string& dir) {
    std::error_code ec;
    return !dir.empty() && fs::exists(fs::path(dir) / "VERSION", ec) &&
           fs::exists(fs::path(dir) / "envoy-api/envoy/config/route/v3/route.proto", ec);
}

std::vector<std::string> default_proto_candidates() {
    return crossover::envoy::default_api_candidates();
}

std::string default_proto_path() {
    for (const auto& candidate : default_proto_candidates()) {
        if (protos_present(candidate)) {
            return candidate;
        }
    }
    return {};
}

// One document's findings, kept between runs while its content is unchanged.
struct DocResult {
    std::vector<std::string> errors;  // "<path>: <problem>"
    bool v2 = false;
    bool checked = false;               // an xDS document or a bootstrap (not passed unchecked)
    std::vector<std::string> clusters;  // names of Cluster messages found
    std::vector<std::pair<std::string, std::string>> cluster_refs;  // (path, cluster)
    // Of a valid document: where its plain integers are and which fields
    // they set, by offset, so that a change of numbers only (a canary's
    // weights) is checked without reading the document again.
    std::vector<crossover::envoy::IntegerSite> numbers;
};

struct Validator::Impl {
    ValidatorOptions options;
    std::unique_ptr<crossover::envoy::Api> api;
    std::unique_ptr<crossover::envoy::YamlReader> reader;
    const pb::DescriptorPool* pool = nullptr;
    pb::MessageFactory* factory = nullptr;
    const pb::FieldDescriptor* rules_ext = nullptr;
    const pb::FieldDescriptor* oneof_required_ext = nullptr;
    const pb::FieldDescriptor* message_disabled_ext = nullptr;
    const pb::Descriptor* field_options_type = nullptr;
    const pb::Descriptor* oneof_options_type = nullptr;
    const pb::Descriptor* message_options_type = nullptr;
    std::unordered_map<const pb::FieldDescriptor*, std::shared_ptr<const FieldRule>> rules;
    std::unordered_map<const pb::OneofDescriptor*, bool> oneof_required;
    std::unordered_map<const pb::Descriptor*, bool> message_disabled;
    std::map<std::string, std::pair<std::string, DocResult>> cache;  // name -> (content, result)
    bool warned_v2 = false;
    std::size_t full_checks = 0;

    explicit Impl(ValidatorOptions o) : options(std::move(o)) {
        if (options.proto_path.empty()) {
            options.proto_path = default_proto_path();
        }
        if (!protos_present(options.proto_path)) {
            throw std::runtime_error(
                "Envoy protos not found" +
                (options.proto_path.empty() ? std::string(" next to the plugin")
                                            : " in '" + options.proto_path + "'") +
                ": install them with packaging/fetch-envoy-protos.sh (npm package "
                "@grpc/grpc-js-xds) or set option 'proto_path'");
        }
        // Envoy's API from the descriptor set compiled at build time: only
        // the types a document names are built, when first met.
        api = std::make_unique<crossover::envoy::Api>(options.proto_path);
        reader = std::make_unique<crossover::envoy::YamlReader>(*api);
        pool = &api->pool();
        factory = &api->factory();
        rules_ext = pool->FindExtensionByName("validate.rules");
        oneof_required_ext = pool->FindExtensionByName("validate.required");
        message_disabled_ext = pool->FindExtensionByName("validate.disabled");
        field_options_type = pool->FindMessageTypeByName("google.protobuf.FieldOptions");
        oneof_options_type = pool->FindMessageTypeByName("google.protobuf.OneofOptions");
        message_options_type = pool->FindMessageTypeByName("google.protobuf.MessageOptions");
        if (rules_ext == nullptr || field_options_type == nullptr) {
            throw std::runtime_error("cannot load Envoy protos from '" + options.proto_path +
                                     "': validate/validate.proto defines no validate.rules");
        }
    }

    // ---- type resolution ----------------------------------------------------

    // A message type by full name, built on first use.
    const pb::Descriptor* resolve(const std::string& full_name) {
        return api->find_message(full_name);
    }

    // ---- YAML -> JSON, checked against the schema ----------------------------

    struct Ctx {
        std::vector<std::string>* errors;
        std::size_t cap;
        void add(const std::string& path, const std::string& msg) const {
            if (errors->size() < cap) {
                errors->push_back((path.empty() ? std::string("(document)") : path) + ": " + msg);
            }
        }
    };

    // ---- rules ---------------------------------------------------------------

    std::unique_ptr<pb::Message> options_message(const pb::Message& generated,
                                                 const pb::Descriptor* type) {
        if (type == nullptr) {
            return nullptr;
        }
        std::unique_ptr<pb::Message> m(factory->GetPrototype(type)->New());
        if (!m->ParseFromString(generated.SerializeAsString())) {
            return nullptr;
        }
        return m;
    }

    static std::optional<long double> number(const pb::Message& m, const char* name) {
        const pb::FieldDescriptor* f = m.GetDescriptor()->FindFieldByName(name);
        const pb::Reflection* r = m.GetReflection();
        if (f == nullptr || f->is_repeated() || !r->HasField(m, f)) {
            return std::nullopt;
        }
        switch (f->cpp_type()) {
            case pb::FieldDescriptor::CPPTYPE_INT32: return r->GetInt32(m, f);
            case pb::FieldDescriptor::CPPTYPE_INT64:
                return static_cast<long double>(r->GetInt64(m, f));
            case pb::FieldDescriptor::CPPTYPE_UINT32: return r->GetUInt32(m, f);
            case pb::FieldDescriptor::CPPTYPE_UINT64:
                return static_cast<long double>(r->GetUInt64(m, f));
            case pb::FieldDescriptor::CPPTYPE_FLOAT:
                return static_cast<long double>(r->GetFloat(m, f));
            case pb::FieldDescriptor::CPPTYPE_DOUBLE:
                return static_cast<long double>(r->GetDouble(m, f));
            case pb::FieldDescriptor::CPPTYPE_MESSAGE: {  // google.protobuf.Duration
                const pb::Message& d = r->GetMessage(m, f);
                auto secs = number(d, "seconds");
                auto nanos = number(d, "nanos");
                return secs.value_or(0) * 1e9L + nanos.value_or(0);
            }
            default: return std::nullopt;
        }
    }

    static std::optional<std::uint64_t> count(const pb::Message& m, const char* name) {
        auto v = number(m, name);
        if (!v) {
            return std::nullopt;
        }
        return static_cast<std::uint64_t>(*v);
    }

    static bool flag(const pb::Message& m, const char* name) {
        const pb::FieldDescriptor* f = m.GetDescriptor()->FindFieldByName(name);
        return f != nullptr && f->cpp_type() == pb::FieldDescriptor::CPPTYPE_BOOL &&
               m.GetReflection()->GetBool(m, f);
    }

    static const pb::Message* sub(const pb::Message& m, const char* name) {
        const pb::FieldDescriptor* f = m.GetDescriptor()->FindFieldByName(name);
        if (f == nullptr || !m.GetReflection()->HasField(m, f)) {
            return nullptr;
        }
        return &m.GetReflection()->GetMessage(m, f);
    }

    std::shared_ptr<const FieldRule> compile(const pb::Message& fr) {
        auto rule = std::make_shared<FieldRule>();
        if (const pb::Message* m = sub(fr, "message")) {
            rule->message_required = flag(*m, "required");
            rule->message_skip = flag(*m, "skip");
        }
        const pb::OneofDescriptor* type_oneof = fr.GetDescriptor()->FindOneofByName("type");
        const pb::FieldDescriptor* which =
            type_oneof == nullptr ? nullptr
                                  : fr.GetReflection()->GetOneofFieldDescriptor(fr, type_oneof);
        if (which == nullptr) {
            return rule;
        }
        rule->kind = which->name();
        const pb::Message& r = fr.GetReflection()->GetMessage(fr, which);
        if (rule->kind == "string" || rule->kind == "bytes") {
            rule->min_len = count(r, "min_len");
            rule->max_len = count(r, "max_len");
            rule->len = count(r, "len");
            rule->min_bytes = count(r, "min_bytes");
            rule->max_bytes = count(r, "max_bytes");
            rule->ignore_empty = flag(r, "ignore_empty");
        } else if (rule->kind == "enum") {
            rule->enum_defined_only = flag(r, "defined_only");
        } else if (rule->kind == "repeated") {
            rule->min_items = count(r, "min_items");
            rule->max_items = count(r, "max_items");
            if (const pb::Message* items = sub(r, "items")) {
                rule->items = compile(*items);
            }
        } else if (rule->kind == "map") {
            rule->min_pairs = count(r, "min_pairs");
            rule->max_pairs = count(r, "max_pairs");
        } else if (rule->kind == "any") {
            rule->value_required = flag(r, "required");
        } else if (rule->kind == "duration" || rule->kind == "timestamp") {
            rule->value_required = flag(r, "required");
            if (rule->kind == "duration") {
                rule->bounds = {number(r, "gt"), number(r, "gte"), number(r, "lt"),
                                number(r, "lte"), number(r, "const")};
            }
        } else if (rule->kind != "bool") {
            rule->bounds = {number(r, "gt"), number(r, "gte"), number(r, "lt"), number(r, "lte"),
                            number(r, "const")};
        }
        return rule;
    }

    const FieldRule* rule_for(const pb::FieldDescriptor* f) {
        auto it = rules.find(f);
        if (it != rules.end()) {
            return it->second.get();
        }
        std::shared_ptr<const FieldRule> rule;
        if (f->options().ByteSizeLong() > 0) {
            auto opts = options_message(f->options(), field_options_type);
            if (opts && opts->GetReflection()->HasField(*opts, rules_ext)) {
                rule = compile(opts->GetReflection()->GetMessage(*opts, rules_ext, factory));
            }
        }
        return rules.emplace(f, rule).first->second.get();
    }

    bool is_oneof_required(const pb::OneofDescriptor* o) {
        auto it = oneof_required.find(o);
        if (it != oneof_required.end()) {
            return it->second;
        }
        bool required = false;
        if (oneof_required_ext != nullptr && o->options().ByteSizeLong() > 0) {
            auto opts = options_message(o->options(), oneof_options_type);
            if (opts && opts->GetReflection()->HasField(*opts, oneof_required_ext)) {
                required = opts->GetReflection()->GetBool(*opts, oneof_required_ext);
            }
        }
        oneof_required.emplace(o, required);
        return required;
    }

    bool is_disabled(const pb::Descriptor* d) {
        auto it = message_disabled.find(d);
        if (it != message_disabled.end()) {
            return it->second;
        }
        bool disabled = false;
        if (message_disabled_ext != nullptr && d->options().ByteSizeLong() > 0) {
            auto opts = options_message(d->options(), message_options_type);
            if (opts && opts->GetReflection()->HasField(*opts, message_disabled_ext)) {
                disabled = opts->GetReflection()->GetBool(*opts, message_disabled_ext);
            }
        }
        message_disabled.emplace(d, disabled);
        return disabled;
    }

    // ---- checking a parsed message ------------------------------------------

    struct Walk {
        Ctx ctx;
        DocResult* result;
    };

    static std::size_t utf8_length(const std::string& s) {
        std::size_t n = 0;
        for (char c : s) {
            if ((static_cast<unsigned char>(c) & 0xC0u) != 0x80u) {
                ++n;
            }
        }
        return n;
    }

    static void check_bounds(const Bounds& b, long double v, const std::string& shown,
                             const std::string& kind, const std::string& path, const Ctx& ctx,
                             bool duration = false) {
        auto fail = [&](const char* op, long double bound, const char* name) {
            ctx.add(path, shown + " must be " + op + " " + bound_text(bound, duration) +
                              " (validate.rules " + kind + "." + name + ")");
        };
        if (b.equal && v != *b.equal) {
            fail("equal to", *b.equal, "const");
        }
        // gt/lt together with gt > lt describe an exclusive range: outside.
        if (b.gt && b.lt && *b.lt < *b.gt) {
            if (v <= *b.gt && v >= *b.lt) {
                ctx.add(path, shown + " must be outside [" + bound_text(*b.lt, duration) + ", " +
                                  bound_text(*b.gt, duration) + "] (validate.rules " + kind + ")");
            }
            return;
        }
        if (b.gt && !(v > *b.gt)) {
            fail(">", *b.gt, "gt");
        }
        if (b.gte && !(v >= *b.gte)) {
            fail(">=", *b.gte, "gte");
        }
        if (b.lt && !(v < *b.lt)) {
            fail("<", *b.lt, "lt");
        }
        if (b.lte && !(v <= *b.lte)) {
            fail("<=", *b.lte, "lte");
        }
    }

    void check_string(const FieldRule& rule, const std::string& v, const std::string& path,
                      const Ctx& ctx) {
        if (rule.ignore_empty && v.empty()) {
            return;
        }
        const std::string& k = rule.kind;
        const std::size_t chars = rule.kind == "bytes" ? v.size() : utf8_length(v);
        if (rule.min_len && chars < *rule.min_len) {
            ctx.add(path, "length " + std::to_string(chars) + " is less than " +
                              std::to_string(*rule.min_len) + " (validate.rules " + k +
                              ".min_len)");
        }
        if (rule.max_len && chars > *rule.max_len) {
            ctx.add(path, "length " + std::to_string(chars) + " is more than " +
                              std::to_string(*rule.max_len) + " (validate.rules " + k +
                              ".max_len)");
        }
        if (rule.len && chars != *rule.len) {
            ctx.add(path, "length " + std::to_string(chars) + " is not " +
                              std::to_string(*rule.len) + " (validate.rules " + k + ".len)");
        }
        if (rule.min_bytes && v.size() < *rule.min_bytes) {
            ctx.add(path, "size " + std::to_string(v.size()) + " bytes is less than " +
                              std::to_string(*rule.min_bytes) + " (validate.rules " + k +
                              ".min_bytes)");
        }
        if (rule.max_bytes && v.size() > *rule.max_bytes) {
            ctx.add(path, "size " + std::to_string(v.size()) + " bytes is more than " +
                              std::to_string(*rule.max_bytes) + " (validate.rules " + k +
                              ".max_bytes)");
        }
    }

    // Checks one scalar or message value (an element when repeated).
    void check_value(const pb::Message& m, const pb::FieldDescriptor* f, int index,
                     const FieldRule* rule, const std::string& path, Walk& w) {
        const pb::Reflection* r = m.GetReflection();
        const bool rep = index >= 0;
        switch (f->cpp_type()) {
            case pb::FieldDescriptor::CPPTYPE_MESSAGE: {
                const pb::Message& v =
                    rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f);
                const std::string& tn = f->message_type()->full_name();
                if (rule != nullptr && rule->bounds.any()) {
                    if (rule->kind == "duration") {
                        auto ns = number(v, "seconds").value_or(0) * 1e9L +
                                  number(v, "nanos").value_or(0);
                        check_bounds(rule->bounds, ns, bound_text(ns, true), "duration", path,
                                     w.ctx, true);
                    } else if (is_wrapper(tn)) {
                        auto x = number(v, "value").value_or(0);
                        check_bounds(rule->bounds, x, bound_text(x, false), rule->kind, path,
                                     w.ctx);
                    }
                }
                if (rule != nullptr && (rule->kind == "string" || rule->kind == "bytes") &&
                    is_wrapper(tn)) {
                    const pb::FieldDescriptor* vf = v.GetDescriptor()->FindFieldByName("value");
                    check_string(*rule, v.GetReflection()->GetString(v, vf), path, w.ctx);
                }
                if (rule == nullptr || !rule->message_skip) {
                    visit(v, path, w);
                }
                return;
            }
            case pb::FieldDescriptor::CPPTYPE_STRING:
                if (rule != nullptr) {
                    check_string(*rule,
                                 rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f), path,
                                 w.ctx);
                }
                return;
            case pb::FieldDescriptor::CPPTYPE_ENUM: {
                const int v = rep ? r->GetRepeatedEnumValue(m, f, index) : r->GetEnumValue(m, f);
                if (rule != nullptr && rule->enum_defined_only &&
                    f->enum_type()->FindValueByNumber(v) == nullptr) {
                    w.ctx.add(path, "value " + std::to_string(v) + " is not defined in " +
                                        f->enum_type()->full_name() +
                                        " (validate.rules enum.defined_only)");
                }
                return;
            }
            case pb::FieldDescriptor::CPPTYPE_BOOL: return;
            default: break;
        }
        if (rule == nullptr || !rule->bounds.any()) {
            return;
        }
        long double v = 0;
        switch (f->cpp_type()) {
            case pb::FieldDescriptor::CPPTYPE_INT32:
                v = rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f);
                break;
            case pb::FieldDescriptor::CPPTYPE_INT64:
                v = static_cast<long double>(rep ? r->GetRepeatedInt64(m, f, index)
                                                 : r->GetInt64(m, f));
                break;
            case pb::FieldDescriptor::CPPTYPE_UINT32:
                v = rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f);
                break;
            case pb::FieldDescriptor::CPPTYPE_UINT64:
                v = static_cast<long double>(rep ? r->GetRepeatedUInt64(m, f, index)
                                                 : r->GetUInt64(m, f));
                break;
            case pb::FieldDescriptor::CPPTYPE_FLOAT:
                v = static_cast<long double>(rep ? r->GetRepeatedFloat(m, f, index)
                                                 : r->GetFloat(m, f));
                break;
            case pb::FieldDescriptor::CPPTYPE_DOUBLE:
                v = static_cast<long double>(rep ? r->GetRepeatedDouble(m, f, index)
                                                 : r->GetDouble(m, f));
                break;
            default: return;
        }
        check_bounds(rule->bounds, v, bound_text(v, false), rule->kind, path, w.ctx);
    }

    void visit(const pb::Message& m, const std::string& path, Walk& w) {
        const pb::Descriptor* d = m.GetDescriptor();
        const pb::Reflection* r = m.GetReflection();
        const std::string& tn = d->full_name();
        if (tn == "google.protobuf.Any") {
            const std::string url = r->GetString(m, d->FindFieldByName("type_url"));
            if (url.empty()) {
                return;
            }
            const pb::Descriptor* inner = resolve(url.substr(url.rfind('/') + 1));
            if (inner == nullptr) {
                w.ctx.add(join_path(path, "@type"), "unknown type " + quote(url));
                return;
            }
            std::unique_ptr<pb::Message> unpacked(factory->GetPrototype(inner)->New());
            if (!unpacked->ParseFromString(r->GetString(m, d->FindFieldByName("value")))) {
                w.ctx.add(path, "cannot decode " + inner->full_name());
                return;
            }
            visit(*unpacked, path, w);
            return;
        }
        if (tn == kCluster) {
            w.result->clusters.push_back(r->GetString(m, d->FindFieldByName("name")));
        } else if (tn == kRouteAction) {
            const pb::FieldDescriptor* cf = d->FindFieldByName("cluster");
            if (cf != nullptr && r->HasField(m, cf)) {
                w.result->cluster_refs.emplace_back(join_path(path, "cluster"),
                                                    r->GetString(m, cf));
            }
        } else if (tn == kClusterWeight) {
            const std::string name = r->GetString(m, d->FindFieldByName("name"));
            if (!name.empty()) {
                w.result->cluster_refs.emplace_back(join_path(path, "name"), name);
            }
        }
        const bool disabled = is_disabled(d);
        if (!disabled) {
            for (int i = 0; i < d->oneof_decl_count(); ++i) {
                const pb::OneofDescriptor* o = d->oneof_decl(i);
                if (!o->is_synthetic() && is_oneof_required(o) && !r->HasOneof(m, o)) {
                    std::string names;
                    for (int k = 0; k < o->field_count(); ++k) {
                        names += (k ? ", " : "") + quote(o->field(k)->name());
                    }
                    w.ctx.add(path, "one of " + names +
                                        " is required (validate.required on oneof " +
                                        quote(o->name()) + ")");
                }
            }
        }
        for (int i = 0; i < d->field_count(); ++i) {
            const pb::FieldDescriptor* f = d->field(i);
            const FieldRule* rule = disabled ? nullptr : rule_for(f);
            const std::string fpath = join_path(path, f->name());
            if (f->is_map()) {
                const int n = r->FieldSize(m, f);
                if (rule != nullptr) {
                    if (rule->min_pairs && static_cast<std::uint64_t>(n) < *rule->min_pairs) {
                        w.ctx.add(fpath, "has " + std::to_string(n) + " entries, at least " +
                                             std::to_string(*rule->min_pairs) +
                                             " required (validate.rules map.min_pairs)");
                    }
                    if (rule->max_pairs && static_cast<std::uint64_t>(n) > *rule->max_pairs) {
                        w.ctx.add(fpath, "has " + std::to_string(n) + " entries, at most " +
                                             std::to_string(*rule->max_pairs) +
                                             " allowed (validate.rules map.max_pairs)");
                    }
                }
                const pb::FieldDescriptor* vf = f->message_type()->map_value();
                if (vf->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
                    const pb::FieldDescriptor* kf = f->message_type()->map_key();
                    for (int k = 0; k < n; ++k) {
                        const pb::Message& entry = r->GetRepeatedMessage(m, f, k);
                        std::string key;
                        if (kf->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING) {
                            key = entry.GetReflection()->GetString(entry, kf);
                        } else {
                            key = std::to_string(k);
                        }
                        visit(entry.GetReflection()->GetMessage(entry, vf),
                              fpath + "[" + quote(key) + "]", w);
                    }
                }
                continue;
            }
            if (f->is_repeated()) {
                const int n = r->FieldSize(m, f);
                if (rule != nullptr) {
                    if (rule->min_items && static_cast<std::uint64_t>(n) < *rule->min_items) {
                        w.ctx.add(fpath, "has " + std::to_string(n) + " items, at least " +
                                             std::to_string(*rule->min_items) +
                                             " required (validate.rules repeated.min_items)");
                    }
                    if (rule->max_items && static_cast<std::uint64_t>(n) > *rule->max_items) {
                        w.ctx.add(fpath, "has " + std::to_string(n) + " items, at most " +
                                             std::to_string(*rule->max_items) +
                                             " allowed (validate.rules repeated.max_items)");
                    }
                }
                const FieldRule* item_rule = rule != nullptr ? rule->items.get() : nullptr;
                if (item_rule != nullptr || f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
                    for (int k = 0; k < n; ++k) {
                        check_value(m, f, k, item_rule,
                                    index_path(fpath, static_cast<std::size_t>(k)), w);
                    }
                }
                continue;
            }
            const bool is_message = f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE;
            const bool set = (is_message || f->has_presence()) ? r->HasField(m, f) : true;
            if (!set) {
                // Rules on a oneof member (or proto3 optional) apply only when it is set.
                if (rule != nullptr && f->real_containing_oneof() == nullptr &&
                    (rule->message_required || rule->value_required)) {
                    w.ctx.add(fpath,
                              "is required (validate.rules " +
                                  std::string(rule->message_required ? "message" : rule->kind) +
                                  ".required)");
                }
                continue;
            }
            check_value(m, f, -1, rule, fpath, w);
        }
    }

    // ---- one document ---------------------------------------------------------

    static bool v2_type(const std::string& url) {
        const std::size_t slash = url.rfind('/');
        const std::string name = slash == std::string::npos ? url : url.substr(slash + 1);
        return name.rfind(kV2Prefix, 0) == 0;
    }

    static bool looks_structured(const std::string& name) {
        auto ends = [&](const char* ext) {
            const std::string e(ext);
            return name.size() >= e.size() &&
                   name.compare(name.size() - e.size(), e.size(), e) == 0;
        };
        return ends(".yaml") || ends(".yml") || ends(".json");
    }

    // Envoy accepts a DiscoveryResponse only when every resource has the type
    // the subscription expects: one document, one type.
    static void check_single_type(const YAML::Node& root, const Ctx& ctx) {
        std::string first;
        if (root["type_url"] && root["type_url"].IsScalar()) {
            first = root["type_url"].Scalar();
        }
        const YAML::Node resources = root["resources"];
        if (!resources.IsSequence()) {
            return;
        }
        std::size_t i = 0;
        for (const auto& resource : resources) {
            const std::size_t index = i++;
            const YAML::Node t = resource.IsMap() ? resource["@type"] : YAML::Node();
            if (!t || !t.IsScalar()) {
                continue;
            }
            if (first.empty()) {
                first = t.Scalar();
            } else if (t.Scalar() != first) {
                ctx.add(index_path("resources", index) + ".@type",
                        quote(t.Scalar()) + " differs from " + quote(first) +
                            ": a DiscoveryResponse holds resources of one type");
            }
        }
    }

    DocResult check_document(const std::string& name, const std::string& content) {
        ++full_checks;
        DocResult result;
        Ctx ctx{&result.errors, options.max_errors};
        const bool is_bootstrap = std::find(options.bootstrap.begin(), options.bootstrap.end(),
                                            name) != options.bootstrap.end();
        YAML::Node root;
        try {
            root = load_yaml(content);  // the limits of every input document
        } catch (const YAML::Exception& e) {
            if (is_bootstrap || looks_structured(name) || options.non_xds_error) {
                result.checked = true;
                ctx.add("",
                        "not valid YAML: line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
            }
            return result;
        }
        const pb::Descriptor* type = nullptr;
        if (is_bootstrap) {
            type = pool->FindMessageTypeByName(kBootstrap);
        } else if (root.IsMap() && root["resources"]) {
            type = pool->FindMessageTypeByName(kDiscoveryResponse);
            const YAML::Node resources = root["resources"];
            bool v2 = root["type_url"] && root["type_url"].IsScalar() &&
                      v2_type(root["type_url"].Scalar());
            if (resources.IsSequence()) {
                for (const auto& res : resources) {
                    if (res.IsMap() && res["@type"] && res["@type"].IsScalar() &&
                        v2_type(res["@type"].Scalar())) {
                        v2 = true;
                    }
                }
            }
            if (v2) {
                result.v2 = true;
                if (!options.allow_v2) {
                    result.checked = true;
                    ctx.add("",
                            "legacy Envoy v2 API (envoy.api.v2.*) is not supported "
                            "(option allow_v2 is false); use the v3 types");
                }
                return result;
            }
        } else {
            if (options.non_xds_error) {
                result.checked = true;
                ctx.add("",
                        "not an xDS DiscoveryResponse (no \"resources\"), and option non_xds "
                        "is error");
            }
            return result;
        }
        result.checked = true;
        if (!is_bootstrap) {
            check_single_type(root, ctx);
        }
        // From the YAML tree straight to the message, in one pass.
        std::unique_ptr<pb::Message> msg(factory->GetPrototype(type)->New());
        crossover::envoy::Problems problems(options.max_errors);
        reader->record_integer_sites(&result.numbers);
        reader->read(root, *msg, "", problems);
        reader->record_integer_sites(nullptr);
        for (const auto& [path, problem] : problems.list()) {
            ctx.add(path, problem);
        }
        if (!result.errors.empty()) {
            return result;
        }
        Walk w{ctx, &result};
        visit(*msg, "", w);
        keep_numbers(content, result);
        return result;
    }

    // ---- a change of numbers only ----------------------------------------------

    // Keeps the integer sites of a valid document, checked against its text
    // (an alias, say, points elsewhere); drops them otherwise.
    static void keep_numbers(const std::string& content, DocResult& result) {
        auto& sites = result.numbers;
        const bool usable =
            result.errors.empty() &&
            std::all_of(sites.begin(), sites.end(), [&](const crossover::envoy::IntegerSite& n) {
                return n.offset + n.length <= content.size() &&
                       std::all_of(
                           content.begin() + static_cast<std::ptrdiff_t>(n.offset),
                           content.begin() + static_cast<std::ptrdiff_t>(n.offset + n.length),
                           [](char c) { return c >= '0' && c <= '9'; });
            });
        if (!usable) {
            sites = {};
            return;
        }
        std::stable_sort(sites.begin(), sites.end(),
                         [](const auto& a, const auto& b) { return a.offset < b.offset; });
        sites.shrink_to_fit();
    }

    // True when the number `digits` passes every check the full run makes
    // on the integer at `site`: its type's range and the rules of its field.
    bool number_passes(const crossover::envoy::IntegerSite& site, std::string_view digits) {
        if (digits.empty() || digits.size() > 19 || (digits.size() > 1 && digits[0] == '0')) {
            return false;  // leading zeros read differently in YAML; too long for the check
        }
        std::uint64_t value = 0;
        for (const char c : digits) {
            value = value * 10 + static_cast<std::uint64_t>(c - '0');
        }
        std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
        switch (site.field->cpp_type()) {
            case pb::FieldDescriptor::CPPTYPE_INT32:
                max = std::numeric_limits<std::int32_t>::max();
                break;
            case pb::FieldDescriptor::CPPTYPE_UINT32:
                max = std::numeric_limits<std::uint32_t>::max();
                break;
            case pb::FieldDescriptor::CPPTYPE_INT64:
                max = std::numeric_limits<std::int64_t>::max();
                break;
            case pb::FieldDescriptor::CPPTYPE_UINT64: break;
            default: return false;
        }
        if (value > max) {
            return false;
        }
        const pb::FieldDescriptor* rf = site.rule_field;
        const FieldRule* rule = is_disabled(rf->containing_type()) ? nullptr : rule_for(rf);
        if (rule == nullptr || !rule->bounds.any()) {
            return true;
        }
        std::vector<std::string> found;
        const Ctx scratch{&found, 1};
        const auto v = static_cast<long double>(value);
        check_bounds(rule->bounds, v, bound_text(v, false), rule->kind, "", scratch);
        return found.empty();
    }

    // When `next` differs from the cached `content` of a valid document only
    // in integers the full check read, and each new number passes, moves the
    // cache to `next` and returns true. False: check `next` in full (which
    // then also words any error).
    bool recheck_numbers(std::string& content, DocResult& result, const std::string& next) {
        auto& sites = result.numbers;
        if (!result.errors.empty() || !result.checked || sites.empty()) {
            return false;
        }
        const auto changes = integer_changes(content, next, sites.size());
        if (!changes) {
            return false;
        }
        const auto by_offset = [](const crossover::envoy::IntegerSite& n, std::size_t offset) {
            return n.offset < offset;
        };
        for (const auto& c : *changes) {
            auto it = std::lower_bound(sites.begin(), sites.end(), c.old_offset, by_offset);
            if (it == sites.end() || it->offset != c.old_offset) {
                return false;
            }
            for (; it != sites.end() && it->offset == c.old_offset; ++it) {
                if (it->length != c.old_length ||
                    !number_passes(*it,
                                   std::string_view(next).substr(c.new_offset, c.new_length))) {
                    return false;
                }
            }
        }
        // Move the sites to their offsets in `next`.
        std::size_t k = 0;
        std::ptrdiff_t shift = 0;
        for (auto& site : sites) {
            while (k < changes->size() && (*changes)[k].old_offset < site.offset) {
                shift += static_cast<std::ptrdiff_t>((*changes)[k].new_length) -
                         static_cast<std::ptrdiff_t>((*changes)[k].old_length);
                ++k;
            }
            if (k < changes->size() && (*changes)[k].old_offset == site.offset) {
                site.length = (*changes)[k].new_length;
            }
            site.offset =
                static_cast<std::size_t>(static_cast<std::ptrdiff_t>(site.offset) + shift);
        }
        content = next;
        return true;
    }
};

Validator::Validator(ValidatorOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

Validator::~Validator() = default;

const std::string& Validator::proto_version() const {
    return impl_->api->version();
}

std::size_t Validator::full_checks() const {
    return impl_->full_checks;
}

const std::string& Validator::proto_path() const {
    return impl_->options.proto_path;
}

std::vector<std::string> Validator::validate(const std::vector<DocumentView>& documents) {
    Impl& s = *impl_;
    std::vector<std::string> errors;
    std::size_t total = 0;
    auto add = [&](std::string e) {
        ++total;
        if (errors.size() < s.options.max_errors) {
            errors.push_back(std::move(e));
        }
    };
    std::map<std::string, std::pair<std::string, DocResult>> next_cache;
    std::vector<std::pair<const DocumentView*, const DocResult*>> results;
    results.reserve(documents.size());
    for (const auto& doc : documents) {
        auto it = s.cache.find(*doc.name);
        if (it != s.cache.end() &&
            (it->second.first == *doc.content ||
             s.recheck_numbers(it->second.first, it->second.second, *doc.content))) {
            auto node = s.cache.extract(it);
            next_cache.insert(std::move(node));
        } else {
            next_cache[*doc.name] = {*doc.content, s.check_document(*doc.name, *doc.content)};
        }
    }
    s.cache = std::move(next_cache);
    std::set<std::string> defined;
    bool any_cluster = false;
    for (const auto& doc : documents) {
        const DocResult& r = s.cache.at(*doc.name).second;
        results.emplace_back(&doc, &r);
        if (r.v2 && s.options.allow_v2 && !s.warned_v2) {
            s.warned_v2 = true;
            if (s.options.warn) {
                s.options.warn(*doc.name +
                               ": legacy Envoy v2 API (envoy.api.v2.*): not validated (no v2 "
                               "protos exist); further v2 documents are skipped silently");
            }
        }
        for (const auto& c : r.clusters) {
            defined.insert(c);
            any_cluster = true;
        }
    }
    auto where = [](const DocumentView& d) {
        return d.origin.empty() ? std::string() : " [" + d.origin + "]";
    };
    for (const auto& [doc, r] : results) {
        for (const auto& e : r->errors) {
            add(*doc->name + ": " + e + where(*doc));
        }
    }
    if (s.options.check_clusters && any_cluster) {
        for (const auto& [doc, r] : results) {
            for (const auto& [path, cluster] : r->cluster_refs) {
                if (defined.count(cluster) == 0) {
                    add(*doc->name + ": " + path + ": cluster " + quote(cluster) +
                        " is not defined by any Cluster in this pipeline's output" + where(*doc));
                }
            }
        }
    }
    if (total > errors.size()) {
        errors.push_back("... and more (only the first " + std::to_string(errors.size()) +
                         " errors are shown)");
    }
    return errors;
}

}  // namespace crossover::envoy_validate
