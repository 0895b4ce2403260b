// API discovery of the version of a custom resource's group to watch, shared by
// the sources whose resources are served in several versions (TrafficSplits,
// HTTPRoutes). The group's discovery document (GET /apis/GROUP) lists the
// versions the server serves and the one it prefers.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <Poco/JSON/Object.h>

#include "crossover/component.h"
#include "crossover_kube/client.h"
#include "crossover_kube/informer.h"

namespace crossover::kube {

// What a source can read of one API group.
struct ApiGroupVersions {
    std::string group;                   // "gateway.networking.k8s.io"
    std::string kind;                    // "HTTPRoute", for messages
    std::vector<std::string> supported;  // the versions the source reads, most wanted first
    // true: the server's preferredVersion when it is supported (SMI's versions differ in
    // schema, and the server's choice is the one its objects were written in); false: the
    // first of `supported` the server serves.
    bool server_preference_first = false;
    std::string missing_hint;  // why the group may be missing, "(is the ... CRD installed?)"
};

struct ChosenVersion {
    std::string version;
    std::string reason;  // for the log: "the server's preferred version"
};

// Chooses the version from a discovery document of the group (an APIGroup).
// Throws Error naming the group, the versions supported and what the server
// offers when none of them is served.
ChosenVersion choose_version(const ApiGroupVersions& api, const Poco::JSON::Object::Ptr& group);

// Asks the server which version to use when `configured` is "auto" (else
// returns it). A failure (the group not served, none of its versions
// supported, an HTTP or connection error) is counted as "discovery_errors",
// logged and retried with backoff; in one-time mode it is thrown as Error once
// the next retry would pass `deadline`. Throws Interrupted when stopped.
std::string discover_version(Client& client, SourceContext& context, const ApiGroupVersions& api,
                             const std::string& configured, const InformerOptions& options,
                             bool onetime, std::chrono::steady_clock::time_point deadline,
                             const LogFn& log);

}  // namespace crossover::kube
