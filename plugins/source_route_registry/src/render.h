// Envoy documents from the registry: a CDS document (one Cluster per route,
// endpoints inline, HTTP/2 upstream for grpc and http2), an RDS document (one
// RouteConfiguration with a virtual host per route), and with
// endpoints_mode eds an EDS document of ClusterLoadAssignments (the clusters
// then have type EDS).
//
// The text is built directly rather than through a YAML emitter: it is the
// hot path of every registration, each route's pieces are cached by version,
// and every string is written double-quoted so no value is read as a number,
// a boolean or an alias ("*").
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "crossover/snapshot.h"
#include "store.h"

namespace crossover::route_registry {

struct RenderOptions {
    std::string cds_document = "cds.yaml";
    std::string rds_document = "rds.yaml";
    std::string eds_document = "eds.yaml";
    std::string route_config_name = "routes";
    bool eds = false;      // endpoints_mode: eds
    std::string eds_path;  // eds clusters read this file; empty: ADS
    std::chrono::milliseconds connect_timeout{5000};
    std::string component;  // the source's name, for documents' origin
};

// A YAML double-quoted scalar.
std::string yaml_quote(const std::string& text);

class Renderer {
public:
    explicit Renderer(RenderOptions options) : options_(std::move(options)) {}

    // The documents for a view of the registry, sorted by name. Reuses the
    // text of routes whose version it has seen.
    std::vector<DocumentPtr> render(const View& view);

private:
    struct Pieces {
        std::uint64_t version = 0;
        std::string cluster;
        std::string load_assignment;
        std::string virtual_host;
    };
    Pieces make_pieces(const StoredRoute& stored) const;

    RenderOptions options_;
    std::map<std::string, Pieces> cache_;
};

}  // namespace crossover::route_registry
