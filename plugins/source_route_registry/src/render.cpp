#include "render.h"

#include <algorithm>
#include <cstdio>

namespace crossover::route_registry {

namespace {

// A protobuf JSON Duration: "15s", "0.250s".
std::string proto_duration(std::chrono::milliseconds d) {
    const std::int64_t ms = d.count();
    if (ms % 1000 == 0) {
        return std::to_string(ms / 1000) + "s";
    }
    char buf[48];
    std::snprintf(buf, sizeof buf, "%lld.%03llds", static_cast<long long>(ms / 1000),
                  static_cast<long long>(ms % 1000));
    return buf;
}

// The lb_endpoints list, indented by `indent` spaces (the "- lb_endpoints:" line included).
std::string locality(const Route& route, const std::string& indent) {
    std::string out = indent + "- lb_endpoints:\n";
    for (const auto& e : route.endpoints) {
        out += indent + "  - endpoint:\n";
        out += indent + "      address:\n";
        out += indent + "        socket_address:\n";
        out += indent + "          address: " + yaml_quote(e.address) + "\n";
        out += indent + "          port_value: " + std::to_string(e.port) + "\n";
        if (e.weight != 0) {
            out += indent + "    load_balancing_weight: " + std::to_string(e.weight) + "\n";
        }
    }
    return out;
}

std::string header(const std::string& version) {
    return "version_info: " + yaml_quote(version) + "\nresources:";
}

}  // namespace

std::string yaml_quote(const std::string& text) {
    std::string out = "\"";
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20 || u == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", u);
            out += buf;
        } else {
            out += c;
        }
    }
    out += '"';
    return out;
}

Renderer::Pieces Renderer::make_pieces(const StoredRoute& stored) const {
    const Route& r = stored.route;
    const std::string name = yaml_quote(r.name);
    Pieces p;
    p.version = stored.version;

    std::string& c = p.cluster;
    c += "- \"@type\": type.googleapis.com/envoy.config.cluster.v3.Cluster\n";
    c += "  name: " + name + "\n";
    c += "  connect_timeout: " + proto_duration(options_.connect_timeout) + "\n";
    if (options_.eds) {
        c += "  type: EDS\n";
        c += "  eds_cluster_config:\n";
        c += "    eds_config:\n";
        c += "      resource_api_version: V3\n";
        if (options_.eds_path.empty()) {
            c += "      ads: {}\n";
        } else {
            c += "      path_config_source:\n";
            c += "        path: " + yaml_quote(options_.eds_path) + "\n";
        }
    } else {
        c += std::string("  type: ") + (r.has_host_names() ? "STRICT_DNS" : "STATIC") + "\n";
    }
    c += "  lb_policy: ROUND_ROBIN\n";
    if (r.protocol != Protocol::Http1) {
        c += "  typed_extension_protocol_options:\n";
        c += "    envoy.extensions.upstreams.http.v3.HttpProtocolOptions:\n";
        c += "      \"@type\": "
             "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions\n";
        c += "      explicit_http_config:\n";
        c += "        http2_protocol_options: {}\n";
    }
    if (!options_.eds) {
        c += "  load_assignment:\n";
        c += "    cluster_name: " + name + "\n";
        c += "    endpoints:\n";
        c += locality(r, "    ");
    }
    if (r.tls) {
        c += "  transport_socket:\n";
        c += "    name: envoy.transport_sockets.tls\n";
        c += "    typed_config:\n";
        c += "      \"@type\": "
             "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext\n";
        if (!r.sni.empty()) {
            c += "      sni: " + yaml_quote(r.sni) + "\n";
        }
    }

    if (options_.eds) {
        std::string& l = p.load_assignment;
        l += "- \"@type\": type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment\n";
        l += "  cluster_name: " + name + "\n";
        l += "  endpoints:\n";
        l += locality(r, "  ");
    }

    std::string& v = p.virtual_host;
    v += "  - name: " + name + "\n";
    v += "    domains:\n";
    for (const auto& d : r.domains) {
        v += "    - " + yaml_quote(d) + "\n";
    }
    v += "    routes:\n";
    v += "    - match:\n";
    v += "        prefix: " + yaml_quote(r.prefix.empty() ? "/" : r.prefix) + "\n";
    v += "      route:\n";
    v += "        cluster: " + name + "\n";
    if (r.timeout) {
        v += "        timeout: " + proto_duration(*r.timeout) + "\n";
    }
    return p;
}

std::vector<DocumentPtr> Renderer::render(const View& view) {
    // Forget routes that are gone; refresh those whose version moved.
    for (auto it = cache_.begin(); it != cache_.end();) {
        it = view.routes.count(it->first) == 0 ? cache_.erase(it) : std::next(it);
    }
    const std::string version = std::to_string(view.version);
    std::string cds = header(version);
    std::string eds = header(version);
    std::string rds = header(version) + "\n";
    rds += "- \"@type\": type.googleapis.com/envoy.config.route.v3.RouteConfiguration\n";
    rds += "  name: " + yaml_quote(options_.route_config_name) + "\n";
    rds += "  virtual_hosts:";
    if (view.routes.empty()) {
        cds += " []";
        eds += " []";
        rds += " []";
    }
    cds += "\n";
    eds += "\n";
    rds += "\n";
    for (const auto& [name, stored] : view.routes) {
        auto it = cache_.find(name);
        if (it == cache_.end() || it->second.version != stored->version) {
            it = cache_.insert_or_assign(name, make_pieces(*stored)).first;
        }
        cds += it->second.cluster;
        eds += it->second.load_assignment;
        rds += it->second.virtual_host;
    }
    const ObjectRef origin{"RouteRegistry", "", options_.component, version};
    std::vector<DocumentPtr> out;
    const auto add = [&](const std::string& doc_name, std::string content) {
        auto doc = std::make_shared<Document>();
        doc->name = doc_name;
        doc->content = std::move(content);
        doc->origin = origin;
        out.push_back(std::move(doc));
    };
    add(options_.cds_document, std::move(cds));
    add(options_.rds_document, std::move(rds));
    if (options_.eds) {
        add(options_.eds_document, std::move(eds));
    }
    std::sort(out.begin(), out.end(),
              [](const DocumentPtr& a, const DocumentPtr& b) { return a->name < b->name; });
    return out;
}

}  // namespace crossover::route_registry
