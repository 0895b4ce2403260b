#include "endpointslice.h"

#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "crossover/json.h"
#include "crossover/options.h"
#include "crossover/status.h"

namespace crossover::eds {
namespace {

constexpr const char* kServiceLabel = "kubernetes.io/service-name";

// A quoted scalar (tag "!") or a plain one that is not a YAML null or boolean.
bool is_string(const YAML::Node& n) {
    return n.IsScalar();
}

bool parse_bool(const YAML::Node& n, bool& out) {
    if (!n.IsScalar() || n.Tag() == "!") {
        return false;
    }
    const std::string& s = n.Scalar();
    if (s == "true") {
        out = true;
        return true;
    }
    if (s == "false") {
        out = false;
        return true;
    }
    return false;
}

bool parse_port(const YAML::Node& n, std::uint32_t& out) {
    if (!n.IsScalar() || n.Tag() == "!") {
        return false;
    }
    const std::string& s = n.Scalar();
    if (s.empty() || s.size() > 5) {
        return false;
    }
    std::uint32_t v = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
        v = v * 10 + static_cast<std::uint32_t>(c - '0');
    }
    out = v;
    return true;
}

bool absent(const YAML::Node& n) {
    return !n || n.IsNull();
}

bool valid_address(const std::string& type, const std::string& text) {
    unsigned char buf[16];
    if (type == "IPv4") {
        return ::inet_pton(AF_INET, text.c_str(), buf) == 1;
    }
    return ::inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

}  // namespace

namespace {

// spec.ports: the numbered TCP and UDP ports (others are listed as skipped).
void read_ports(const YAML::Node& ports, const std::string& who, EndpointSlice& s) {
    if (absent(ports)) {
        return;
    }
    if (!ports.IsSequence()) {
        throw Error(who + "ports: expected a list, got " + describe_value(ports));
    }
    for (std::size_t i = 0; i < ports.size(); ++i) {
        const std::string at = who + "ports[" + std::to_string(i) + "]";
        const YAML::Node p = ports[i];
        if (!p.IsMap()) {
            throw Error(at + ": expected an object, got " + describe_value(p));
        }
        SlicePort port;
        if (const YAML::Node n = p["name"]; !absent(n)) {
            if (!is_string(n)) {
                throw Error(at + ".name: expected a string, got " + describe_value(n));
            }
            port.name = n.Scalar();
        }
        std::string protocol = "TCP";
        if (const YAML::Node n = p["protocol"]; !absent(n)) {
            if (!is_string(n)) {
                throw Error(at + ".protocol: expected a string, got " + describe_value(n));
            }
            protocol = n.Scalar();
        }
        if (protocol != "TCP" && protocol != "UDP" && protocol != "SCTP") {
            throw Error(at + ".protocol: unsupported value '" + protocol +
                        "' (expected TCP, UDP or SCTP)");
        }
        const YAML::Node number = p["port"];
        if (absent(number)) {
            // Allowed by the API ("all ports"), but an endpoint needs a number.
            s.skipped_ports.push_back("ports[" + std::to_string(i) + "] (no port number)");
            continue;
        }
        if (!parse_port(number, port.port) || port.port == 0 || port.port > 65535) {
            throw Error(at + ".port: expected a port number 1-65535, got " +
                        describe_value(number));
        }
        if (protocol == "SCTP") {
            s.skipped_ports.push_back("ports[" + std::to_string(i) + "] (SCTP)");
            continue;
        }
        port.udp = protocol == "UDP";
        for (const auto& seen : s.ports) {
            if (seen.name == port.name) {
                throw Error(at + ".name: duplicate port name '" + port.name + "'");
            }
        }
        s.ports.push_back(std::move(port));
    }
}

// One endpoint of spec.endpoints, at `at` ("... endpoints[2]").
SliceEndpoint read_endpoint(const YAML::Node& e, const std::string& at,
                            const std::string& address_type) {
    SliceEndpoint ep;
    const YAML::Node addresses = e["addresses"];
    if (absent(addresses) || !addresses.IsSequence() || addresses.size() == 0) {
        throw Error(at + ".addresses: expected a list of at least one address");
    }
    for (std::size_t a = 0; a < addresses.size(); ++a) {
        const YAML::Node n = addresses[a];
        const std::string aat = at + ".addresses[" + std::to_string(a) + "]";
        if (!is_string(n)) {
            throw Error(aat + ": expected a string, got " + describe_value(n));
        }
        if (address_type != "FQDN" && !valid_address(address_type, n.Scalar())) {
            throw Error(aat + ": '" + n.Scalar() + "' is not an " + address_type + " address");
        }
        ep.addresses.push_back(n.Scalar());
    }
    const YAML::Node conditions = e["conditions"];
    bool has_serving = false;
    if (!absent(conditions)) {
        if (!conditions.IsMap()) {
            throw Error(at + ".conditions: expected an object, got " + describe_value(conditions));
        }
        const auto read = [&](const char* key, bool& out) {
            const YAML::Node n = conditions[key];
            if (absent(n)) {
                return false;
            }
            if (!parse_bool(n, out)) {
                throw Error(at + ".conditions." + key + ": expected true or false, got " +
                            describe_value(n));
            }
            return true;
        };
        read("ready", ep.ready);
        has_serving = read("serving", ep.serving);
        read("terminating", ep.terminating);
    }
    if (!has_serving) {
        ep.serving = ep.ready;
    }
    if (const YAML::Node n = e["zone"]; !absent(n)) {
        if (!is_string(n)) {
            throw Error(at + ".zone: expected a string, got " + describe_value(n));
        }
        ep.zone = n.Scalar();
    }
    return ep;
}

// spec.endpoints.
void read_endpoints(const YAML::Node& endpoints, const std::string& who, EndpointSlice& s) {
    if (absent(endpoints)) {
        return;
    }
    if (!endpoints.IsSequence()) {
        throw Error(who + "endpoints: expected a list, got " + describe_value(endpoints));
    }
    for (std::size_t i = 0; i < endpoints.size(); ++i) {
        const std::string at = who + "endpoints[" + std::to_string(i) + "]";
        const YAML::Node e = endpoints[i];
        if (!e.IsMap()) {
            throw Error(at + ": expected an object, got " + describe_value(e));
        }
        s.endpoints.push_back(read_endpoint(e, at, s.address_type));
    }
}

}  // namespace

EndpointSlice parse_endpointslice(const YAML::Node& object, const std::string& default_ns) {
    EndpointSlice s;
    s.ref.kind = "EndpointSlice";
    s.ref.ns = default_ns;
    const YAML::Node meta = object.IsMap() ? object["metadata"] : YAML::Node();
    if (meta && meta.IsMap()) {
        if (const YAML::Node n = meta["name"]; n && n.IsScalar()) {
            s.ref.name = n.Scalar();
        }
        if (const YAML::Node n = meta["namespace"]; n && n.IsScalar() && !n.Scalar().empty()) {
            s.ref.ns = n.Scalar();
        }
        if (const YAML::Node n = meta["resourceVersion"]; n && n.IsScalar()) {
            s.ref.resource_version = n.Scalar();
        }
    }
    const std::string who = s.ref.describe() + ": ";
    if (!object.IsMap()) {
        throw Error(who + "expected an object");
    }
    if (s.ref.name.empty()) {
        throw Error(who + "metadata.name: missing");
    }
    const YAML::Node labels = meta["labels"];
    const YAML::Node service = labels && labels.IsMap() ? labels[kServiceLabel] : YAML::Node();
    if (absent(service) || !service.IsScalar() || service.Scalar().empty()) {
        throw Error(who + "metadata.labels[" + kServiceLabel +
                    "]: missing (the slice belongs to no Service)");
    }
    s.service = service.Scalar();

    const YAML::Node type = object["addressType"];
    if (absent(type) || !type.IsScalar()) {
        throw Error(who + "addressType: missing");
    }
    s.address_type = type.Scalar();
    if (s.address_type != "IPv4" && s.address_type != "IPv6" && s.address_type != "FQDN") {
        throw Error(who + "addressType: unsupported value '" + s.address_type +
                    "' (expected IPv4, IPv6 or FQDN)");
    }

    read_ports(object["ports"], who, s);
    read_endpoints(object["endpoints"], who, s);
    return s;
}

ClusterNamePattern::ClusterNamePattern(const std::string& pattern)
    : pattern_(pattern, {"namespace", "service", "port"}) {
    if (!pattern_.uses("port") || !pattern_.uses("service")) {
        throw Error("'" + pattern +
                    "' needs both {{service}} and {{port}}: every Service port becomes its own "
                    "cluster");
    }
}

namespace {

// The ClusterLoadAssignments of one Service's slices, as items of `resources`.
void append_assignments(const std::vector<EndpointSlicePtr>& slices, const EdsOptions& options,
                        std::string& out, std::size_t& cluster_count, std::size_t& endpoint_count) {
    // Health of an included endpoint, best first.
    enum class Health { Healthy = 0, Draining = 1 };
    struct Lb {
        Health health;
        bool udp;
    };
    // cluster name -> zone -> (address, port) -> state
    using Zone = std::map<std::pair<std::string, std::uint32_t>, Lb>;
    std::map<std::string, std::map<std::string, Zone>> clusters;
    for (const auto& slice : slices) {
        if (!slice || slice->address_type == "FQDN") {
            continue;
        }
        for (const auto& port : slice->ports) {
            const std::string key = port.name.empty() ? std::to_string(port.port) : port.name;
            auto& zones = clusters[options.cluster_name.render(slice->ref.ns, slice->service, key)];
            for (const auto& ep : slice->endpoints) {
                Health health = Health::Healthy;
                if (ep.ready && !ep.terminating) {
                    health = Health::Healthy;
                } else if (options.include == Include::Serving && ep.serving) {
                    health = Health::Draining;
                } else {
                    continue;
                }
                auto& zone = zones[ep.zone];
                for (const auto& address : ep.addresses) {
                    auto [it, fresh] =
                        zone.emplace(std::make_pair(address, port.port), Lb{health, port.udp});
                    if (!fresh && health < it->second.health) {
                        it->second.health = health;
                    }
                }
            }
        }
    }
    for (const auto& [name, zones] : clusters) {
        ++cluster_count;
        out += "- \"@type\": type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment\n";
        out += "  cluster_name: " + json::quoted(name) + "\n";
        if (zones.empty()) {  // a zone is created with its first endpoint
            out += "  endpoints: []\n";
            continue;
        }
        out += "  endpoints:\n";
        for (const auto& [zone, lbs] : zones) {
            out += zone.empty() ? "  - locality: {}\n"
                                : "  - locality: {zone: " + json::quoted(zone) + "}\n";
            // gRPC drops a locality without a weight; weighting by the endpoint count
            // keeps the per-endpoint balance of a flat list.
            out += "    load_balancing_weight: " + std::to_string(lbs.size()) + "\n";
            out += "    lb_endpoints:\n";
            for (const auto& [address_port, lb] : lbs) {
                out += "    - endpoint: {address: {socket_address: {";
                if (lb.udp) {
                    out += "protocol: UDP, ";
                }
                out.append("address: ").append(json::quoted(address_port.first));
                out.append(", port_value: ").append(std::to_string(address_port.second));
                out.append("}}}\n");
                if (lb.health == Health::Draining) {
                    out += "      health_status: DRAINING\n";
                }
                ++endpoint_count;
            }
        }
    }
}

}  // namespace

EdsDocument EdsBuilder::build(const std::vector<EndpointSlicePtr>& slices,
                              const EdsOptions& options) {
    // Slices by Service, in the order of their names: a Service's text is rebuilt only
    // when one of its slices changed (the slices are immutable, so the same pointers mean
    // the same text).
    std::map<std::pair<std::string, std::string>, std::vector<EndpointSlicePtr>> groups;
    for (const auto& slice : slices) {
        if (slice) {
            groups[{slice->ref.ns, slice->service}].push_back(slice);
        }
    }
    std::map<std::pair<std::string, std::string>, Entry> next;
    EdsDocument doc;
    for (auto& [key, group] : groups) {
        std::sort(group.begin(), group.end(),
                  [](const EndpointSlicePtr& a, const EndpointSlicePtr& b) {
                      return a->ref.name < b->ref.name;
                  });
        Entry entry;
        if (const auto it = cache_.find(key); it != cache_.end() && it->second.slices == group) {
            entry = std::move(it->second);
        } else {
            entry.slices = group;
            append_assignments(group, options, entry.text, entry.clusters, entry.endpoints);
            ++rebuilt_;
        }
        doc.clusters += entry.clusters;
        doc.endpoints += entry.endpoints;
        next.emplace(key, std::move(entry));
    }
    cache_ = std::move(next);
    std::size_t size = 16;
    for (const auto& [key, entry] : cache_) {
        size += entry.text.size();
    }
    doc.content.reserve(size);
    doc.content = doc.clusters == 0 ? "resources: []\n" : "resources:\n";
    for (const auto& [key, entry] : cache_) {
        doc.content += entry.text;
    }
    return doc;
}

EdsDocument build_eds(const std::vector<EndpointSlicePtr>& slices, const EdsOptions& options) {
    return EdsBuilder().build(slices, options);
}

}  // namespace crossover::eds
