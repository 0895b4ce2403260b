#include "kube_store.h"

#include <algorithm>
#include <charconv>
#include <utility>
#include <vector>

#include <Poco/JSON/Parser.h>

#include "crossover_kube/json.h"

namespace crossover::route_registry {

namespace {

using Poco::JSON::Object;

// Unconditional writes retry this often when another writer got in between.
constexpr int kMaxAttempts = 5;

// The route as a Route's spec: the canonical JSON without the name (that is
// metadata.name).
Object::Ptr spec_of(const Route& route) {
    Object::Ptr spec = route_to_json(route);
    spec->remove("name");
    return spec;
}

Object::Ptr copy_of(const Object::Ptr& object) {
    Poco::JSON::Parser parser;
    return parser.parse(kube::to_json(object)).extract<Object::Ptr>();
}

std::string status_message(const kube::Response& response) {
    try {
        std::string m = kube::get_string(kube::parse_object(response.body, "status"), "message");
        if (!m.empty()) {
            return m;
        }
    } catch (const std::exception&) {  // NOLINT(bugprone-empty-catch): not a Status body
    }
    return response.body.substr(0, 200);
}

std::string resource_version_of(const Object::Ptr& object) {
    return kube::metadata_field(object, "resourceVersion");
}

// A Route is written back whole (PUT): kubectl's record of what it applied stays on it.
kube::InformerOptions writer_options(kube::InformerOptions options) {
    options.keep_last_applied = true;
    return options;
}

}  // namespace

std::optional<std::uint64_t> numeric_resource_version(const std::string& text) {
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return v;
}

KubeStore::KubeStore(Options options, kube::LogFn log)
    : options_(std::move(options)),
      log_(std::move(log)),
      collection_(std::string("/apis/") + kRouteApiVersion + "/namespaces/" + options_.ns +
                  "/routes"),
      client_(std::make_unique<kube::Client>(options_.cluster, options_.timeouts, log_)),
      informer_(std::make_unique<kube::Informer>(*client_, collection_, kube::Selection{},
                                                 writer_options(options_.informer), log_)),
      last_valid_([this](const Object::Ptr& object) { return convert(object); }, log_) {}

std::string KubeStore::where(const std::string& name) const {
    return std::string(kRouteKind) + " " + options_.ns + "/" + name;
}

std::string KubeStore::object_path(const std::string& name) const {
    return collection_ + "/" + name;  // a checked DNS-1123 name: nothing to encode
}

RoutePtr KubeStore::convert(const Object::Ptr& object) const {
    const std::string name = kube::metadata_field(object, "name");
    const std::string what = where(name);
    const Object::Ptr spec = object->getObject("spec");
    if (spec.isNull()) {
        throw Error(what + ": spec missing");
    }
    auto stored = std::make_shared<StoredRoute>();
    try {
        check_route_name(name, "metadata.name");
        stored->route = parse_route(spec, name, options_.limits);
    } catch (const InvalidRoute& e) {
        throw Error(what + ": " + (e.field() == "metadata.name" ? "" : "spec.") + e.what());
    }
    const std::string rv = resource_version_of(object);
    const auto version = numeric_resource_version(rv);
    if (!version) {
        throw Error(what + ": resourceVersion '" + rv + "' is not a number");
    }
    stored->version = *version;
    return stored;
}

void KubeStore::update(const kube::Informer::State& objects, const std::string& resource_version) {
    const auto valid = last_valid_.update(objects);
    // Which of two routes keeps a contested domain must not depend on the
    // replica or on the order events came in: the older one does.
    std::vector<std::pair<std::string, std::string>> order;  // creationTimestamp, name
    order.reserve(valid.size());
    for (const auto& [name, route] : valid) {
        order.emplace_back(kube::metadata_field(objects.at(name), "creationTimestamp"), name);
    }
    std::sort(order.begin(), order.end());
    RouteState fresh;
    std::map<std::string, std::string> contested;
    std::uint64_t highest = 0;
    for (const auto& [created, name] : order) {
        const RoutePtr& route = valid.at(name);
        highest = std::max(highest, route->version);
        try {
            fresh.adopt(route);
        } catch (const Refused& e) {
            contested[name] = e.what();
            if (contested_[name] != e.what()) {
                log_(LogLevel::Error, where(name) + ": " + e.what() + "; left out");
            }
        }
    }
    contested_ = std::move(contested);
    fresh.set_version(numeric_resource_version(resource_version).value_or(highest));
    std::function<void()> notify;
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        state_ = std::move(fresh);
        objects_ = objects;
        synced_ = true;
        notify = on_change_;
    }
    changed_.notify_all();
    if (notify) {
        notify();
    }
}

void KubeStore::run(SourceContext& context) {
    informer_->run(context, [this](const kube::Informer::State& objects) {
        update(objects, informer_->resource_version());
    });
}

void KubeStore::load_once() {
    std::string rv;
    const kube::Informer::State objects = informer_->list(rv);
    update(objects, rv);
}

void KubeStore::stop() noexcept {
    client_->interrupt();
    changed_.notify_all();
}

void KubeStore::on_change(std::function<void()> callback) {
    const std::lock_guard<std::mutex> lock(mutex_);
    on_change_ = std::move(callback);
}

void KubeStore::require_synced() const {
    if (!synced_) {
        throw Refused(503, "the registry has not read the routes from the Kubernetes API yet");
    }
}

void KubeStore::wait_seen(const std::string& what, const std::function<bool()>& seen) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!changed_.wait_for(lock, options_.sync_timeout,
                           [&] { return seen() || client_->interrupted(); })) {
        log_(LogLevel::Warn, what +
                                 " was accepted by the API server but not seen by this "
                                 "replica's watch within " +
                                 std::to_string(options_.sync_timeout.count()) + "ms");
    }
}

kube::Response KubeStore::call(const std::string& method, const std::string& path,
                               const std::string* body) {
    try {
        return client_->request(method, path, body);
    } catch (const kube::Interrupted&) {
        throw Refused(503, "the registry is stopping");
    } catch (const std::exception& e) {
        log_(LogLevel::Warn, method + " " + path + ": " + e.what());
        throw Refused(503, "the Kubernetes API server cannot be reached");
    }
}

void KubeStore::unexpected(const std::string& what, const kube::Response& response) const {
    log_(LogLevel::Error, what + " on " + client_->server() + ": HTTP " +
                              std::to_string(response.status) + " " + response.reason + ": " +
                              status_message(response));
    if (response.status == 400 || response.status == 422) {
        throw Refused(502,
                      "the Kubernetes API server refused the route: " + status_message(response));
    }
    throw Refused(503, "the Kubernetes API server did not take the change (HTTP " +
                           std::to_string(response.status) + ")");
}

Object::Ptr KubeStore::fetch(const std::string& name) {
    const kube::Response r = call("GET", object_path(name));
    if (r.status == 404) {
        return nullptr;
    }
    if (r.status != 200) {
        unexpected("get " + where(name), r);
    }
    return kube::parse_object(r.body, "get " + where(name));
}

std::string KubeStore::object_text(const std::string& name, const Object::Ptr& known,
                                   const Object::Ptr& spec,
                                   const std::string& resource_version) const {
    Object::Ptr o;
    if (known.isNull()) {
        o = new Object;
        o->set("apiVersion", std::string(kRouteApiVersion));
        o->set("kind", std::string(kRouteKind));
        Object::Ptr meta = new Object;
        meta->set("name", name);
        meta->set("namespace", options_.ns);
        o->set("metadata", meta);
    } else {
        o = copy_of(known);
        o->getObject("metadata")->remove("managedFields");
    }
    if (!resource_version.empty()) {
        o->getObject("metadata")->set("resourceVersion", resource_version);
    }
    o->set("spec", spec);
    return kube::to_json(o);
}

KubeStore::Write KubeStore::create_only(const std::string& name, const Object::Ptr& spec) {
    const std::string body = object_text(name, nullptr, spec, "");
    Write w{call("POST", collection_, &body), PutOutcome::Created};
    if (w.response.status == 409) {
        throw Refused(412, "route '" + name + "' exists and If-None-Match is *");
    }
    if (w.response.status != 201 && w.response.status != 200) {
        unexpected("create " + where(name), w.response);
    }
    return w;
}

KubeStore::Write KubeStore::replace_version(const std::string& name, const Object::Ptr& base,
                                            const Object::Ptr& spec,
                                            const Precondition& precondition) {
    const std::string wants = ", If-Match wants " + *precondition.if_match;
    const auto wanted = parse_etag(*precondition.if_match);
    if (!wanted) {
        throw Refused(412, "route '" + name + "' has no version " + *precondition.if_match);
    }
    const std::string sent = std::to_string(*wanted);
    const std::string body = object_text(name, base, spec, sent);
    Write w{call("PUT", object_path(name), &body), PutOutcome::Replaced};
    if (w.response.status == 404) {
        throw Refused(412, "route '" + name + "' does not exist" + wants);
    }
    if (w.response.status == 409) {
        throw Refused(412, "route '" + name + "' is not at version " + sent + wants);
    }
    if (w.response.status != 200) {
        unexpected("update " + where(name), w.response);
    }
    if (resource_version_of(kube::parse_object(w.response.body, "update")) == sent) {
        w.outcome = PutOutcome::Unchanged;
    }
    return w;
}

KubeStore::Write KubeStore::write_following(const std::string& name, Object::Ptr base,
                                            const Object::Ptr& spec,
                                            const Precondition& precondition) {
    const bool must_exist = precondition.if_match.has_value();
    const std::string wants =
        must_exist ? ", If-Match wants " + *precondition.if_match : std::string();
    for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
        if (base.isNull() && must_exist) {
            base = fetch(name);
            if (base.isNull()) {
                throw Refused(412, "route '" + name + "' does not exist" + wants);
            }
        }
        if (base.isNull()) {
            const std::string body = object_text(name, nullptr, spec, "");
            Write w{call("POST", collection_, &body), PutOutcome::Created};
            if (w.response.status == 201 || w.response.status == 200) {
                return w;
            }
            if (w.response.status != 409) {
                unexpected("create " + where(name), w.response);
            }
            base = fetch(name);  // created by another writer meanwhile
            continue;
        }
        const std::string sent = resource_version_of(base);
        const std::string body = object_text(name, base, spec, sent);
        Write w{call("PUT", object_path(name), &body), PutOutcome::Replaced};
        if (w.response.status == 200) {
            if (resource_version_of(kube::parse_object(w.response.body, "update")) == sent) {
                w.outcome = PutOutcome::Unchanged;
            }
            return w;
        }
        if (w.response.status == 409) {
            base = fetch(name);  // changed by another writer meanwhile
        } else if (w.response.status == 404) {
            base = nullptr;  // deleted meanwhile
            if (must_exist) {
                throw Refused(412, "route '" + name + "' does not exist" + wants);
            }
        } else {
            unexpected("update " + where(name), w.response);
        }
    }
    throw Refused(503, "route '" + name + "' kept changing meanwhile; try again");
}

PutResult KubeStore::put(Route route, const Precondition& precondition) {
    const std::string name = route.name;
    Object::Ptr base;
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        require_synced();
        // A domain owned by another route: known here, refused before any write.
        state_.check_put(route, Precondition{});
        const auto it = objects_.find(name);
        if (it != objects_.end()) {
            base = it->second;
        }
    }
    const Object::Ptr spec = spec_of(route);
    Write written;
    if (precondition.if_none_match_any) {
        written = create_only(name, spec);
    } else if (precondition.if_match && *precondition.if_match != "*") {
        written = replace_version(name, base, spec, precondition);
    } else {
        written = write_following(name, base, spec, precondition);
    }
    const kube::Response& r = written.response;
    const PutOutcome outcome = written.outcome;
    auto stored = std::make_shared<StoredRoute>();
    stored->route = std::move(route);
    const std::string rv = resource_version_of(kube::parse_object(r.body, "write " + where(name)));
    const auto version = numeric_resource_version(rv);
    if (!version) {
        throw Error(where(name) + ": the API server answered resourceVersion '" + rv +
                    "', not a number");
    }
    stored->version = *version;
    const std::uint64_t v = stored->version;
    wait_seen("the write of " + where(name), [&] { return state_.version() >= v; });
    return PutResult{outcome, std::move(stored)};
}

std::uint64_t KubeStore::remove(const std::string& name, const Precondition& precondition) {
    std::uint64_t known = 0;
    {
        const std::lock_guard<std::mutex> lock(mutex_);
        require_synced();
        if (const RoutePtr current = state_.find(name)) {
            known = current->version;
        }
    }
    const std::string wants =
        precondition.if_match ? ", If-Match wants " + *precondition.if_match : std::string();
    kube::Response r;
    for (int attempt = 0;; ++attempt) {
        if (attempt == kMaxAttempts) {
            throw Refused(503, "route '" + name + "' kept changing meanwhile; try again");
        }
        std::string required;  // the resourceVersion the delete requires
        if (precondition.if_match && *precondition.if_match == "*") {
            const Object::Ptr current = fetch(name);
            if (current.isNull()) {
                throw Refused(412, "route '" + name + "' does not exist" + wants);
            }
            required = resource_version_of(current);
        } else if (precondition.if_match) {
            const auto wanted = parse_etag(*precondition.if_match);
            if (!wanted) {
                throw Refused(412, "route '" + name + "' has no version " + *precondition.if_match);
            }
            required = std::to_string(*wanted);
        }
        std::string body;
        if (!required.empty()) {
            Object::Ptr options = new Object;
            options->set("apiVersion", std::string("v1"));
            options->set("kind", std::string("DeleteOptions"));
            Object::Ptr preconditions = new Object;
            preconditions->set("resourceVersion", required);
            options->set("preconditions", preconditions);
            body = kube::to_json(options);
        }
        r = call("DELETE", object_path(name), body.empty() ? nullptr : &body);
        if (r.status == 200 || r.status == 202) {
            break;
        }
        if (r.status == 404) {
            if (precondition.if_match) {
                throw Refused(412, "route '" + name + "' does not exist" + wants);
            }
            throw Refused(404, "route '" + name + "' does not exist");
        }
        if (r.status != 409) {
            unexpected("delete " + where(name), r);
        }
        if (!precondition.if_match || *precondition.if_match != "*") {
            throw Refused(412, "route '" + name + "' is not at version " + required + wants);
        }
    }
    // The deleted object, when the server sends it back, names the version gone.
    try {
        const Object::Ptr gone = kube::parse_object(r.body, "delete");
        if (kube::get_string(gone, "kind") == kRouteKind) {
            known =
                std::max(known, numeric_resource_version(resource_version_of(gone)).value_or(0));
        }
    } catch (const std::exception&) {  // NOLINT(bugprone-empty-catch): a Status body
    }
    wait_seen("the delete of " + where(name), [&] {
        const RoutePtr current = state_.find(name);
        return !current || current->version > known;
    });
    const std::lock_guard<std::mutex> lock(mutex_);
    return state_.version();
}

RoutePtr KubeStore::get(const std::string& name) {
    const std::lock_guard<std::mutex> lock(mutex_);
    require_synced();
    return state_.find(name);
}

View KubeStore::view() {
    const std::lock_guard<std::mutex> lock(mutex_);
    require_synced();
    return View{state_.version(), state_.routes()};
}

}  // namespace crossover::route_registry
