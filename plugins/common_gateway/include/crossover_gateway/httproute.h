// Gateway API HTTPRoutes (gateway.networking.k8s.io v1 and v1beta1, the same
// schema) parsed from a crossover::Object into what a weight merge needs:
// hostnames, each rule's path matches and its backendRefs with weights.
//
// Defaults as the Gateway API defines them: a rule without matches matches
// PathPrefix "/", a match without a path too; a path without a type is a
// PathPrefix; a backendRef without a weight has weight 1, without group/kind
// is a core Service.
//
// Errors are crossover::Error naming the route, the rule and the backend:
//   "HTTPRoute test/podinfo: spec.rules[0].backendRefs[1] (podinfo-canary):
//    weight: negative weight -10"
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "crossover/snapshot.h"

namespace crossover::gateway {

struct PathMatch {
    std::string type;   // Exact, PathPrefix or RegularExpression
    std::string value;  // "/" by default
};

struct BackendRef {
    std::string name;
    std::string ns;  // the backendRef's namespace, else the route's
    std::uint32_t port = 0;
    bool has_port = false;
    std::uint32_t weight = 1;
};

struct Rule {
    std::size_t index = 0;
    std::string name;  // spec.rules[].name (optional)
    std::vector<PathMatch> paths;
    std::vector<BackendRef> backends;

    // "spec.rules[0]" or "spec.rules[0] (name)"
    [[nodiscard]] std::string describe() const;
};

struct HTTPRoute {
    ObjectRef ref;  // kind "HTTPRoute", namespace, name, resourceVersion
    std::string api_version;
    std::vector<std::string> hostnames;
    std::vector<Rule> rules;

    [[nodiscard]] std::string describe() const { return ref.describe(); }
};

// True when `object` is an HTTPRoute (by ref.kind or the body's kind).
bool is_httproute(const Object& object);

// Throws crossover::Error for an unsupported apiVersion, a missing spec or
// rules, a path match of an unknown type or not starting with '/', a backendRef
// without a name, of a kind other than Service, with a port outside 1-65535 or
// a weight outside 0-1000000 (the CRD's bounds).
HTTPRoute parse_httproute(const Object& object);

}  // namespace crossover::gateway
