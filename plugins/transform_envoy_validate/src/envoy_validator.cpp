#include "envoy_validator.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <google/protobuf/arena.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>
#include <yaml-cpp/yaml.h>

#include "crossover_envoy/api.h"
#include "crossover_envoy/doc_tree.h"
#include "crossover_envoy/field_path.h"
#include "crossover_envoy/types.h"
#include "crossover_envoy/yaml_message.h"
#include "crossover_envoy/yaml_scalar.h"
#include "integer_diff.h"
#include "resource_layout.h"

namespace crossover::envoy_validate {

namespace pb = google::protobuf;
namespace fs = std::filesystem;
namespace xds = crossover::xds;
using xds::DocTree;
using Node = std::uint32_t;  // a node of a DocTree

namespace {

constexpr const char* kV2Prefix = "envoy.api.v2.";
constexpr const char* kDiscoveryResponse = "envoy.service.discovery.v3.DiscoveryResponse";
constexpr const char* kBootstrap = "envoy.config.bootstrap.v3.Bootstrap";
constexpr const char* kCluster = "envoy.config.cluster.v3.Cluster";
constexpr const char* kRouteConfiguration = "envoy.config.route.v3.RouteConfiguration";
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

// What a clean check found in one virtual host of a RouteConfiguration.
// A virtual host's name and domains (as written), which Envoy wants unique
// within its RouteConfiguration.
struct HostNames {
    std::string name;
    std::vector<std::string> domains;
};

struct VirtualHostFacts {
    // (path below "virtual_hosts[j]", cluster), e.g. (".routes[0].route.cluster", "a")
    std::vector<std::pair<std::string, std::string>> cluster_refs;
    HostNames names;
};

// The first virtual host name or domain of `hosts` (one RouteConfiguration's,
// in order) that an earlier host (or the same one) already has, as the path
// below that host (".name", ".domains[i]") and the problem; nullopt when
// there is none. Domains compare as Envoy compares them, in lower case.
static std::optional<std::pair<std::size_t, std::pair<std::string, std::string>>>
first_duplicate_host(const std::vector<const HostNames*>& hosts) {
    std::unordered_map<std::string_view, std::size_t> names;
    std::unordered_map<std::string_view, std::size_t> domains;
    names.reserve(hosts.size());
    domains.reserve(hosts.size() * 2);
    std::deque<std::string> lowered;  // domains written with capitals, in lower case
    for (std::size_t j = 0; j < hosts.size(); ++j) {
        const HostNames& host = *hosts[j];
        if (const auto [it, fresh] = names.emplace(host.name, j); !fresh) {
            return std::make_pair(
                j, std::make_pair(std::string(".name"),
                                  "virtual host name " + quote(host.name) +
                                      " is also the name of virtual_hosts[" +
                                      std::to_string(it->second) +
                                      "]: Envoy refuses two virtual hosts with one name"));
        }
        for (std::size_t i = 0; i < host.domains.size(); ++i) {
            const std::string& domain = host.domains[i];
            const auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
            std::string_view lower = domain;
            if (std::any_of(domain.begin(), domain.end(), upper)) {
                std::string& copy = lowered.emplace_back(domain);
                std::transform(copy.begin(), copy.end(), copy.begin(), [&](char c) {
                    return upper(c) ? static_cast<char>(c - 'A' + 'a') : c;
                });
                lower = copy;
            }
            if (const auto [it, fresh] = domains.emplace(lower, j); !fresh) {
                const HostNames& other = *hosts[it->second];
                return std::make_pair(
                    j, std::make_pair(".domains[" + std::to_string(i) + "]",
                                      "domain " + quote(host.domains[i]) + " of virtual host " +
                                          quote(host.name) + " is also a domain of virtual host " +
                                          quote(other.name) + " (virtual_hosts[" +
                                          std::to_string(it->second) +
                                          "]): Envoy refuses a domain given twice in one "
                                          "RouteConfiguration"));
            }
        }
    }
    return std::nullopt;
}

// Of a RouteConfiguration resource whose `virtual_hosts` is a block list:
// where each virtual host lies, by offsets from the resource's first byte,
// and what each held.
struct VirtualHostsLayout {
    std::size_t key_column = 0;  // of the resource's keys, "virtual_hosts:" among them
    ResourceLayout spans;
    std::vector<VirtualHostFacts> facts;  // one per span
};

// What a clean check found in one resource of a DiscoveryResponse, kept so
// that the resource is not read again while its bytes stay the same.
struct ResourceFacts {
    std::string type;                   // its "@type"
    std::vector<std::string> clusters;  // names of the Cluster messages in it
    // (path below "resources[k]", cluster), e.g. (".virtual_hosts[0]...cluster", "a");
    // empty when `virtual_hosts` is set: they are its virtual hosts'.
    std::vector<std::pair<std::string, std::string>> cluster_refs;
    // Of a RouteConfiguration: a change of some of its virtual hosts only
    // reads those again. Shared, so that keeping an unchanged resource costs
    // no copy of a thousand virtual hosts' findings.
    std::shared_ptr<VirtualHostsLayout> virtual_hosts;
};

// Calls `fn(path, cluster)` for every cluster the resource `facts` names,
// in the order the full check notes them; `path()` writes out the path of
// the reference below `prefix` ("resources[k]"), only for a caller that names
// it (an undefined cluster), so that a kept document holds no path per
// reference.
template <typename Fn>
static void for_each_cluster_ref(const ResourceFacts& facts, const std::string& prefix, Fn&& fn) {
    for (const auto& ref : facts.cluster_refs) {  // (path below `prefix`, cluster)
        fn([&] { return prefix + ref.first; }, ref.second);
    }
    if (!facts.virtual_hosts) {
        return;
    }
    const auto& all = facts.virtual_hosts->facts;
    for (std::size_t j = 0; j < all.size(); ++j) {
        for (const auto& ref : all[j].cluster_refs) {  // (path below the host, cluster)
            fn([&, j] { return index_path(prefix + ".virtual_hosts", j) + ref.first; }, ref.second);
        }
    }
}

// Of a valid block-style DiscoveryResponse: where its resources lie and what
// each held.
struct DocLayout {
    ResourceLayout spans;
    std::vector<ResourceFacts> facts;  // one per span
    std::string type_url;              // the document's own type_url, if any
};

// One document's findings, kept between runs while its content is unchanged.
struct DocResult;
template <typename Fn>
static void for_each_cluster(const DocResult& result, Fn&& fn);
template <typename Fn>
static void for_each_cluster_ref(const DocResult& result, Fn&& fn);
struct DocResult {
    std::vector<std::string> errors;  // "<path>: <problem>"
    bool v2 = false;
    bool checked = false;  // an xDS document or a bootstrap (not passed unchecked)
    // (path, name) of Clusters and (path, cluster) of the clusters routes
    // name; empty when `layout` is set: its facts hold them, without paths
    // (see for_each_cluster and for_each_cluster_ref below).
    std::vector<std::pair<std::string, std::string>> clusters;
    std::vector<std::pair<std::string, std::string>> cluster_refs;
    // Of a valid document: where its plain integers are and which fields
    // they set, by offset, so that a change of numbers only (a canary's
    // weights) is checked without reading the document again.
    std::vector<crossover::envoy::IntegerSite> numbers;
    // Absent when the document is not a clean, block-style DiscoveryResponse
    // without aliases: it is then read in full on any change.
    std::optional<DocLayout> layout;
};

// `fn(name)` for every Cluster the document defines.
template <typename Fn>
static void for_each_cluster(const DocResult& result, Fn&& fn) {
    for (const auto& [path, name] : result.clusters) {
        fn(name);
    }
    if (result.layout) {
        for (const ResourceFacts& facts : result.layout->facts) {
            for (const std::string& name : facts.clusters) {
                fn(name);
            }
        }
    }
}

// `fn(path, cluster)` for every cluster the document names, in the order the
// full check notes them (`path()` writes out the reference's path).
template <typename Fn>
static void for_each_cluster_ref(const DocResult& result, Fn&& fn) {
    for (const auto& ref : result.cluster_refs) {  // (path, cluster)
        fn([&] { return ref.first; }, ref.second);
    }
    if (result.layout) {
        const auto& all = result.layout->facts;
        for (std::size_t k = 0; k < all.size(); ++k) {
            for_each_cluster_ref(all[k], index_path("resources", k), fn);
        }
    }
}

struct Validator::Impl {
    ValidatorOptions options;
    std::unique_ptr<crossover::envoy::Api> api;
    std::unique_ptr<crossover::envoy::YamlReader> reader;
    // What the Anys of the messages being checked hold (see keep_any_contents).
    crossover::envoy::YamlReader::AnyContents any_contents;
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
    // name -> (content, result); the content is the pipeline's own document
    // text when the caller shared it, so it is not held twice.
    std::map<std::string, std::pair<std::shared_ptr<const std::string>, DocResult>> cache;
    // The virtual hosts of a full check, read and walked one at a time on
    // an arena reset between them (see check_document).
    static constexpr std::size_t kHostBlock = std::size_t{64} * 1024;
    std::unique_ptr<char[]> host_block = std::make_unique<char[]>(kHostBlock);
    std::unique_ptr<pb::Arena> host_arena;
    bool warned_v2 = false;
    std::size_t full_checks = 0;
    std::size_t resources_read = 0;
    std::size_t virtual_hosts_read = 0;

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
        reader->keep_any_contents(&any_contents);
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

    using Path = crossover::envoy::FieldPath;

    struct Ctx {
        std::vector<std::string>* errors;
        std::size_t cap;
        void add(const std::string& path, const std::string& msg) const {
            if (errors->size() < cap) {
                errors->push_back((path.empty() ? std::string("(document)") : path) + ": " + msg);
            }
        }
        void add(const Path& path, const std::string& msg) const {
            if (errors->size() < cap) {
                add(path.str(), msg);
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

    // Frees what the Anys of one check held, before its messages are freed
    // (a later Any at the same address must not find them).
    struct ForgetAnyContents {
        crossover::envoy::YamlReader::AnyContents& contents;
        explicit ForgetAnyContents(crossover::envoy::YamlReader::AnyContents& c) : contents(c) {}
        ForgetAnyContents(const ForgetAnyContents&) = delete;
        ForgetAnyContents& operator=(const ForgetAnyContents&) = delete;
        ForgetAnyContents(ForgetAnyContents&&) = delete;
        ForgetAnyContents& operator=(ForgetAnyContents&&) = delete;
        ~ForgetAnyContents() { contents.clear(); }
    };

    // While a full check streams virtual hosts (when `on`, the document
    // names RouteConfigurations): sets streamed_hosts; at the end forgets
    // the splices and frees the host arena's messages.
    struct HostStream {
        Impl& impl;
        HostStream(Impl& i, bool on) : impl(i) {
            impl.streamed_hosts = nullptr;
            const pb::Descriptor* rc = on ? impl.resolve(kRouteConfiguration) : nullptr;
            const pb::FieldDescriptor* f =
                rc == nullptr ? nullptr : rc->FindFieldByName("virtual_hosts");
            if (f == nullptr || !f->is_repeated() ||
                f->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE) {
                return;
            }
            if (!impl.host_arena) {
                pb::ArenaOptions o;
                o.initial_block = impl.host_block.get();
                o.initial_block_size = kHostBlock;
                impl.host_arena = std::make_unique<pb::Arena>(o);
            }
            impl.streamed_hosts = f;
        }
        HostStream(const HostStream&) = delete;
        HostStream& operator=(const HostStream&) = delete;
        HostStream(HostStream&&) = delete;
        HostStream& operator=(HostStream&&) = delete;
        ~HostStream() {
            impl.streamed_hosts = nullptr;
            impl.splices.clear();
            if (impl.host_arena) {
                impl.host_arena->Reset();
            }
        }
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

    // `v` is shown as bound_text(v, duration) in the messages.
    static void check_bounds(const Bounds& b, long double v, const std::string& kind,
                             const Path& path, const Ctx& ctx, bool duration = false) {
        const auto shown = [&] { return bound_text(v, duration); };
        auto fail = [&](const char* op, long double bound, const char* name) {
            ctx.add(path, shown() + " must be " + op + " " + bound_text(bound, duration) +
                              " (validate.rules " + kind + "." + name + ")");
        };
        if (b.equal && v != *b.equal) {
            fail("equal to", *b.equal, "const");
        }
        // gt/lt together with gt > lt describe an exclusive range: outside.
        if (b.gt && b.lt && *b.lt < *b.gt) {
            if (v <= *b.gt && v >= *b.lt) {
                ctx.add(path, shown() + " must be outside [" + bound_text(*b.lt, duration) + ", " +
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

    void check_string(const FieldRule& rule, const std::string& v, const Path& path,
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

    // Checks message `v`, a value of field `f` (an element when repeated).
    void check_message(const pb::Message& v, const pb::FieldDescriptor* f, const FieldRule* rule,
                       const Path& path, Walk& w) {
        const std::string& tn = f->message_type()->full_name();
        if (rule != nullptr && rule->bounds.any()) {
            if (rule->kind == "duration") {
                auto ns = number(v, "seconds").value_or(0) * 1e9L + number(v, "nanos").value_or(0);
                check_bounds(rule->bounds, ns, "duration", path, w.ctx, true);
            } else if (is_wrapper(tn)) {
                auto x = number(v, "value").value_or(0);
                check_bounds(rule->bounds, x, rule->kind, path, w.ctx);
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
    }

    // Checks one scalar or message value (an element when repeated).
    void check_value(const pb::Message& m, const pb::FieldDescriptor* f, int index,
                     const FieldRule* rule, const Path& path, Walk& w) {
        const pb::Reflection* r = m.GetReflection();
        const bool rep = index >= 0;
        switch (f->cpp_type()) {
            case pb::FieldDescriptor::CPPTYPE_MESSAGE:
                check_message(rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f), f,
                              rule, path, w);
                return;
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
        check_bounds(rule->bounds, v, rule->kind, path, w.ctx);
    }

    // What the walk does in a message of one type, worked out once per type.
    struct Plan {
        enum class Kind : std::uint8_t {
            Plain,
            Any,
            Cluster,
            RouteAction,
            ClusterWeight,
            RouteConfiguration
        };
        Kind kind = Kind::Plain;
        // The field note_clusters reads: a Cluster's or a ClusterWeight's
        // name, a RouteAction's cluster.
        const pb::FieldDescriptor* name_field = nullptr;
        // validate.required oneofs (none when the type's rules are disabled).
        std::vector<const pb::OneofDescriptor*> required_oneofs;
        // In field order: the fields with a rule, and the message fields
        // (walked into when set). The types of the fields are not planned
        // ahead: only the types a document uses are ever built and planned.
        struct Field {
            const pb::FieldDescriptor* field;
            const FieldRule* rule;
            // A message field's type, learnt from the first message met in
            // it (not asked of the field, which could build types no
            // document uses); null until then, and for maps.
            const pb::Descriptor* type = nullptr;
            // A RouteConfiguration's virtual_hosts: read one at a time in a
            // full check (see HostsSplice).
            bool hosts = false;
        };
        std::vector<Field> fields;
        // A rule, a required oneof, an Any or noted clusters in the type itself.
        bool own_work = false;
        // Known to hold nothing to check or note, down to its leaves.
        enum class Idle : std::uint8_t { Unknown, Yes, No };
        Idle idle = Idle::Unknown;
    };
    std::unordered_map<const pb::Descriptor*, std::unique_ptr<Plan>> plans;

    // The plan of `d`, made on first use.
    const Plan& plan_for(const pb::Descriptor* d) {
        if (const auto it = plans.find(d); it != plans.end()) {
            return *it->second;
        }
        Plan& plan = *plans.emplace(d, std::make_unique<Plan>()).first->second;  // stays put
        const std::string& tn = d->full_name();
        plan.kind = tn == "google.protobuf.Any" ? Plan::Kind::Any
                    : tn == kCluster            ? Plan::Kind::Cluster
                    : tn == kRouteAction        ? Plan::Kind::RouteAction
                    : tn == kClusterWeight      ? Plan::Kind::ClusterWeight
                    : tn == kRouteConfiguration ? Plan::Kind::RouteConfiguration
                                                : Plan::Kind::Plain;
        plan.name_field =
            d->FindFieldByName(plan.kind == Plan::Kind::RouteAction ? "cluster" : "name");
        if (plan.name_field != nullptr &&
            (plan.name_field->is_repeated() ||
             plan.name_field->cpp_type() != pb::FieldDescriptor::CPPTYPE_STRING)) {
            plan.name_field = nullptr;
        }
        const bool disabled = is_disabled(d);
        for (int i = 0; !disabled && i < d->oneof_decl_count(); ++i) {
            const pb::OneofDescriptor* o = d->oneof_decl(i);
            if (!o->is_synthetic() && is_oneof_required(o)) {
                plan.required_oneofs.push_back(o);
            }
        }
        for (int i = 0; i < d->field_count(); ++i) {
            const pb::FieldDescriptor* f = d->field(i);
            const FieldRule* rule = disabled ? nullptr : rule_for(f);
            if (rule != nullptr || f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
                plan.fields.push_back(
                    {f, rule, nullptr,
                     plan.kind == Plan::Kind::RouteConfiguration && f->name() == "virtual_hosts"});
            }
            plan.own_work = plan.own_work || rule != nullptr;
        }
        plan.own_work =
            plan.own_work || plan.kind != Plan::Kind::Plain || !plan.required_oneofs.empty();
        return plan;
    }

    // True when a message of type `d` is known to need nothing from the
    // walk: the type and every message type below it (as far as documents
    // have shown them) have no rule, required oneof, Any or cluster. A type
    // or a field type not met yet is not known: the walk then goes in.
    bool known_idle(const pb::Descriptor* d, int depth = 0) {
        const auto it = plans.find(d);
        if (it == plans.end() || depth > 32) {
            return false;
        }
        Plan& plan = *it->second;
        if (plan.idle == Plan::Idle::Unknown && (plan.own_work || depth == 32)) {
            plan.idle = Plan::Idle::No;
        }
        if (plan.idle != Plan::Idle::Unknown) {
            return plan.idle == Plan::Idle::Yes;
        }
        for (const Plan::Field& f : plan.fields) {
            if (f.field->is_map()) {
                plan.idle = Plan::Idle::No;
                return false;
            }
            if (f.type == nullptr || f.type == d || !known_idle(f.type, depth + 1)) {
                return false;  // not known yet
            }
        }
        plan.idle = Plan::Idle::Yes;
        return true;
    }

    void visit(const pb::Message& m, const Path& path, Walk& w) {
        const pb::Descriptor* d = m.GetDescriptor();
        const pb::Reflection* r = m.GetReflection();
        const Plan& plan = plan_for(d);
        if (plan.kind == Plan::Kind::Any) {
            visit_any(m, path, w);
            return;
        }
        if (plan.kind != Plan::Kind::Plain) {
            note_clusters(m, plan, path, w);
        }
        check_required_oneofs(m, plan.required_oneofs, path, w);
        for (Plan::Field& field : plans.at(d)->fields) {
            const pb::FieldDescriptor* f = field.field;
            const FieldRule* rule = field.rule;
            if (field.hosts) {
                if (HostsSplice* splice = splice_of(m)) {
                    walk_splice(*splice, f, rule, path, w);
                    continue;
                }
            }
            // Without a rule only messages are looked into, only when set
            // (most fields of most messages are not: build no path for them),
            // and only when their type may hold something to check.
            if (rule == nullptr) {
                if (f->is_repeated() ? r->FieldSize(m, f) == 0 : !r->HasField(m, f)) {
                    continue;
                }
                if (field.type == nullptr && !f->is_map()) {
                    field.type =
                        (f->is_repeated() ? r->GetRepeatedMessage(m, f, 0) : r->GetMessage(m, f))
                            .GetDescriptor();
                }
                if (field.type != nullptr && known_idle(field.type)) {
                    continue;
                }
            }
            const Path fpath = Path::field(path, f->name());
            if (f->is_map()) {
                visit_map(m, f, rule, fpath, w);
            } else if (f->is_repeated()) {
                visit_repeated(m, f, rule, fpath, w);
            } else {
                visit_singular(m, f, rule, fpath, w);
            }
        }
    }

    // An Any: the message it holds, as read (kept) or decoded from its bytes.
    void visit_any(const pb::Message& m, const Path& path, Walk& w) {
        const pb::Descriptor* d = m.GetDescriptor();
        const pb::Reflection* r = m.GetReflection();
        const std::string url = r->GetString(m, d->FindFieldByName("type_url"));
        if (url.empty()) {
            return;
        }
        if (const auto kept = any_contents.find(&m); kept != any_contents.end()) {
            visit(*kept->second, path, w);
            return;
        }
        const pb::Descriptor* inner = resolve(url.substr(url.rfind('/') + 1));
        if (inner == nullptr) {
            w.ctx.add(join_path(path.str(), "@type"), "unknown type " + quote(url));
            return;
        }
        std::unique_ptr<pb::Message> unpacked(factory->GetPrototype(inner)->New());
        if (!unpacked->ParseFromString(r->GetString(m, d->FindFieldByName("value")))) {
            w.ctx.add(path, "cannot decode " + inner->full_name());
            return;
        }
        visit(*unpacked, path, w);
    }

    // Clusters defined and named (by routes and weighted clusters), for the
    // check of references across documents.
    void note_clusters(const pb::Message& m, const Plan& plan, const Path& path, Walk& w) {
        const pb::Reflection* r = m.GetReflection();
        const pb::FieldDescriptor* f = plan.name_field;
        std::string scratch;
        if (f == nullptr && plan.kind != Plan::Kind::RouteConfiguration) {
            return;
        }
        switch (plan.kind) {
            case Plan::Kind::Cluster:
                w.result->clusters.emplace_back(path.str(), r->GetStringReference(m, f, &scratch));
                return;
            case Plan::Kind::RouteAction:
                if (r->HasField(m, f)) {
                    w.result->cluster_refs.emplace_back(path_and(path, "cluster"),
                                                        r->GetStringReference(m, f, &scratch));
                }
                return;
            case Plan::Kind::ClusterWeight:
                if (const std::string& name = r->GetStringReference(m, f, &scratch);
                    !name.empty()) {
                    w.result->cluster_refs.emplace_back(path_and(path, "name"), name);
                }
                return;
            case Plan::Kind::RouteConfiguration: check_unique_hosts(m, path, w); return;
            default: return;
        }
    }

    // "path.key" ("key" for the document itself), written out once.
    static std::string path_and(const Path& path, std::string_view key) {
        std::string out;
        out.reserve(112);
        path.append_to(out);
        if (!out.empty()) {
            out += '.';
        }
        out += key;
        return out;
    }

    // Envoy refuses a RouteConfiguration with two virtual hosts of one name
    // or one domain twice: the first such, as Envoy reports it.
    void check_unique_hosts(const pb::Message& m, const Path& path, Walk& w) {
        const pb::Descriptor* d = m.GetDescriptor();
        const pb::Reflection* r = m.GetReflection();
        const pb::FieldDescriptor* list = d->FindFieldByName("virtual_hosts");
        if (list == nullptr || list->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE) {
            return;
        }
        std::vector<HostNames> hosts;
        const HostsSplice* splice = splice_of(m);
        if (splice == nullptr) {
            const int n = r->FieldSize(m, list);
            hosts.reserve(static_cast<std::size_t>(n));
            for (int j = 0; j < n; ++j) {
                hosts.push_back(names_of(r->GetRepeatedMessage(m, list, j)));
            }
        }
        const std::vector<HostNames>& names = splice != nullptr ? splice->names : hosts;
        std::vector<const HostNames*> all;
        all.reserve(names.size());
        for (const HostNames& host : names) {
            all.push_back(&host);
        }
        if (const auto found = first_duplicate_host(all)) {
            static const std::string kList = "virtual_hosts";
            const Path field = Path::field(path, kList);
            const Path at = Path::item(field, static_cast<int>(found->first));
            w.ctx.add(at.str() + found->second.first, found->second.second);
        }
    }

    // A VirtualHost message's name and domains.
    static HostNames names_of(const pb::Message& host) {
        const pb::Descriptor* d = host.GetDescriptor();
        const pb::Reflection* r = host.GetReflection();
        const pb::FieldDescriptor* name_field = d->FindFieldByName("name");
        const pb::FieldDescriptor* domains_field = d->FindFieldByName("domains");
        HostNames names;
        names.name = r->GetString(host, name_field);
        const int domains = r->FieldSize(host, domains_field);
        names.domains.reserve(static_cast<std::size_t>(domains));
        for (int i = 0; i < domains; ++i) {
            names.domains.push_back(r->GetRepeatedString(host, domains_field, i));
        }
        return names;
    }

    // ---- a RouteConfiguration's virtual hosts, one at a time ------------------

    // What the virtual hosts of one RouteConfiguration, read and walked one
    // at a time (its message's list stays empty), gave: spliced into the
    // walk of the RouteConfiguration where its list is walked, so that the
    // findings and their order are the full walk's.
    struct HostsSplice {
        int count = 0;
        DocResult found;  // the walk's errors (capped), clusters and references
        std::vector<HostNames> names;
    };
    // By RouteConfiguration message, during one full check.
    std::unordered_map<const pb::Message*, HostsSplice> splices;
    const pb::FieldDescriptor* streamed_hosts = nullptr;  // RouteConfiguration.virtual_hosts

    HostsSplice* splice_of(const pb::Message& m) {
        if (splices.empty()) {
            return nullptr;
        }
        const auto it = splices.find(&m);
        return it == splices.end() ? nullptr : &it->second;
    }

    // The message the next virtual host is read into, on the host arena,
    // reset first once the hosts read so far fill its first block (resetting
    // it for every host costs more than it saves).
    pb::Message* next_host() {
        if (host_arena->SpaceUsed() > kHostBlock / 2) {
            host_arena->Reset();
        }
        return factory->GetPrototype(streamed_hosts->message_type())->New(host_arena.get());
    }

    // A virtual host just read: its names kept, and walked as the walk of
    // its RouteConfiguration walks each item (unless a problem was read:
    // then only the problems are reported, and the walk is not needed).
    // What the Anys on the host arena hold is forgotten before the arena is
    // reset.
    void host_read(const pb::Message& parent, const pb::Message& host, const Path& path,
                   bool walk) {
        HostsSplice& splice = splices[&parent];
        ++splice.count;
        splice.names.push_back(names_of(host));
        if (walk) {
            const FieldRule* rule =
                is_disabled(streamed_hosts->containing_type()) ? nullptr : rule_for(streamed_hosts);
            Walk w{Ctx{&splice.found.errors, options.max_errors}, &splice.found};
            check_message(host, streamed_hosts, rule != nullptr ? rule->items.get() : nullptr, path,
                          w);
        }
        for (auto it = any_contents.begin(); it != any_contents.end();) {
            it = it->first->GetArena() == host_arena.get() ? any_contents.erase(it) : std::next(it);
        }
    }

    // The RouteConfiguration's virtual_hosts field, from its splice: the
    // count rules, then what its items' walks found.
    static void walk_splice(HostsSplice& splice, const pb::FieldDescriptor* f,
                            const FieldRule* rule, const Path& path, Walk& w) {
        if (rule != nullptr) {
            const Path fpath = Path::field(path, f->name());
            check_count(splice.count, rule->min_items, rule->max_items, "items",
                        "repeated.min_items", "repeated.max_items", fpath, w);
        }
        for (std::string& e : splice.found.errors) {
            if (w.ctx.errors->size() < w.ctx.cap) {
                w.ctx.errors->push_back(std::move(e));
            }
        }
        for (auto& c : splice.found.clusters) {
            w.result->clusters.push_back(std::move(c));
        }
        for (auto& ref : splice.found.cluster_refs) {
            w.result->cluster_refs.push_back(std::move(ref));
        }
        splice.found = {};  // walked once
    }

    // validate.required on a oneof: one of its fields must be set.
    static void check_required_oneofs(const pb::Message& m,
                                      const std::vector<const pb::OneofDescriptor*>& required,
                                      const Path& path, Walk& w) {
        const pb::Reflection* r = m.GetReflection();
        for (const pb::OneofDescriptor* o : required) {
            if (!r->HasOneof(m, o)) {
                std::string names;
                for (int k = 0; k < o->field_count(); ++k) {
                    names += (k ? ", " : "") + quote(o->field(k)->name());
                }
                w.ctx.add(path, "one of " + names + " is required (validate.required on oneof " +
                                    quote(o->name()) + ")");
            }
        }
    }

    // A count rule of a map (pairs) or a repeated field (items): `n` against
    // the bounds the rule sets, each named by its rule.
    static void check_count(int n, const std::optional<std::uint64_t>& min,
                            const std::optional<std::uint64_t>& max, const char* noun,
                            const char* min_rule, const char* max_rule, const Path& fpath,
                            Walk& w) {
        const auto count = static_cast<std::uint64_t>(n);
        if (min && count < *min) {
            w.ctx.add(fpath, "has " + std::to_string(n) + " " + noun + ", at least " +
                                 std::to_string(*min) + " required (validate.rules " + min_rule +
                                 ")");
        }
        if (max && count > *max) {
            w.ctx.add(fpath, "has " + std::to_string(n) + " " + noun + ", at most " +
                                 std::to_string(*max) + " allowed (validate.rules " + max_rule +
                                 ")");
        }
    }

    // A map field: its pair-count rules, then each message value by its key.
    void visit_map(const pb::Message& m, const pb::FieldDescriptor* f, const FieldRule* rule,
                   const Path& fpath, Walk& w) {
        const pb::Reflection* r = m.GetReflection();
        const int n = r->FieldSize(m, f);
        if (rule != nullptr) {
            check_count(n, rule->min_pairs, rule->max_pairs, "entries", "map.min_pairs",
                        "map.max_pairs", fpath, w);
        }
        const pb::FieldDescriptor* vf = f->message_type()->map_value();
        if (vf->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE) {
            return;
        }
        const pb::FieldDescriptor* kf = f->message_type()->map_key();
        for (int k = 0; k < n; ++k) {
            const pb::Message& entry = r->GetRepeatedMessage(m, f, k);
            std::string key;
            if (kf->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING) {
                key = entry.GetReflection()->GetString(entry, kf);
            } else {
                key = std::to_string(k);
            }
            visit(entry.GetReflection()->GetMessage(entry, vf), Path::entry(fpath, key), w);
        }
    }

    // A repeated field: its item-count rules, then each item.
    void visit_repeated(const pb::Message& m, const pb::FieldDescriptor* f, const FieldRule* rule,
                        const Path& fpath, Walk& w) {
        const int n = m.GetReflection()->FieldSize(m, f);
        if (rule != nullptr) {
            check_count(n, rule->min_items, rule->max_items, "items", "repeated.min_items",
                        "repeated.max_items", fpath, w);
        }
        const FieldRule* item_rule = rule != nullptr ? rule->items.get() : nullptr;
        if (item_rule != nullptr || f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
            for (int k = 0; k < n; ++k) {
                check_value(m, f, k, item_rule, Path::item(fpath, k), w);
            }
        }
    }

    // A singular field: its rules when set, required when not.
    void visit_singular(const pb::Message& m, const pb::FieldDescriptor* f, const FieldRule* rule,
                        const Path& fpath, Walk& w) {
        const bool is_message = f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE;
        const bool set =
            (is_message || f->has_presence()) ? m.GetReflection()->HasField(m, f) : true;
        if (set) {
            check_value(m, f, -1, rule, fpath, w);
            return;
        }
        // Rules on a oneof member (or proto3 optional) apply only when it is set.
        if (rule != nullptr && f->real_containing_oneof() == nullptr &&
            (rule->message_required || rule->value_required)) {
            w.ctx.add(fpath, "is required (validate.rules " +
                                 std::string(rule->message_required ? "message" : rule->kind) +
                                 ".required)");
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
    static void check_single_type(const DocTree& tree, const Ctx& ctx) {
        std::string first(tree.scalar(tree.find(0, {"type_url"})));
        const Node resources = tree.find(0, {"resources"});
        if (!tree.is_seq(resources)) {
            return;
        }
        std::size_t i = 0;
        for (const Node resource : tree.children(resources)) {
            const std::size_t index = i++;
            const Node t = tree.find(resource, {"@type"});
            if (!tree.is_scalar(t)) {
                continue;
            }
            const std::string type(tree[t].value);
            if (first.empty()) {
                first = type;
            } else if (type != first) {
                ctx.add(index_path("resources", index) + ".@type",
                        quote(type) + " differs from " + quote(first) +
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
        // The scanner's tree, or yaml-cpp's (with its errors) for what it refuses.
        DocTree tree;
        try {
            tree = crossover::envoy::read_doc_tree(content);  // the limits of every input document
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
        } else if (tree.find(0, {"resources"}) != DocTree::npos) {
            type = pool->FindMessageTypeByName(kDiscoveryResponse);
            const Node resources = tree.find(0, {"resources"});
            const Node type_url = tree.find(0, {"type_url"});
            bool v2 = tree.is_scalar(type_url) && v2_type(std::string(tree[type_url].value));
            for (const Node res :
                 tree.is_seq(resources) ? tree.children(resources) : tree.children(DocTree::npos)) {
                const Node t = tree.find(res, {"@type"});
                if (tree.is_scalar(t) && v2_type(std::string(tree[t].value))) {
                    v2 = true;
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
            check_single_type(tree, ctx);
        }
        // From the tree straight to the message, in one pass. On an arena:
        // the thousands of small messages of a large document are freed at
        // once.
        pb::Arena arena;
        pb::Message* msg = factory->GetPrototype(type)->New(&arena);
        const ForgetAnyContents forget{any_contents};
        if (const Node resources = tree.find(0, {"resources"});
            !is_bootstrap && tree.is_seq(resources)) {
            resources_read += tree.child_count(resources);
        }
        crossover::envoy::Problems problems(options.max_errors);
        // A RouteConfiguration's virtual hosts are read and walked one at a
        // time on an arena reset between them, so that a thousand virtual
        // hosts' messages are never alive together (the walk of the
        // RouteConfiguration splices in what they gave).
        crossover::envoy::YamlReader::ItemStream hosts;
        const HostStream streaming{
            *this, !is_bootstrap && content.find(kRouteConfiguration) != std::string::npos};
        if (streamed_hosts != nullptr) {
            hosts.field = streamed_hosts;
            hosts.next = [this](const pb::Message&) { return next_host(); };
            hosts.done = [this, &problems](const pb::Message& parent, const pb::Message& host, int,
                                           const Path& path) {
                host_read(parent, host, path, problems.empty());
            };
            reader->stream_items(&hosts);
        }
        reader->record_integer_sites(&result.numbers);
        reader->read(tree, 0, *msg, "", problems);
        reader->record_integer_sites(nullptr);
        reader->stream_items(nullptr);
        for (const auto& [path, problem] : problems.list()) {
            ctx.add(path, problem);
        }
        if (!result.errors.empty()) {
            return result;
        }
        Walk w{ctx, &result};
        visit(*msg, Path{}, w);
        keep_numbers(content, result);
        if (!is_bootstrap) {
            describe_resources(content, tree, result);
        }
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
        // A re-check appends the sites in order: sorting them again would only
        // take a temporary buffer of half their size.
        const auto by_offset = [](const auto& a, const auto& b) { return a.offset < b.offset; };
        if (!std::is_sorted(sites.begin(), sites.end(), by_offset)) {
            std::stable_sort(sites.begin(), sites.end(), by_offset);
        }
        // Shrunk only when much is spare: a re-check reserves the previous
        // count, and a copy to save a few sites would take new heap pages.
        if (sites.capacity() - sites.size() > sites.size() / 8) {
            sites.shrink_to_fit();
        }
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
        check_bounds(rule->bounds, v, rule->kind, Path{}, scratch);
        return found.empty();
    }

    // When `next` differs from the cached `content` of a valid document only
    // in integers the full check read, and each new number passes, moves the
    // cache to `next` and returns true. False: check `next` in full (which
    // then also words any error).
    bool recheck_numbers(const std::string& content, DocResult& result, const std::string& next) {
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
        if (result.layout) {
            move_spans(*result.layout, *changes);
        }
        return true;
    }

    // The resources' (and their virtual hosts') bounds after `changes` (digit
    // runs, never across a line start, where every bound is).
    static void move_spans(DocLayout& layout, const std::vector<IntegerChange>& changes) {
        std::size_t k = 0;
        std::ptrdiff_t shift = 0;
        auto moved = [&](std::size_t at) {
            while (k < changes.size() && changes[k].old_offset < at) {
                shift += static_cast<std::ptrdiff_t>(changes[k].new_length) -
                         static_cast<std::ptrdiff_t>(changes[k].old_length);
                ++k;
            }
            return static_cast<std::size_t>(static_cast<std::ptrdiff_t>(at) + shift);
        };
        for (std::size_t r = 0; r < layout.spans.items.size(); ++r) {
            ResourceSpan& span = layout.spans.items[r];
            const std::size_t was = span.begin;
            span.begin = moved(span.begin);
            if (auto& hosts = layout.facts[r].virtual_hosts) {
                if (hosts.use_count() > 1) {
                    hosts = std::make_shared<VirtualHostsLayout>(*hosts);
                }
                // Offsets from the resource's first byte, moved in order.
                hosts->spans.key_line = moved(was + hosts->spans.key_line) - span.begin;
                for (auto& host : hosts->spans.items) {
                    host.begin = moved(was + host.begin) - span.begin;
                    host.end = moved(was + host.end) - span.begin;
                }
            }
            span.end = moved(span.end);
        }
    }

    // ---- a change of some resources only ---------------------------------------

    // "resources[12].virtual_hosts[0]" -> (12, ".virtual_hosts[0]"); with
    // `prefix` ".virtual_hosts[", ".virtual_hosts[3].routes[0]" -> (3, ".routes[0]").
    static std::optional<std::pair<std::size_t, std::string_view>> resource_index(
        std::string_view path, std::string_view prefix = "resources[") {
        if (path.substr(0, prefix.size()) != prefix) {
            return std::nullopt;
        }
        const std::size_t close = path.find(']', prefix.size());
        std::size_t index = 0;
        const char* first = path.data() + prefix.size();
        const char* last = path.data() + (close == std::string_view::npos ? 0 : close);
        if (close == std::string_view::npos || std::from_chars(first, last, index).ptr != last) {
            return std::nullopt;
        }
        return std::make_pair(index, path.substr(close + 1));
    }

    // True when the first line of the tail that is not blank or a comment
    // starts with a key of the root map: no value of the last resource runs
    // on into the tail. The marks of `root` are offsets into a text in which
    // `content` starts at `mark_base`.
    static bool tail_starts_with_key(std::string_view content, std::size_t tail,
                                     const DocTree& tree, Node map, std::size_t mark_base = 0) {
        std::size_t p = tail;
        while (p < content.size()) {
            const std::size_t eol = std::min(content.find('\n', p), content.size());
            const std::size_t text = content.find_first_not_of(' ', p);
            if (text < eol && content[text] != '#' && content[text] != '\r') {
                for (Node k = map + 1, end = tree[map].next; k < end; k = tree[tree[k].next].next) {
                    if (tree[k].pos == mark_base + text) {
                        return true;
                    }
                }
                return false;
            }
            p = eol + 1;
        }
        return true;
    }

    // After a clean full check: where each resource lies and what it held,
    // when the layout the scan proposes is the one yaml-cpp read.
    void describe_resources(const std::string& content, const DocTree& tree, DocResult& result) {
        if (!result.errors.empty() || !tree.is_map(0) ||
            content.find('*') != std::string::npos) {  // an alias may refer across resources
            return;
        }
        auto spans = scan_resources(content);
        const Node resources = tree.find(0, {"resources"});
        if (!spans || !tree.is_seq(resources) ||
            tree.child_count(resources) != spans->items.size() ||
            !tail_starts_with_key(content, spans->tail_begin(), tree, 0)) {
            return;
        }
        DocLayout layout;
        layout.facts.resize(spans->items.size());
        std::size_t k = 0;
        for (const Node item : tree.children(resources)) {
            const ResourceSpan& span = spans->items[k];
            const std::size_t at = tree[item].pos;  // SIZE_MAX without a mark
            const Node type = tree.find(item, {"@type"});
            if (at < span.begin || at >= span.end || !tree.is_scalar(type)) {
                return;
            }
            layout.facts[k++].type = std::string(tree[type].value);
        }
        for (const auto& [path, name] : result.clusters) {
            const auto at = resource_index(path);
            if (!at || at->first >= layout.facts.size()) {
                return;
            }
            layout.facts[at->first].clusters.push_back(name);
        }
        for (const auto& [path, name] : result.cluster_refs) {
            const auto at = resource_index(path);
            if (!at || at->first >= layout.facts.size()) {
                return;
            }
            layout.facts[at->first].cluster_refs.emplace_back(std::string(at->second), name);
        }
        layout.type_url = std::string(tree.scalar(tree.find(0, {"type_url"})));
        k = 0;
        for (const Node item : tree.children(resources)) {
            const ResourceSpan& span = spans->items[k];
            describe_virtual_hosts(
                std::string_view(content).substr(span.begin, span.end - span.begin), span.begin,
                tree, item, layout.facts[k]);
            ++k;
        }
        layout.spans = std::move(*spans);
        result.layout = std::move(layout);
        // Held by the layout's facts from now on.
        result.clusters = {};
        result.cluster_refs = {};
    }

    // The name and domains of the virtual host `host` of a clean document,
    // from its tree (the values the message holds).
    static HostNames names_in_tree(const DocTree& tree, Node host) {
        HostNames out;
        out.name = std::string(tree.scalar(tree.find(host, {"name"})));
        const Node domains = tree.find(host, {"domains"});
        if (tree.is_seq(domains)) {
            for (const Node domain : tree.children(domains)) {
                out.domains.emplace_back(tree.scalar(domain));
            }
        }
        return out;
    }

    static bool is_route_configuration(const std::string& type_url) {
        return std::string_view(type_url).substr(type_url.rfind('/') + 1) == kRouteConfiguration;
    }

    // After a clean read of the RouteConfiguration `item` (whose text is
    // `text`; the marks of its nodes are offsets into a text in which `text`
    // starts at `mark_base`): where its virtual hosts lie and which clusters
    // each names, when the split the scan proposes is the one yaml-cpp read.
    static void describe_virtual_hosts(std::string_view text, std::size_t mark_base,
                                       const DocTree& tree, Node item, ResourceFacts& facts) {
        if (!is_route_configuration(facts.type) || !tree.is_map(item)) {
            return;
        }
        const auto key_column = item_key_column(text);
        auto spans = key_column ? scan_list(text, "virtual_hosts", *key_column) : std::nullopt;
        if (!spans) {
            return;
        }
        const auto at = [&](Node node) {
            const std::size_t pos = tree[node].pos;  // SIZE_MAX without a mark
            return pos == SIZE_MAX || pos < mark_base ? std::string_view::npos : pos - mark_base;
        };
        Node hosts = DocTree::npos;
        for (Node k = item + 1, end = tree[item].next; k < end; k = tree[tree[k].next].next) {
            if (at(k) == spans->key_line + *key_column) {
                if (!tree.is_scalar(k) || tree[k].value != "virtual_hosts") {
                    return;
                }
                hosts = tree[k].next;
            }
        }
        if (!tree.is_seq(hosts) || tree.child_count(hosts) != spans->items.size() ||
            !tail_starts_with_key(text, spans->tail_begin(), tree, item, mark_base)) {
            return;
        }
        std::size_t j = 0;
        for (const Node host : tree.children(hosts)) {
            const ResourceSpan& span = spans->items[j++];
            if (!tree.is_map(host) || at(host) < span.begin || at(host) >= span.end) {
                return;
            }
        }
        VirtualHostsLayout layout;
        layout.key_column = *key_column;
        layout.facts.resize(spans->items.size());
        for (const auto& [path, name] : facts.cluster_refs) {
            const auto host = resource_index(path, ".virtual_hosts[");
            if (!host || host->first >= layout.facts.size()) {
                return;  // a cluster named outside the virtual hosts
            }
            layout.facts[host->first].cluster_refs.emplace_back(std::string(host->second), name);
        }
        std::size_t k = 0;
        for (const Node host : tree.children(hosts)) {
            layout.facts[k++].names = names_in_tree(tree, host);
        }
        layout.spans = std::move(*spans);
        facts.cluster_refs.clear();
        facts.virtual_hosts = std::make_shared<VirtualHostsLayout>(std::move(layout));
    }

    // What encloses a resource (a virtual host) in its document, as the
    // splits require: a block map holding a block list (of block maps holding
    // a block list). An item read alone is read at the depth it has in its
    // document, since yaml-cpp refuses nodes nested too deep; the marks of its
    // nodes then count from the start of this text.
    static constexpr std::string_view kAroundResource = "r:\n";
    static constexpr std::string_view kAroundVirtualHost = "r:\n- v:\n";

    // `text`, one item of a list whose '-' is at `column`, enclosed by
    // `around`, read as YAML when it is a map that ends where its text does:
    // that map. An item is read with a next one after it, as in its
    // document, since yaml-cpp ends a quoted scalar left open at the end of
    // the text, where in the document it would run on into the next item.
    // The last item of a document that does not end in a line break is not
    // read alone (yaml-cpp may read its last line differently once one
    // follows).
    struct LoneItem {
        std::string text;  // what `tree` was read from
        DocTree tree;
        Node item = DocTree::npos;
    };
    static std::unique_ptr<LoneItem> lone_item(std::string_view around, const std::string& text,
                                               std::size_t column) {
        const bool in_host = around == kAroundVirtualHost;
        if (text.empty() || text.back() != '\n' || (in_host && column < 2)) {
            return nullptr;
        }
        auto out = std::make_unique<LoneItem>();
        std::string& followed = out->text;
        followed.assign(around).append(text).append(column, ' ').append("- next\n");
        try {
            out->tree = crossover::envoy::read_doc_tree(followed);
        } catch (const YAML::Exception&) {
            return nullptr;
        }
        const DocTree& tree = out->tree;
        // One entry "r", a list (of one map with one entry "v", a list).
        const auto lone_entry = [&](Node map, std::string_view key) {
            return tree.child_count(map) == 2 && tree.is_scalar(map + 1) &&
                           tree[map + 1].value == key && tree.is_seq(tree[map + 1].next)
                       ? tree[map + 1].next
                       : DocTree::npos;
        };
        Node list = tree.is_map(0) ? lone_entry(0, "r") : DocTree::npos;
        if (list != DocTree::npos && in_host) {
            list = tree.child_count(list) == 1 && tree.is_map(list + 1) ? lone_entry(list + 1, "v")
                                                                        : DocTree::npos;
        }
        if (list == DocTree::npos || tree.child_count(list) != 2) {
            return nullptr;
        }
        const Node first = list + 1;
        const Node second = tree[first].next;
        if (!tree.is_map(first) || !tree.is_scalar(second) || tree[second].value != "next") {
            return nullptr;
        }
        out->item = first;
        return out;
    }

    // Integer sites found in an item read by lone_item, moved to offsets
    // into the item's text.
    static void sites_in_item(std::string_view around,
                              const std::vector<crossover::envoy::IntegerSite>& found,
                              std::vector<crossover::envoy::IntegerSite>& sites) {
        for (const auto& site : found) {
            sites.push_back(site);
            sites.back().offset -= around.size();
        }
    }

    // Reads node `node` of `tree` as element 0 of the repeated message field `field` of a
    // `type` message, and walks it, as the full check reads and walks each
    // element at `path` (`rule`: the field's rules). Its integer sites go to
    // `sites`, what the walk found to `scratch`. False when either found a
    // problem.
    bool read_element(const pb::Descriptor* type, const pb::FieldDescriptor* field,
                      const FieldRule* rule, const DocTree& tree, Node node,
                      const std::string& path, std::vector<crossover::envoy::IntegerSite>& sites,
                      DocResult& scratch) {
        std::unique_ptr<pb::Message> holder(factory->GetPrototype(type)->New());
        pb::Message* element = holder->GetReflection()->AddMessage(holder.get(), field, factory);
        const ForgetAnyContents forget{any_contents};
        crossover::envoy::Problems problems(options.max_errors);
        reader->record_integer_sites(&sites);
        const bool read = reader->read(tree, node, *element, path, problems);
        reader->record_integer_sites(nullptr);
        if (!read) {
            return false;
        }
        Walk w{Ctx{&scratch.errors, options.max_errors}, &scratch};
        check_value(*holder, field, 0, rule != nullptr ? rule->items.get() : nullptr,
                    Path::root(path), w);
        return scratch.errors.empty();
    }

    // Reads and checks the resource `text` (one "- ..." item, alone, its '-'
    // at `column`) as the full check reads resources[index]. Its integer
    // sites are appended with offsets into `text`. Nullopt when anything is
    // wrong or unusual: the caller then checks the document in full, which
    // words the errors.
    std::optional<ResourceFacts> read_resource(const std::string& text, std::size_t column,
                                               std::size_t index,
                                               std::vector<crossover::envoy::IntegerSite>& sites) {
        const std::unique_ptr<LoneItem> lone = lone_item(kAroundResource, text, column);
        if (!lone) {
            return std::nullopt;
        }
        const DocTree& tree = lone->tree;
        const Node item = lone->item;
        const Node type = tree.find(item, {"@type"});
        if (!tree.is_scalar(type) || v2_type(std::string(tree[type].value))) {
            return std::nullopt;
        }
        const pb::Descriptor* response = pool->FindMessageTypeByName(kDiscoveryResponse);
        const pb::FieldDescriptor* field = response->FindFieldByName("resources");
        const FieldRule* rule = is_disabled(response) ? nullptr : rule_for(field);
        if (rule != nullptr && (rule->min_items || rule->max_items)) {
            return std::nullopt;  // the count matters: leave it to the full check
        }
        ++resources_read;
        const std::string path = index_path("resources", index);
        std::vector<crossover::envoy::IntegerSite> found;
        DocResult scratch;
        if (!read_element(response, field, rule, tree, item, path, found, scratch)) {
            return std::nullopt;
        }
        ResourceFacts facts;
        facts.type = std::string(tree[type].value);
        for (auto& [cluster_path, name] : scratch.clusters) {
            facts.clusters.push_back(std::move(name));
        }
        for (auto& [ref_path, name] : scratch.cluster_refs) {
            facts.cluster_refs.emplace_back(ref_path.substr(path.size()), std::move(name));
        }
        describe_virtual_hosts(text, kAroundResource.size(), tree, item, facts);
        sites_in_item(kAroundResource, found, sites);
        return facts;
    }

    // Reads and checks the virtual host `text` (one "- ..." item, alone, its
    // '-' at `column`) as the full check reads
    // resources[index].virtual_hosts[host] of a RouteConfiguration. Its
    // integer sites are appended with offsets into `text`. Nullopt when
    // anything is wrong or unusual: the caller then reads more (at last the
    // whole document), which words the errors.
    std::optional<VirtualHostFacts> read_virtual_host(
        const std::string& text, std::size_t column, std::size_t index, std::size_t host,
        std::vector<crossover::envoy::IntegerSite>& sites) {
        const std::unique_ptr<LoneItem> item = lone_item(kAroundVirtualHost, text, column);
        if (!item) {
            return std::nullopt;
        }
        const pb::Descriptor* type = resolve(kRouteConfiguration);
        const pb::FieldDescriptor* field =
            type == nullptr ? nullptr : type->FindFieldByName("virtual_hosts");
        if (field == nullptr || !field->is_repeated() ||
            field->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE) {
            return std::nullopt;
        }
        const FieldRule* rule = is_disabled(type) ? nullptr : rule_for(field);
        if (rule != nullptr && (rule->min_items || rule->max_items)) {
            return std::nullopt;  // the count matters: leave it to a full read
        }
        ++virtual_hosts_read;
        const std::string path =
            index_path(index_path("resources", index) + ".virtual_hosts", host);
        std::vector<crossover::envoy::IntegerSite> found;
        DocResult scratch;
        if (!read_element(type, field, rule, item->tree, item->item, path, found, scratch) ||
            !scratch.clusters.empty()) {
            return std::nullopt;
        }
        VirtualHostFacts facts;
        for (auto& [ref_path, name] : scratch.cluster_refs) {
            facts.cluster_refs.emplace_back(ref_path.substr(path.size()), std::move(name));
        }
        facts.names = names_in_tree(item->tree, item->item);
        sites_in_item(kAroundVirtualHost, found, sites);
        return facts;
    }

    // The sites from the first at or after `offset` (sorted by offset).
    static std::vector<crossover::envoy::IntegerSite>::const_iterator sites_from(
        const std::vector<crossover::envoy::IntegerSite>& sites, std::size_t offset) {
        return std::lower_bound(
            sites.begin(), sites.end(), offset,
            [](const crossover::envoy::IntegerSite& n, std::size_t at) { return n.offset < at; });
    }

    // Appends the sites in [from, to) of the old text, moved so that `from`
    // lands at `at` in the new one.
    static void move_sites(const std::vector<crossover::envoy::IntegerSite>& sites,
                           std::size_t from, std::size_t to, std::size_t at,
                           std::vector<crossover::envoy::IntegerSite>& out) {
        for (auto n = sites_from(sites, from); n != sites.end() && n->offset < to; ++n) {
            out.push_back(*n);
            out.back().offset = n->offset - from + at;
        }
    }

    // When the resource at `span` of `after` differs from the
    // RouteConfiguration `old` at `was` of `before` (checked clean, its
    // integer sites `sites`) only in some of its virtual hosts: reads only
    // those, each on its own, and returns the resource's facts, its integer
    // sites appended to `numbers` (offsets into `after`). Nullopt: read the
    // resource as a whole.
    std::optional<ResourceFacts> recheck_virtual_hosts(
        std::string_view before, const ResourceSpan& was, const ResourceFacts& old,
        std::string_view after, const ResourceSpan& span, std::size_t index,
        const std::vector<crossover::envoy::IntegerSite>& sites,
        std::vector<crossover::envoy::IntegerSite>& numbers) {
        const VirtualHostsLayout& hosts = *old.virtual_hosts;
        const std::string_view old_text = before.substr(was.begin, was.end - was.begin);
        const std::string_view new_text = after.substr(span.begin, span.end - span.begin);
        auto spans = scan_list(new_text, "virtual_hosts", hosts.key_column);
        // Its other fields, before and after the list, must be as they were.
        if (!spans ||
            old_text.substr(0, hosts.spans.head_end()) != new_text.substr(0, spans->head_end()) ||
            old_text.substr(hosts.spans.tail_begin()) != new_text.substr(spans->tail_begin())) {
            return std::nullopt;
        }
        std::unordered_map<std::string_view, std::size_t> known;
        known.reserve(hosts.spans.items.size());
        for (std::size_t j = 0; j < hosts.spans.items.size(); ++j) {
            const ResourceSpan& host = hosts.spans.items[j];
            known.emplace(old_text.substr(host.begin, host.end - host.begin), j);
        }
        const std::size_t from = numbers.size();
        move_sites(sites, was.begin, was.begin + hosts.spans.head_end(), span.begin, numbers);
        VirtualHostsLayout layout;
        layout.key_column = hosts.key_column;
        layout.facts.reserve(spans->items.size());
        for (std::size_t j = 0; j < spans->items.size(); ++j) {
            const ResourceSpan& host = spans->items[j];
            const std::string_view text = new_text.substr(host.begin, host.end - host.begin);
            if (const auto it = known.find(text); it != known.end()) {
                const ResourceSpan& host_was = hosts.spans.items[it->second];
                layout.facts.push_back(hosts.facts[it->second]);
                move_sites(sites, was.begin + host_was.begin, was.begin + host_was.end,
                           span.begin + host.begin, numbers);
                continue;
            }
            const std::size_t first = numbers.size();
            auto read = read_virtual_host(std::string(text), spans->column, index, j, numbers);
            if (!read) {
                numbers.resize(from);
                return std::nullopt;
            }
            for (std::size_t i = first; i < numbers.size(); ++i) {
                numbers[i].offset += span.begin + host.begin;
            }
            layout.facts.push_back(std::move(*read));
        }
        std::vector<const HostNames*> names;
        names.reserve(layout.facts.size());
        for (const VirtualHostFacts& host : layout.facts) {
            names.push_back(&host.names);
        }
        if (first_duplicate_host(names)) {
            numbers.resize(from);
            return std::nullopt;  // the full check words it
        }
        move_sites(sites, was.begin + hosts.spans.tail_begin(), was.end,
                   span.begin + spans->tail_begin(), numbers);
        layout.spans = std::move(*spans);
        ResourceFacts facts;
        facts.type = old.type;
        facts.clusters = old.clusters;
        facts.virtual_hosts = std::make_shared<VirtualHostsLayout>(std::move(layout));
        return facts;
    }

    // The document's own fields (its head and tail, without the resources),
    // read and checked as the full check reads them.
    struct Frame {
        std::string type_url;
        std::vector<crossover::envoy::IntegerSite> sites;  // offsets into the document
    };
    std::optional<Frame> read_frame(std::string_view text, const ResourceLayout& spans) {
        const std::size_t head = spans.head_end();
        const std::size_t tail = spans.tail_begin();
        std::string frame;
        frame.reserve(head + text.size() - tail);
        frame.append(text.substr(0, head)).append(text.substr(tail));
        DocTree tree;
        try {
            tree = crossover::envoy::read_doc_tree(frame);
        } catch (const YAML::Exception&) {
            return std::nullopt;
        }
        const Node resources = tree.find(0, {"resources"});
        if (resources == DocTree::npos || tree[resources].kind != xds::DocKind::Null) {
            return std::nullopt;
        }
        Frame out;
        if (const Node type_url = tree.find(0, {"type_url"}); tree.is_scalar(type_url)) {
            out.type_url = std::string(tree[type_url].value);
            if (v2_type(out.type_url)) {
                return std::nullopt;
            }
        }
        const pb::Descriptor* type = pool->FindMessageTypeByName(kDiscoveryResponse);
        std::unique_ptr<pb::Message> msg(factory->GetPrototype(type)->New());
        const ForgetAnyContents forget{any_contents};
        crossover::envoy::Problems problems(options.max_errors);
        reader->record_integer_sites(&out.sites);
        const bool read = reader->read(tree, 0, *msg, "", problems);
        reader->record_integer_sites(nullptr);
        if (!read) {
            return std::nullopt;
        }
        DocResult scratch;
        Walk w{Ctx{&scratch.errors, options.max_errors}, &scratch};
        visit(*msg, Path{}, w);
        if (!scratch.errors.empty() || !scratch.clusters.empty() || !scratch.cluster_refs.empty()) {
            return std::nullopt;
        }
        for (auto& site : out.sites) {
            if (site.offset >= head) {
                site.offset += tail - head;
            }
        }
        return out;
    }

    // When `next` differs from the cached `content` of a valid document only
    // in whole resources and in its own fields (version_info, say), reads
    // only the resources whose bytes are new (and the document's own fields
    // when they changed), moves the cache to `next` and returns true. False:
    // check `next` in full (which then words any error).
    bool recheck_resources(const std::string& content, DocResult& result, const std::string& next) {
        if (!result.layout || !result.errors.empty() || !result.checked || result.v2 ||
            next.find('*') != std::string::npos) {
            return false;
        }
        const DocLayout& old = *result.layout;
        auto spans = scan_resources(next);
        if (!spans) {
            return false;
        }
        const std::string_view before(content);
        const std::string_view after(next);
        const std::size_t old_tail = old.spans.tail_begin();
        const std::size_t new_tail = spans->tail_begin();
        const auto& sites = result.numbers;
        // The document's own fields: as before, or read again.
        std::string type_url = old.type_url;
        std::vector<crossover::envoy::IntegerSite> head_sites;
        std::vector<crossover::envoy::IntegerSite> tail_sites;
        if (before.substr(0, old.spans.head_end()) == after.substr(0, spans->head_end()) &&
            before.substr(old_tail) == after.substr(new_tail)) {
            head_sites.assign(sites.begin(), sites_from(sites, old.spans.head_end()));
            move_sites(sites, old_tail, before.size(), new_tail, tail_sites);
        } else {
            auto frame = read_frame(after, *spans);
            if (!frame) {
                return false;
            }
            type_url = std::move(frame->type_url);
            for (const auto& site : frame->sites) {
                (site.offset < new_tail ? head_sites : tail_sites).push_back(site);
            }
        }
        std::unordered_map<std::string_view, std::size_t> known;
        known.reserve(old.spans.items.size());
        for (std::size_t k = 0; k < old.spans.items.size(); ++k) {
            const ResourceSpan& span = old.spans.items[k];
            known.emplace(before.substr(span.begin, span.end - span.begin), k);
        }
        DocLayout layout;
        layout.type_url = type_url;
        DocResult fresh;
        fresh.checked = true;
        fresh.numbers = std::move(head_sites);
        // Mostly the same sites again: sized once instead of grown by doubling,
        // each step a freed block that stays resident until the next trim.
        fresh.numbers.reserve(sites.size());
        for (std::size_t k = 0; k < spans->items.size(); ++k) {
            const ResourceSpan& span = spans->items[k];
            const std::string_view text = after.substr(span.begin, span.end - span.begin);
            ResourceFacts facts;
            if (const auto it = known.find(text); it != known.end()) {
                const ResourceSpan& was = old.spans.items[it->second];
                facts = old.facts[it->second];
                move_sites(sites, was.begin, was.end, span.begin, fresh.numbers);
            } else if (auto hosts =
                           k < old.facts.size() && old.facts[k].virtual_hosts
                               ? recheck_virtual_hosts(before, old.spans.items[k], old.facts[k],
                                                       after, span, k, sites, fresh.numbers)
                               : std::nullopt) {
                facts = std::move(*hosts);  // the same RouteConfiguration, some virtual hosts new
            } else {
                const std::size_t from = fresh.numbers.size();
                auto read = read_resource(std::string(text), spans->column, k, fresh.numbers);
                if (!read) {
                    return false;
                }
                facts = std::move(*read);
                for (std::size_t i = from; i < fresh.numbers.size(); ++i) {
                    fresh.numbers[i].offset += span.begin;
                }
            }
            // One document, one type (else the full check words the error).
            const std::string& first = !type_url.empty()      ? type_url
                                       : layout.facts.empty() ? facts.type
                                                              : layout.facts[0].type;
            if (facts.type != first) {
                return false;
            }
            layout.facts.push_back(std::move(facts));
        }
        fresh.numbers.insert(fresh.numbers.end(), tail_sites.begin(), tail_sites.end());
        layout.spans = std::move(*spans);
        fresh.layout = std::move(layout);
        keep_numbers(next, fresh);
        result = std::move(fresh);
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

std::size_t Validator::resources_read() const {
    return impl_->resources_read;
}

std::size_t Validator::virtual_hosts_read() const {
    return impl_->virtual_hosts_read;
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
    std::map<std::string, std::pair<std::shared_ptr<const std::string>, DocResult>> next_cache;
    std::vector<std::pair<const DocumentView*, const DocResult*>> results;
    results.reserve(documents.size());
    for (const auto& doc : documents) {
        // The text kept for the next run: the caller's own, or a copy.
        auto kept = [&doc] {
            return doc.shared_content ? doc.shared_content
                                      : std::make_shared<const std::string>(*doc.content);
        };
        auto it = s.cache.find(*doc.name);
        if (it != s.cache.end() && *it->second.first == *doc.content) {
            if (doc.shared_content) {  // the same text: keep the caller's, drop the old one
                it->second.first = doc.shared_content;
            }
            next_cache.insert(s.cache.extract(it));
        } else if (it != s.cache.end() &&
                   (s.recheck_numbers(*it->second.first, it->second.second, *doc.content) ||
                    s.recheck_resources(*it->second.first, it->second.second, *doc.content))) {
            it->second.first = kept();
            next_cache.insert(s.cache.extract(it));
        } else {
            next_cache[*doc.name] = {kept(), s.check_document(*doc.name, *doc.content)};
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
        for_each_cluster(r, [&](const std::string& name) {
            defined.insert(name);
            any_cluster = true;
        });
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
        for (const auto& entry : results) {
            const DocumentView* doc = entry.first;
            for_each_cluster_ref(*entry.second, [&](const auto& path, const std::string& cluster) {
                if (defined.count(cluster) == 0) {
                    add(*doc->name + ": " + path() + ": cluster " + quote(cluster) +
                        " is not defined by any Cluster in this pipeline's output" + where(*doc));
                }
            });
        }
    }
    if (total > errors.size()) {
        errors.push_back("... and more (only the first " + std::to_string(errors.size()) +
                         " errors are shown)");
    }
    return errors;
}

}  // namespace crossover::envoy_validate
