// xDS documents for the tests, shaped as gRPC's xDS client accepts them
// (DESIGN.md §8): a Listener named like the target with an api_listener
// whose HttpConnectionManager takes its routes from RDS over ADS, a route
// splitting between two EDS clusters, and their endpoints on loopback.
#pragma once

#include <string>
#include <vector>

namespace crossover::xds_server::test {

inline std::string cds_yaml(const std::string& extra_cluster = {}) {
    std::string out = R"(version_info: "1"
resources:
)";
    for (const std::string name : {"podinfo-primary", "podinfo-canary"}) {
        out += R"(- "@type": type.googleapis.com/envoy.config.cluster.v3.Cluster
  name: )" + name +
               R"(
  type: EDS
  lb_policy: ROUND_ROBIN
  connect_timeout: 1s
  eds_cluster_config: {eds_config: {ads: {}, resource_api_version: V3}}
)";
    }
    if (!extra_cluster.empty()) {
        out += R"(- "@type": type.googleapis.com/envoy.config.cluster.v3.Cluster
  name: )" + extra_cluster +
               R"(
  type: EDS
  connect_timeout: 2s
  eds_cluster_config: {eds_config: {ads: {}, resource_api_version: V3}}
)";
    }
    return out;
}

inline std::string eds_yaml(int primary_port, int canary_port) {
    std::string out = R"(version_info: "1"
resources:
)";
    const std::pair<const char*, int> clusters[] = {{"podinfo-primary", primary_port},
                                                    {"podinfo-canary", canary_port}};
    for (const auto& [name, port] : clusters) {
        out += R"(- "@type": type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment
  cluster_name: )" +
               std::string(name) + R"(
  endpoints:
  - locality: {region: local, zone: a}
    load_balancing_weight: 1
    lb_endpoints:
    - endpoint:
        address:
          socket_address: {address: 127.0.0.1, port_value: )" +
               std::to_string(port) + R"(}
)";
    }
    return out;
}

inline std::string lds_yaml(const std::string& name = "podinfo") {
    return R"(version_info: "1"
resources:
- "@type": type.googleapis.com/envoy.config.listener.v3.Listener
  name: )" +
           name + R"(
  api_listener:
    api_listener:
      "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
      stat_prefix: podinfo
      rds:
        route_config_name: podinfo
        config_source: {ads: {}, resource_api_version: V3}
      http_filters:
      - name: envoy.filters.http.router
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
)";
}

inline std::string rds_yaml(int primary_weight, int canary_weight,
                            const std::string& extra_route = {}) {
    std::string out = R"(version_info: "1"
resources:
- "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration
  name: podinfo
  virtual_hosts:
  - name: podinfo
    domains: ["*"]
    routes:
    - match: {prefix: ""}
      route:
        weighted_clusters:
          clusters:
          - name: podinfo-primary
            weight: )" +
                      std::to_string(primary_weight) +
                      R"(
          - name: podinfo-canary
            weight: )" +
                      std::to_string(canary_weight) + "\n";
    if (!extra_route.empty()) {
        out += R"(- "@type": type.googleapis.com/envoy.config.route.v3.RouteConfiguration
  name: )" + extra_route +
               R"(
  virtual_hosts:
  - name: other
    domains: ["other"]
    routes:
    - match: {prefix: "/"}
      route: {cluster: podinfo-primary}
)";
    }
    return out;
}

}  // namespace crossover::xds_server::test
