// EndpointSlices (discovery.k8s.io/v1) into Envoy ClusterLoadAssignments.
//
// parse_endpointslice checks one slice and keeps what EDS needs; build_eds
// turns the slices of many Services into one DiscoveryResponse document with
// a ClusterLoadAssignment per Service port. Both are pure functions, shared by
// the kubernetes_endpoints source, its tests and the fuzz target.
//
// Endpoint conditions follow the Kubernetes API reference: a missing `ready`
// means ready, a missing `serving` means the value of `ready`, a missing
// `terminating` means not terminating.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "crossover/name_pattern.h"
#include "crossover/snapshot.h"

namespace crossover::eds {

struct SlicePort {
    std::string name;  // the Service port's name, empty for an unnamed port
    std::uint32_t port = 0;
    bool udp = false;  // protocol UDP (else TCP)
};

struct SliceEndpoint {
    std::vector<std::string> addresses;
    bool ready = true;
    bool serving = true;
    bool terminating = false;
    std::string zone;
};

struct EndpointSlice {
    ObjectRef ref;             // kind "EndpointSlice", namespace, name, resourceVersion
    std::string service;       // label kubernetes.io/service-name
    std::string address_type;  // IPv4, IPv6 or FQDN
    std::vector<SlicePort> ports;
    std::vector<SliceEndpoint> endpoints;
    // Ports left out (no number, or a protocol Envoy cannot proxy), for the log.
    std::vector<std::string> skipped_ports;
};

using EndpointSlicePtr = std::shared_ptr<const EndpointSlice>;

// Checks a slice (the whole object as YAML) and keeps what EDS needs. Throws
// crossover::Error "EndpointSlice ns/name: <field>: <problem>", e.g.
// "EndpointSlice test/podinfo-abc12: endpoints[1].addresses[0]: '10.1.2.300'
// is not an IPv4 address". `default_ns` is used when metadata has none.
EndpointSlice parse_endpointslice(const YAML::Node& object, const std::string& default_ns);

// A cluster-name pattern with the placeholders {{namespace}}, {{service}} and
// {{port}} (the port's name, or its number when it has none).
class ClusterNamePattern {
public:
    ClusterNamePattern() : ClusterNamePattern(kDefault) {}
    // Throws crossover::Error for an empty pattern, an unknown or unclosed
    // placeholder, or a pattern without {{port}} or {{service}} (names would
    // collide).
    explicit ClusterNamePattern(const std::string& pattern);
    [[nodiscard]] std::string render(const std::string& ns, const std::string& service,
                                     const std::string& port) const {
        return pattern_.render({ns, service, port});
    }

    static constexpr const char* kDefault = "{{namespace}}/{{service}}:{{port}}";

private:
    NamePattern pattern_;
};

enum class Include {
    Ready,    // ready endpoints only
    Serving,  // also terminating endpoints that still serve, as DRAINING
};

struct EdsOptions {
    ClusterNamePattern cluster_name;
    Include include = Include::Ready;
};

struct EdsDocument {
    std::string content;  // DiscoveryResponse YAML
    std::size_t clusters = 0;
    std::size_t endpoints = 0;
};

// One ClusterLoadAssignment per (namespace, Service, port) found in `slices`,
// sorted by namespace and Service, then by cluster name; localities by zone,
// endpoints by address and port; an address given twice (by two slices during
// a handover) appears once, in its best state. FQDN slices are left out.
// Deterministic: the same slices in any order give the same bytes.
EdsDocument build_eds(const std::vector<EndpointSlicePtr>& slices, const EdsOptions& options);

// build_eds that keeps each Service's text between calls: when one slice
// changes, only its Service is converted again (a Service of thousands of
// endpoints elsewhere costs a copy of its text, not a rebuild). `options` must
// not change between calls.
class EdsBuilder {
public:
    EdsDocument build(const std::vector<EndpointSlicePtr>& slices, const EdsOptions& options);
    // Services converted so far (for tests).
    [[nodiscard]] std::size_t rebuilt() const { return rebuilt_; }

private:
    struct Entry {
        std::vector<EndpointSlicePtr> slices;  // sorted by name
        std::string text;
        std::size_t clusters = 0;
        std::size_t endpoints = 0;
    };
    std::map<std::pair<std::string, std::string>, Entry> cache_;  // by (namespace, Service)
    std::size_t rebuilt_ = 0;
};

}  // namespace crossover::eds
