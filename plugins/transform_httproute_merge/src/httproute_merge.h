// The httproute_merge transform: the weights of Gateway API HTTPRoutes'
// backendRefs into Envoy RouteConfigurations, with the merge engine smi_merge
// uses (weight_merge.h).
//
// Each rule with backendRefs is one WeightTarget: its virtual hosts are those
// with a domain equal to one of the route's hostnames (without hostnames: the
// virtual host named after the HTTPRoute); its routes are those whose match is
// one of the rule's path matches (PathPrefix v: `prefix: v` or
// `path_separated_prefix: v`; Exact: `path: v`; RegularExpression:
// `safe_regex.regex: v`); each backendRef names a cluster through the
// cluster_name pattern and brings its weight (1 when absent, 0 allowed).
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "crossover/name_pattern.h"
#include "crossover/sdk.h"
#include "crossover_gateway/httproute.h"
#include "weight_merge.h"

namespace crossover::httproute_merge {

struct Options {
    // {{service}} (the backendRef's name), {{namespace}} (its namespace, else the route's),
    // {{port}} (its port), {{route}} (the HTTPRoute's name).
    NamePattern cluster_name{"{{service}}", {"service", "namespace", "port", "route"}};
};

// The options as the pipeline file gives them (the plugin's option table).
struct HTTPRouteMergeOptions {
    std::string cluster_name = "{{service}}";
};

extern const OptionTable<HTTPRouteMergeOptions> kHTTPRouteMergeOptions;

// The merge's options from the decoded table.
Options to_options(const HTTPRouteMergeOptions& given);

// The targets one HTTPRoute stands for; throws crossover::Error naming the
// route, the rule and the backend (a backend without the port the pattern needs).
std::vector<smi_merge::WeightTarget> targets_of(const gateway::HTTPRoute& route,
                                                const Options& options);

class Merger {
public:
    explicit Merger(Options options) : options_(std::move(options)) {}

    // Throws crossover::Error when an HTTPRoute cannot be applied.
    SnapshotPtr run(const std::vector<Input>& inputs);

    [[nodiscard]] std::size_t parse_count() const { return engine_.parse_count(); }
    [[nodiscard]] std::size_t route_parse_count() const { return route_parse_count_; }
    [[nodiscard]] const std::vector<std::string>& changes() const { return engine_.changes(); }

private:
    Options options_;
    smi_merge::WeightMerger engine_;
    std::size_t route_parse_count_ = 0;
    // Last run's HTTPRoutes, parsed, by object address: a canary step parses one.
    struct RouteEntry {
        std::weak_ptr<const Object> object;
        std::shared_ptr<const gateway::HTTPRoute> route;
    };
    std::map<const Object*, RouteEntry> parsed_;
};

class HTTPRouteMergeTransform : public Transform {
public:
    HTTPRouteMergeTransform(const ComponentConfig& config, const HTTPRouteMergeOptions& options)
        : config_(config), merger_(to_options(options)) {}
    Status transform(const std::vector<Input>& inputs, SnapshotPtr& output) noexcept override;

private:
    ComponentConfig config_;
    Merger merger_;
};

}  // namespace crossover::httproute_merge
