#include "crossover_gateway/httproute.h"

#include <cstdint>

#include "crossover/options.h"
#include "crossover/status.h"

namespace crossover::gateway {
namespace {

constexpr const char* kGroup = "gateway.networking.k8s.io";
constexpr std::int64_t kMaxWeight = 1000000;  // the CRD's maximum

bool absent(const YAML::Node& n) {
    return !n || n.IsNull();
}

// A plain (unquoted) integer scalar; JSON numbers from the API server carry
// the same tag as plain YAML scalars.
bool parse_int(const YAML::Node& n, std::int64_t& out) {
    if (!n.IsScalar() || n.Tag() == "!") {
        return false;
    }
    const std::string& s = n.Scalar();
    std::size_t i = s.rfind('-', 0) == 0 ? 1 : 0;
    if (i == s.size() || s.size() - i > 12) {
        return false;
    }
    std::int64_t v = 0;
    for (; i < s.size(); ++i) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        v = v * 10 + (s[i] - '0');
    }
    out = s[0] == '-' ? -v : v;
    return true;
}

std::string string_at(const YAML::Node& map, const char* key, const std::string& where,
                      const std::string& fallback = {}) {
    const YAML::Node n = map[key];
    if (absent(n)) {
        return fallback;
    }
    if (!n.IsScalar()) {
        throw Error(where + key + ": expected a string, got " + describe_value(n));
    }
    return n.Scalar();
}

PathMatch parse_path(const YAML::Node& match, const std::string& where) {
    PathMatch p{"PathPrefix", "/"};
    if (!match.IsMap()) {
        throw Error(where + ": expected an object, got " + describe_value(match));
    }
    const YAML::Node path = match["path"];
    if (absent(path)) {
        return p;
    }
    if (!path.IsMap()) {
        throw Error(where + ".path: expected an object, got " + describe_value(path));
    }
    p.type = string_at(path, "type", where + ".path.", "PathPrefix");
    p.value = string_at(path, "value", where + ".path.", "/");
    if (p.type != "Exact" && p.type != "PathPrefix" && p.type != "RegularExpression") {
        throw Error(where + ".path.type: unsupported value '" + p.type +
                    "' (expected Exact, PathPrefix or RegularExpression)");
    }
    if (p.type != "RegularExpression" && p.value.rfind('/', 0) != 0) {
        throw Error(where + ".path.value: '" + p.value + "' does not start with '/'");
    }
    return p;
}

BackendRef parse_backend(const YAML::Node& node, const std::string& where,
                         const std::string& route_ns) {
    if (!node.IsMap()) {
        throw Error(where + ": expected an object, got " + describe_value(node));
    }
    BackendRef b;
    b.name = string_at(node, "name", where + ": ");
    if (b.name.empty()) {
        throw Error(where + ".name: missing");
    }
    const std::string who = where + " (" + b.name + "): ";
    const std::string group = string_at(node, "group", who);
    const std::string kind = string_at(node, "kind", who, "Service");
    if (!group.empty() || kind != "Service") {
        throw Error(who + "kind '" + (group.empty() ? kind : kind + "." + group) +
                    "' is not a Service (only Services can be weighted backends)");
    }
    b.ns = string_at(node, "namespace", who, route_ns);
    if (const YAML::Node port = node["port"]; !absent(port)) {
        std::int64_t v = 0;
        if (!parse_int(port, v) || v < 1 || v > 65535) {
            throw Error(who + "port: expected a port number 1-65535, got " + describe_value(port));
        }
        b.port = static_cast<std::uint32_t>(v);
        b.has_port = true;
    }
    if (const YAML::Node weight = node["weight"]; !absent(weight)) {
        std::int64_t v = 0;
        if (!parse_int(weight, v)) {
            throw Error(who + "weight: expected an integer, got " + describe_value(weight));
        }
        if (v < 0) {
            throw Error(who + "weight: negative weight " + std::to_string(v));
        }
        if (v > kMaxWeight) {
            throw Error(who + "weight: " + std::to_string(v) + " is above the maximum 1000000");
        }
        b.weight = static_cast<std::uint32_t>(v);
    }
    return b;
}

}  // namespace

std::string Rule::describe() const {
    std::string out = "spec.rules[" + std::to_string(index) + "]";
    if (!name.empty()) {
        out += " (" + name + ")";
    }
    return out;
}

bool is_httproute(const Object& object) {
    if (object.ref.kind == "HTTPRoute") {
        return true;
    }
    return object.body && object.body.IsMap() && object.body["kind"] &&
           object.body["kind"].IsScalar() && object.body["kind"].Scalar() == "HTTPRoute";
}

HTTPRoute parse_httproute(const Object& object) {
    HTTPRoute r;
    r.ref = object.ref;
    r.ref.kind = "HTTPRoute";
    const YAML::Node& body = object.body;
    if (body && body.IsMap()) {
        if (const YAML::Node meta = body["metadata"]; meta && meta.IsMap()) {
            if (r.ref.name.empty() && meta["name"] && meta["name"].IsScalar()) {
                r.ref.name = meta["name"].Scalar();
            }
            if (r.ref.ns.empty() && meta["namespace"] && meta["namespace"].IsScalar()) {
                r.ref.ns = meta["namespace"].Scalar();
            }
        }
    }
    const std::string who = r.describe() + ": ";
    if (!body || !body.IsMap()) {
        throw Error(who + "expected an object");
    }
    r.api_version = object.api_version;
    if (r.api_version.empty() && body["apiVersion"] && body["apiVersion"].IsScalar()) {
        r.api_version = body["apiVersion"].Scalar();
    }
    if (r.api_version != std::string(kGroup) + "/v1" &&
        r.api_version != std::string(kGroup) + "/v1beta1") {
        throw Error(who + "apiVersion: unsupported '" + r.api_version + "' (expected " + kGroup +
                    "/v1 or " + kGroup + "/v1beta1)");
    }
    const YAML::Node spec = body["spec"];
    if (absent(spec) || !spec.IsMap()) {
        throw Error(who + "spec: missing");
    }
    if (const YAML::Node hostnames = spec["hostnames"]; !absent(hostnames)) {
        if (!hostnames.IsSequence()) {
            throw Error(who + "spec.hostnames: expected a list, got " + describe_value(hostnames));
        }
        for (std::size_t i = 0; i < hostnames.size(); ++i) {
            if (!hostnames[i].IsScalar() || hostnames[i].Scalar().empty()) {
                throw Error(who + "spec.hostnames[" + std::to_string(i) +
                            "]: expected a host name, got " + describe_value(hostnames[i]));
            }
            r.hostnames.push_back(hostnames[i].Scalar());
        }
    }
    const YAML::Node rules = spec["rules"];
    if (absent(rules) || !rules.IsSequence() || rules.size() == 0) {
        throw Error(who + "spec.rules: expected a list of at least one rule");
    }
    for (std::size_t i = 0; i < rules.size(); ++i) {
        Rule rule;
        rule.index = i;
        const YAML::Node node = rules[i];
        const std::string at = who + rule.describe();
        if (!node.IsMap()) {
            throw Error(at + ": expected an object, got " + describe_value(node));
        }
        rule.name = string_at(node, "name", at + ".");
        const std::string rat = who + rule.describe();
        if (const YAML::Node matches = node["matches"]; !absent(matches)) {
            if (!matches.IsSequence()) {
                throw Error(rat + ".matches: expected a list, got " + describe_value(matches));
            }
            for (std::size_t m = 0; m < matches.size(); ++m) {
                rule.paths.push_back(
                    parse_path(matches[m], rat + ".matches[" + std::to_string(m) + "]"));
            }
        }
        if (rule.paths.empty()) {
            rule.paths.push_back(PathMatch{"PathPrefix", "/"});
        }
        if (const YAML::Node backends = node["backendRefs"]; !absent(backends)) {
            if (!backends.IsSequence()) {
                throw Error(rat + ".backendRefs: expected a list, got " + describe_value(backends));
            }
            for (std::size_t b = 0; b < backends.size(); ++b) {
                rule.backends.push_back(parse_backend(
                    backends[b], rat + ".backendRefs[" + std::to_string(b) + "]", r.ref.ns));
                for (std::size_t k = 0; k + 1 < rule.backends.size(); ++k) {
                    const BackendRef& a = rule.backends[k];
                    const BackendRef& n = rule.backends.back();
                    if (a.name == n.name && a.ns == n.ns && a.port == n.port) {
                        throw Error(rat + ".backendRefs[" + std::to_string(b) + "] (" + n.name +
                                    "): the same backend as backendRefs[" + std::to_string(k) +
                                    "]");
                    }
                }
            }
        }
        r.rules.push_back(std::move(rule));
    }
    return r;
}

}  // namespace crossover::gateway
