// Reading and editing Envoy xDS documents (file-based DiscoveryResponse YAML
// or JSON) in a plugin, and the table of Envoy's resource types. Part of
// common_envoy, header-only and free of protobuf: link the CMake target
// crossover::envoy_xds (installed with the SDK) and include
// "crossover_envoy/xds.h".
//
//   if (!xds::may_contain(doc->content, xds::ResourceKind::RouteConfiguration)) {
//       out->documents.push_back(doc);           // pass through untouched
//       continue;
//   }
//   auto parsed = xds::XdsDocument::parse(*doc); // a fresh tree: safe to edit
//   xds::for_each_weighted_cluster(parsed, [&](xds::WeightedClusterRef& c) {
//       if (c.name == "podinfo-canary") {
//           xds::set_header(parsed, c, "request_headers_to_add", "x-canary", "true");
//       }
//   });
//   out->documents.push_back(parsed.to_document());
//
// Resources are recognised by their "@type", in both the v3 names
// (envoy.config.route.v3.RouteConfiguration) and the legacy v2 ones
// (envoy.api.v2.RouteConfiguration). Walkers hand each element to a callback
// together with its path ("resources[0].virtual_hosts[1].routes[0]") so that
// errors can say where they are (XdsDocument::error).
//
// Emitting is deterministic: the same tree always gives the same bytes. Map
// keys keep their order, flow/block style is kept, and scalars that were
// quoted in the source stay quoted (Envoy reads `value: "123"` as a string
// but `value: 123` as a number). A scalar created in memory is written plain
// when it can be: create strings that must stay strings with xds::quoted().
// Comments and anchors are not kept; a plugin that must keep the user's text
// byte for byte has to splice it instead (yaml-cpp records each node's byte
// offset in Node::Mark().pos).
//
// Parsing and emitting cost about 0.5 ms per KB: parse only documents that
// may hold what you edit (may_contain) and pass the others through as the
// same DocumentPtr, so sinks see no change.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <yaml-cpp/yaml.h>

#include "crossover/errors.h"
#include "crossover/json.h"
#include "crossover/snapshot.h"
#include "crossover/status.h"
#include "crossover/yaml_load.h"

namespace crossover::xds {

// ---- resource types --------------------------------------------------------

enum class ResourceKind {
    Unknown,
    Listener,
    RouteConfiguration,
    ScopedRouteConfiguration,
    VirtualHost,
    Cluster,
    ClusterLoadAssignment,
    Secret,
    Runtime,
};

struct TypeInfo {
    ResourceKind kind = ResourceKind::Unknown;
    bool v2 = false;  // a legacy envoy.api.v2 name
};

inline constexpr std::string_view kTypeUrlPrefix = "type.googleapis.com/";

namespace detail {

struct TypeEntry {
    std::string_view url;  // "type.googleapis.com/envoy.config.listener.v3.Listener"
    ResourceKind kind;
    bool v2;
    constexpr std::string_view name() const noexcept { return url.substr(kTypeUrlPrefix.size()); }
};

// The one table of Envoy's resource types: every plugin that sorts, serves or
// edits resources by type reads it.
inline constexpr std::array<TypeEntry, 15> kTypes{{
    {"type.googleapis.com/envoy.config.listener.v3.Listener", ResourceKind::Listener, false},
    {"type.googleapis.com/envoy.api.v2.Listener", ResourceKind::Listener, true},
    {"type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
     ResourceKind::RouteConfiguration, false},
    {"type.googleapis.com/envoy.api.v2.RouteConfiguration", ResourceKind::RouteConfiguration, true},
    {"type.googleapis.com/envoy.config.route.v3.ScopedRouteConfiguration",
     ResourceKind::ScopedRouteConfiguration, false},
    {"type.googleapis.com/envoy.api.v2.ScopedRouteConfiguration",
     ResourceKind::ScopedRouteConfiguration, true},
    {"type.googleapis.com/envoy.config.route.v3.VirtualHost", ResourceKind::VirtualHost, false},
    {"type.googleapis.com/envoy.api.v2.route.VirtualHost", ResourceKind::VirtualHost, true},
    {"type.googleapis.com/envoy.config.cluster.v3.Cluster", ResourceKind::Cluster, false},
    {"type.googleapis.com/envoy.api.v2.Cluster", ResourceKind::Cluster, true},
    {"type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
     ResourceKind::ClusterLoadAssignment, false},
    {"type.googleapis.com/envoy.api.v2.ClusterLoadAssignment", ResourceKind::ClusterLoadAssignment,
     true},
    {"type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", ResourceKind::Secret,
     false},
    {"type.googleapis.com/envoy.api.v2.auth.Secret", ResourceKind::Secret, true},
    {"type.googleapis.com/envoy.service.runtime.v3.Runtime", ResourceKind::Runtime, false},
}};

}  // namespace detail

// "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
//   -> "envoy.config.route.v3.RouteConfiguration"
constexpr std::string_view type_name(std::string_view type_url) noexcept {
    const auto slash = type_url.rfind('/');
    return slash == std::string_view::npos ? type_url : type_url.substr(slash + 1);
}

// A type URL or a bare type name -> its kind and whether it is a v2 name.
constexpr TypeInfo type_info(std::string_view type_url) noexcept {
    const std::string_view name = type_name(type_url);
    for (const auto& t : detail::kTypes) {
        if (t.name() == name) {
            return TypeInfo{t.kind, t.v2};
        }
    }
    return TypeInfo{};
}

// The type URL of a kind as a constant: "type.googleapis.com/envoy.config.cluster.v3.Cluster".
// Empty for Unknown and for kinds that have no v2 name when v2 is asked.
constexpr std::string_view type_url_view(ResourceKind kind, bool v2 = false) noexcept {
    for (const auto& t : detail::kTypes) {
        if (t.kind == kind && t.v2 == v2) {
            return t.url;
        }
    }
    return {};
}

inline const char* kind_name(ResourceKind kind) noexcept {
    switch (kind) {
        case ResourceKind::Listener: return "Listener";
        case ResourceKind::RouteConfiguration: return "RouteConfiguration";
        case ResourceKind::ScopedRouteConfiguration: return "ScopedRouteConfiguration";
        case ResourceKind::VirtualHost: return "VirtualHost";
        case ResourceKind::Cluster: return "Cluster";
        case ResourceKind::ClusterLoadAssignment: return "ClusterLoadAssignment";
        case ResourceKind::Secret: return "Secret";
        case ResourceKind::Runtime: return "Runtime";
        case ResourceKind::Unknown: break;
    }
    return "unknown";
}

// The same as a string.
inline std::string type_url(ResourceKind kind, bool v2 = false) {
    return std::string(type_url_view(kind, v2));
}

// Cheap test on the text, before parsing: can it hold a resource of `kind`?
// False only when no type name of that kind appears anywhere in it.
inline bool may_contain(std::string_view content, ResourceKind kind) noexcept {
    for (const auto& t : detail::kTypes) {
        if (t.kind == kind && content.find(t.name()) != std::string_view::npos) {
            return true;
        }
    }
    return false;
}

// ---- scalars -----------------------------------------------------------------

// A string scalar that is always written quoted (tag "!", the tag yaml-cpp
// gives quoted scalars when parsing), so Envoy never reads it as a number or
// a boolean.
inline YAML::Node quoted(const std::string& text) {
    YAML::Node node(text);
    node.SetTag("!");
    return node;
}

// True when the scalar was quoted in the source or made with quoted().
inline bool is_quoted(const YAML::Node& node) {
    return node.IsScalar() && (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str");
}

// ---- the document ------------------------------------------------------------

// A parsed DiscoveryResponse: {version_info, resources: [...]}. Owns a fresh
// tree, so editing it never touches a published snapshot.
class XdsDocument {
public:
    // Parses a document. Throws crossover::Error naming the document (and
    // the line and column of a syntax error) when the text is not YAML/JSON,
    // the root is not a map, or `resources` is not a list.
    static XdsDocument parse(const Document& document) {
        XdsDocument out;
        out.meta_.name = document.name;
        out.meta_.origin = document.origin;
        try {
            out.root_ = load_yaml(document.content);
        } catch (const YAML::Exception& e) {
            std::string where;
            if (e.mark.line >= 0) {
                where = "line " + std::to_string(e.mark.line + 1) + ", column " +
                        std::to_string(e.mark.column + 1);
            }
            throw out.error(where, "invalid YAML: " + e.msg);
        }
        if (!out.root_.IsMap()) {
            throw out.error("", "expected a DiscoveryResponse (a map with 'resources'), got " +
                                    yaml_type_name(out.root_));
        }
        const YAML::Node resources = std::as_const(out.root_)["resources"];
        if (resources && !resources.IsNull() && !resources.IsSequence()) {
            throw out.error("resources", "expected a list, got " + yaml_type_name(resources));
        }
        return out;
    }

    [[nodiscard]] const std::string& name() const noexcept { return meta_.name; }
    [[nodiscard]] const ObjectRef& origin() const noexcept { return meta_.origin; }
    [[nodiscard]] YAML::Node& root() noexcept { return root_; }
    [[nodiscard]] const YAML::Node& root() const noexcept { return root_; }

    // The `resources` list (an empty node when the document has none).
    [[nodiscard]] YAML::Node resources() const {
        const YAML::Node r = std::as_const(root_)["resources"];
        return r && r.IsSequence() ? r : YAML::Node(YAML::NodeType::Sequence);
    }

    // "document rds.yaml (ConfigMap test/envoy-xds)"
    [[nodiscard]] std::string describe() const { return crossover::describe(meta_); }

    // An Error about `path` in this document:
    //   document rds.yaml (ConfigMap test/envoy-xds): resources[0].virtual_hosts: <problem>
    [[nodiscard]] Error error(std::string_view path, std::string_view problem) const {
        return error_at(meta_, path, problem);
    }

    // The document's text, written back deterministically (see emit()).
    [[nodiscard]] std::string emit() const;

    // A new Document with this document's name and origin and the emitted text.
    [[nodiscard]] DocumentPtr to_document() const {
        auto doc = std::make_shared<Document>(meta_);
        doc->content = emit();
        return doc;
    }

private:
    Document meta_;  // name and origin; no content
    YAML::Node root_;
};

// ---- walking -------------------------------------------------------------------

// One entry of `resources`.
struct Resource {
    std::size_t index = 0;
    std::string type_url;  // the "@type" as written
    TypeInfo type;
    std::string name;  // `name` (`cluster_name` for a ClusterLoadAssignment), may be empty
    YAML::Node node;   // the resource's map: edits go into the document
    YamlPath path;     // "resources[3]"
};

struct VirtualHostRef {
    const Resource* route_config = nullptr;
    std::size_t index = 0;
    std::string name;
    YAML::Node node;
    YamlPath path;  // "resources[0].virtual_hosts[1]"
};

struct RouteRef {
    const VirtualHostRef* virtual_host = nullptr;
    std::size_t index = 0;
    std::string name;  // the route's `name`, often empty
    YAML::Node node;
    YamlPath path;  // "resources[0].virtual_hosts[1].routes[0]"
};

struct WeightedClusterRef {
    const RouteRef* route = nullptr;
    std::size_t index = 0;
    std::string name;
    YAML::Node node;
    YamlPath path;  // "...routes[0].route.weighted_clusters.clusters[1]"
};

namespace detail {

inline std::string scalar_or_empty(const YAML::Node& map, const char* key) {
    const YAML::Node v = map[key];
    return v && v.IsScalar() ? v.Scalar() : std::string();
}

// The list at map[key]: absent or null gives an empty list; anything else
// that is not a list is an error naming its path.
inline YAML::Node list_at(const XdsDocument& doc, const YAML::Node& map, const char* key,
                          const YamlPath& path) {
    const YAML::Node v = map[key];
    if (!v || v.IsNull()) {
        return YAML::Node(YAML::NodeType::Sequence);
    }
    if (!v.IsSequence()) {
        throw doc.error(path.key(key), "expected a list, got " + yaml_type_name(v));
    }
    return v;
}

inline void expect_map(const XdsDocument& doc, const YAML::Node& node, const YamlPath& path) {
    if (!node.IsMap()) {
        throw doc.error(path, "expected a map, got " + yaml_type_name(node));
    }
}

}  // namespace detail

// Calls f(Resource&) for every resource, in order. A resource that is not a
// map is an error; one without "@type" has type kind Unknown.
template <typename F>
void for_each_resource(const XdsDocument& doc, F&& f) {
    const YAML::Node list = doc.resources();
    std::size_t i = 0;
    for (auto it = list.begin(); it != list.end(); ++it, ++i) {
        Resource r;
        r.index = i;
        r.node = static_cast<const YAML::Node&>(*it);
        r.path = YamlPath("resources").index(i);
        detail::expect_map(doc, r.node, r.path);
        const YAML::Node& cnode = r.node;
        r.type_url = detail::scalar_or_empty(cnode, "@type");
        r.type = type_info(r.type_url);
        r.name = detail::scalar_or_empty(
            cnode, r.type.kind == ResourceKind::ClusterLoadAssignment ? "cluster_name" : "name");
        f(r);
    }
}

// Calls f(Resource&) for every resource of one kind (v3 and v2 names).
template <typename F>
void for_each_resource(const XdsDocument& doc, ResourceKind kind, F&& f) {
    for_each_resource(doc, [&](Resource& r) {
        if (r.type.kind == kind) {
            f(r);
        }
    });
}

namespace detail {

// Visits the maps of the list at parent[key] as Ref{parent, index, name, node, path}.
template <typename Ref, typename Parent, typename F>
void for_each_child(const XdsDocument& doc, const YAML::Node& map, const YamlPath& map_path,
                    const char* key, const Parent* parent, const Parent* Ref::*parent_member,
                    F&& f) {
    const YAML::Node list = list_at(doc, map, key, map_path);
    const YamlPath base = map_path.key(key);
    std::size_t i = 0;
    for (auto it = list.begin(); it != list.end(); ++it, ++i) {
        Ref ref;
        ref.*parent_member = parent;
        ref.index = i;
        ref.node = static_cast<const YAML::Node&>(*it);
        ref.path = base.index(i);
        expect_map(doc, ref.node, ref.path);
        ref.name = scalar_or_empty(ref.node, "name");
        f(ref);
    }
}

}  // namespace detail

// Calls f(VirtualHostRef&) for every virtual host of every RouteConfiguration.
template <typename F>
void for_each_virtual_host(const XdsDocument& doc, F&& f) {
    for_each_resource(doc, ResourceKind::RouteConfiguration, [&](Resource& rc) {
        detail::for_each_child(doc, rc.node, rc.path, "virtual_hosts", &rc,
                               &VirtualHostRef::route_config, f);
    });
}

// Calls f(RouteRef&) for every route of every virtual host.
template <typename F>
void for_each_route(const XdsDocument& doc, F&& f) {
    for_each_virtual_host(doc, [&](VirtualHostRef& vh) {
        detail::for_each_child(doc, vh.node, vh.path, "routes", &vh, &RouteRef::virtual_host, f);
    });
}

// Calls f(WeightedClusterRef&) for every cluster of every route's
// route.weighted_clusters.clusters.
template <typename F>
void for_each_weighted_cluster(const XdsDocument& doc, F&& f) {
    for_each_route(doc, [&](RouteRef& r) {
        const YAML::Node action = std::as_const(r.node)["route"];
        if (!action || !action.IsMap()) {
            return;
        }
        const YAML::Node weighted = action["weighted_clusters"];
        if (!weighted || weighted.IsNull()) {
            return;
        }
        const YamlPath weighted_path = r.path.key("route").key("weighted_clusters");
        detail::expect_map(doc, weighted, weighted_path);
        detail::for_each_child(doc, weighted, weighted_path, "clusters", &r,
                               &WeightedClusterRef::route, f);
    });
}

// The `weight` of a weighted cluster (a UInt32Value: written as a number or,
// in JSON style, a string). nullopt when absent; an Error naming the path
// when it is not an integer from 0 to 4294967295.
inline std::optional<std::uint32_t> weight(const XdsDocument& doc, const WeightedClusterRef& c) {
    const YAML::Node w = std::as_const(c.node)["weight"];
    if (!w || w.IsNull()) {
        return std::nullopt;
    }
    const std::string text = w.IsScalar() ? w.Scalar() : std::string();
    bool ok = !text.empty() && text.size() <= 10;
    std::uint64_t value = 0;
    for (const char ch : text) {
        if (ch < '0' || ch > '9') {
            ok = false;
            break;
        }
        value = value * 10 + static_cast<std::uint64_t>(ch - '0');
    }
    if (!ok || value > 0xffffffffULL) {
        throw doc.error(c.path.key("weight"),
                        "expected an integer from 0 to 4294967295, got " +
                            (w.IsScalar() ? "'" + text + "'" : yaml_type_name(w)));
    }
    return static_cast<std::uint32_t>(value);
}

// Header names compare without regard to ASCII case.
inline bool same_header_name(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto lower = [](char ch) {
            return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch - 'A' + 'a') : ch;
        };
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

// Sets header `key` in the HeaderValueOption list `field`
// ("request_headers_to_add", "response_headers_to_add") of a virtual host,
// route or weighted cluster: an entry with the same header name gets the
// new value in place, otherwise `header: {key: "K", value: "V"}` is appended
// (both quoted: Envoy must read them as strings).
// Running it twice gives the same tree. `target` is any *Ref above.
template <typename Ref>
void set_header(const XdsDocument& doc, Ref& target, const char* field, const std::string& key,
                const std::string& value) {
    const YAML::Node existing = std::as_const(target.node)[field];
    const YamlPath list_path = target.path.key(field);
    YAML::Node header(YAML::NodeType::Map);
    header.SetStyle(YAML::EmitterStyle::Flow);
    header["key"] = quoted(key);
    header["value"] = quoted(value);
    YAML::Node entry(YAML::NodeType::Map);
    entry["header"] = header;
    if (!existing || existing.IsNull()) {
        YAML::Node list(YAML::NodeType::Sequence);
        list.push_back(entry);
        target.node[field] = list;
        return;
    }
    if (!existing.IsSequence()) {
        throw doc.error(list_path, "expected a list, got " + yaml_type_name(existing));
    }
    YAML::Node list = existing;
    std::size_t i = 0;
    for (auto it = list.begin(); it != list.end(); ++it, ++i) {
        const YAML::Node& item = *it;
        const YAML::Node current = item.IsMap() ? item["header"] : YAML::Node();
        if (!current || !current.IsMap()) {
            throw doc.error(list_path.index(i).key("header"), "expected a map with key and value");
        }
        if (same_header_name(detail::scalar_or_empty(current, "key"), key)) {
            YAML::Node writable = current;
            writable["value"] = quoted(value);
            return;
        }
    }
    list.push_back(entry);
}

// ---- emitting ----------------------------------------------------------------

enum class Format { Auto, Yaml, Json };

namespace detail {

inline void emit_yaml(YAML::Emitter& out, const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Undefined:
        case YAML::NodeType::Null: out << YAML::Null; break;
        case YAML::NodeType::Scalar:
            if (is_quoted(node)) {
                out << YAML::DoubleQuoted;
            }
            out << node.Scalar();
            break;
        case YAML::NodeType::Sequence:
            if (node.Style() == YAML::EmitterStyle::Flow) {
                out << YAML::Flow;
            }
            out << YAML::BeginSeq;
            for (const auto& item : node) {
                emit_yaml(out, item);
            }
            out << YAML::EndSeq;
            break;
        case YAML::NodeType::Map:
            if (node.Style() == YAML::EmitterStyle::Flow) {
                out << YAML::Flow;
            }
            out << YAML::BeginMap;
            for (const auto& kv : node) {
                out << YAML::Key;
                emit_yaml(out, kv.first);
                out << YAML::Value;
                emit_yaml(out, kv.second);
            }
            out << YAML::EndMap;
            break;
    }
}

// A JSON number, exactly as the JSON grammar has it.
inline bool json_number(std::string_view s) noexcept {
    std::size_t i = 0;
    const auto digits = [&] {
        const std::size_t start = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            ++i;
        }
        return i > start;
    };
    if (i < s.size() && s[i] == '-') {
        ++i;
    }
    if (i < s.size() && s[i] == '0') {
        ++i;
    } else if (!digits()) {
        return false;
    }
    if (i < s.size() && s[i] == '.') {
        ++i;
        if (!digits()) {
            return false;
        }
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
            ++i;
        }
        if (!digits()) {
            return false;
        }
    }
    return i == s.size();
}

inline void emit_json(std::string& out, const YAML::Node& node, std::size_t depth) {
    const auto newline = [&](std::size_t d) {
        out += '\n';
        out.append(2 * d, ' ');
    };
    switch (node.Type()) {
        case YAML::NodeType::Undefined:
        case YAML::NodeType::Null: out += "null"; break;
        case YAML::NodeType::Scalar: {
            const std::string& s = node.Scalar();
            if (!is_quoted(node) && (s == "true" || s == "false" || json_number(s))) {
                out += s;
            } else if (!is_quoted(node) && (s == "null" || s == "~")) {
                out += "null";
            } else {
                json::append_quoted(out, s);
            }
            break;
        }
        case YAML::NodeType::Sequence: {
            if (node.size() == 0) {
                out += "[]";
                break;
            }
            out += '[';
            bool first = true;
            for (const auto& item : node) {
                out += first ? "" : ",";
                first = false;
                newline(depth + 1);
                emit_json(out, item, depth + 1);
            }
            newline(depth);
            out += ']';
            break;
        }
        case YAML::NodeType::Map: {
            if (node.size() == 0) {
                out += "{}";
                break;
            }
            out += '{';
            bool first = true;
            for (const auto& kv : node) {
                out += first ? "" : ",";
                first = false;
                newline(depth + 1);
                json::append_quoted(out, kv.first.IsScalar() ? kv.first.Scalar() : std::string());
                out += ": ";
                emit_json(out, kv.second, depth + 1);
            }
            newline(depth);
            out += '}';
            break;
        }
    }
}

inline bool ends_with(std::string_view s, std::string_view suffix) noexcept {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace detail

// Writes a tree as YAML (block style unless a node was flow in the source)
// or as indented JSON, ending with a newline. Deterministic. Throws
// crossover::Error when yaml-cpp refuses the tree.
inline std::string emit(const YAML::Node& root, Format format = Format::Yaml) {
    if (format == Format::Json) {
        std::string out;
        detail::emit_json(out, root, 0);
        out += '\n';
        return out;
    }
    YAML::Emitter out;
    detail::emit_yaml(out, root);
    if (!out.good()) {
        throw Error("cannot write YAML: " + out.GetLastError());
    }
    std::string text = out.c_str();
    text += '\n';
    return text;
}

// Auto picks JSON for a document named *.json (Envoy chooses its parser by
// the file extension) and YAML otherwise.
inline Format format_for(std::string_view document_name) noexcept {
    return detail::ends_with(document_name, ".json") ? Format::Json : Format::Yaml;
}

inline std::string XdsDocument::emit() const {
    try {
        return xds::emit(root_, format_for(meta_.name));
    } catch (const Error& e) {
        throw error("", e.what());
    }
}

}  // namespace crossover::xds
