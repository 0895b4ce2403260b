// The Kubernetes store (`store: kubernetes`): every route is a Route custom
// resource (crossover.io/v1alpha1, see packaging/helm/crossover/files/crd-route.yaml)
// in one namespace, and Kubernetes (etcd) is the durable store that several
// replicas share. Nothing is replicated by the registry itself:
//
// - Writes go to the API server. A route's version is its object's
//   resourceVersion: If-Match sends it as the update's resourceVersion (or a
//   delete's precondition), and the server's 409 Conflict answers 412. A
//   write is answered only after the server accepted it.
// - The state comes from an informer (list+watch of the Routes), so every
//   replica serves what the API server holds; after its own write a replica
//   waits (at most sync_timeout) until its informer saw the write, so a read
//   on the same replica after a write sees it.
// - The registry's version is the resourceVersion the informer reached.
// - Routes written by other means (kubectl) are checked like API requests;
//   a route that turns invalid keeps its last valid version. When two routes
//   claim one domain (two replicas accepting them at the same moment), the
//   older one keeps it on every replica and the other is left out (logged).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <Poco/JSON/Object.h>

#include "crossover/component.h"
#include "crossover_kube/client.h"
#include "crossover_kube/informer.h"
#include "crossover_kube/last_valid.h"
#include "route.h"
#include "store.h"

namespace crossover::route_registry {

inline constexpr const char* kRouteGroup = "crossover.io";
inline constexpr const char* kRouteApiVersion = "crossover.io/v1alpha1";
inline constexpr const char* kRouteKind = "Route";

class KubeStore final : public RouteStore {
public:
    struct Options {
        kube::ClusterConfig cluster;
        kube::Timeouts timeouts;
        kube::InformerOptions informer;
        std::string ns;  // the namespace of the Routes
        // How long a write waits for this replica's informer to see it.
        std::chrono::milliseconds sync_timeout{10000};
        RouteLimits limits;  // Routes written by other means are held to the same limits
    };

    KubeStore(Options options, kube::LogFn log);

    // Lists and watches the Routes until `context` stops or stop() is
    // called, calling on_change after every change. From one thread.
    void run(SourceContext& context);
    // Lists the Routes once (one-time mode). Throws Error.
    void load_once();
    // Ends run() and fails requests in flight (503). Any thread.
    void stop() noexcept;

    PutResult put(Route route, const Precondition& precondition) override;
    std::uint64_t remove(const std::string& name, const Precondition& precondition) override;
    RoutePtr get(const std::string& name) override;
    View view() override;
    void on_change(std::function<void()> callback) override;
    [[nodiscard]] bool failed() const noexcept override { return false; }

    // "/apis/crossover.io/v1alpha1/namespaces/NS/routes"
    [[nodiscard]] const std::string& collection() const { return collection_; }

private:
    // The state from the informer's objects at `resource_version`.
    void update(const kube::Informer::State& objects, const std::string& resource_version);
    RoutePtr convert(const Poco::JSON::Object::Ptr& object) const;
    void require_synced() const;
    // Waits (at most sync_timeout) until `seen` holds for the state.
    void wait_seen(const std::string& what, const std::function<bool()>& seen);

    kube::Response call(const std::string& method, const std::string& path,
                        const std::string* body = nullptr);
    // The object on the server, nullptr when there is none.
    Poco::JSON::Object::Ptr fetch(const std::string& name);
    [[noreturn]] void unexpected(const std::string& what, const kube::Response& response) const;
    [[nodiscard]] std::string object_path(const std::string& name) const;
    [[nodiscard]] std::string where(const std::string& name) const;  // "Route ns/name"

    // A write of a route: the server's answer and what it did.
    struct Write {
        kube::Response response;
        PutOutcome outcome = PutOutcome::Created;
    };
    // The object to send for route `name`: `known` (its labels and annotations
    // kept) with `spec` at `resource_version`, or a new one when `known` is null.
    [[nodiscard]] std::string object_text(const std::string& name,
                                          const Poco::JSON::Object::Ptr& known,
                                          const Poco::JSON::Object::Ptr& spec,
                                          const std::string& resource_version) const;
    // If-None-Match: *: create only.
    Write create_only(const std::string& name, const Poco::JSON::Object::Ptr& spec);
    // If-Match: a version: replace that version only.
    Write replace_version(const std::string& name, const Poco::JSON::Object::Ptr& base,
                          const Poco::JSON::Object::Ptr& spec, const Precondition& precondition);
    // No precondition (create or replace) or If-Match: * (replace only): from
    // what this replica knows, following the server's answers.
    Write write_following(const std::string& name, Poco::JSON::Object::Ptr base,
                          const Poco::JSON::Object::Ptr& spec, const Precondition& precondition);

    Options options_;
    kube::LogFn log_;
    std::string collection_;
    std::unique_ptr<kube::Client> client_;
    std::unique_ptr<kube::Informer> informer_;
    kube::LastValid<StoredRoute> last_valid_;       // informer thread only
    std::map<std::string, std::string> contested_;  // informer thread only

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    RouteState state_;
    kube::Informer::State objects_;  // the Routes as the server sent them, by name
    bool synced_ = false;
    std::function<void()> on_change_;
};

// etcd's resourceVersions are numbers; nullopt for anything else.
std::optional<std::uint64_t> numeric_resource_version(const std::string& text);

}  // namespace crossover::route_registry
