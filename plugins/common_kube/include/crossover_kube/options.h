// Option groups shared by the Kubernetes plugins.
#pragma once

#include <chrono>
#include <initializer_list>
#include <string>
#include <vector>

#include "crossover/option_table.h"
#include "crossover/options.h"
#include "crossover_kube/client.h"
#include "crossover_kube/config.h"
#include "crossover_kube/informer.h"

namespace crossover::kube {

// How a source watches, beyond the informer's own tuning.
struct WatchOptions {
    InformerOptions informer;
    std::chrono::milliseconds wait_timeout{30000};  // one-time mode: wait for the named objects
};

// What a source that watches one collection by names and label selector reads.
struct SourceOptions {
    ConnectionOptions connection;
    Timeouts timeouts;
    Selection selection;
    WatchOptions watch;
};

// ---- typed option groups (crossover/option_table.h) -------------------------
// A plugin's options struct holds a ConnectionOptions and a Timeouts member
// (a source: a SourceOptions, or a WatchOptions when it selects its objects
// itself); its table includes these groups with
// option_group(kube::connection_fields(), &MyOptions::connection), and so on.

// The entries of several groups of the same struct, in order.
template <typename T>
std::vector<OptionField<T>> joined_fields(std::initializer_list<OptionFields<T>> groups) {
    std::vector<OptionField<T>> out;
    for (const auto& g : groups) {
        out.insert(out.end(), g.items.begin(), g.items.end());
    }
    return out;
}

// Object names (one, or a list): Kubernetes names are never empty, and an
// empty one would be waited for forever.
inline bool check_object_names(const YAML::Node& value, std::string& why) {
    const auto empty = [](const YAML::Node& n) { return n.IsScalar() && n.Scalar().empty(); };
    bool any_empty = empty(value);
    if (value.IsSequence()) {
        for (const auto& item : value) {
            any_empty = any_empty || empty(item);
        }
    }
    if (any_empty) {
        why = "an object name is empty";
        return false;
    }
    return true;
}

inline const std::vector<OptionField<ConnectionOptions>>& connection_fields() {
    using C = ConnectionOptions;
    static const std::vector<OptionField<C>> fields{
        option("apiserver", &C::apiserver,
               "API server URL (https://host:port); default: from the kubeconfig, else "
               "in-cluster"),
        option("kubeconfig", &C::kubeconfig,
               "kubeconfig file; default: $KUBECONFIG, else ~/.kube/config when it exists")
            .path(),
        option("context", &C::context,
               "kubeconfig context to use; default: the kubeconfig's current-context"),
        option("token_file", &C::token_file,
               "bearer token file, re-read every token_refresh and after any 401; default: the "
               "kubeconfig user's, else the service account's")
            .path(),
        option("ca_file", &C::ca_file,
               "PEM CA bundle that signs the API server's certificate; default: the "
               "kubeconfig's certificate-authority, else the service account's ca.crt, else the "
               "system CAs")
            .path(),
        option("insecure", &C::insecure,
               "skip TLS certificate verification (logged as a warning; never use in "
               "production)"),
        option("namespace", &C::ns,
               "namespace; default: $POD_NAMESPACE, else the service account's namespace, else "
               "the kubeconfig context's, else default"),
    };
    return fields;
}

inline const std::vector<OptionField<Timeouts>>& timeout_fields() {
    static const std::vector<OptionField<Timeouts>> fields{
        option("connect_timeout", &Timeouts::connect, "TCP/TLS connect timeout"),
        option("request_timeout", &Timeouts::request,
               "read timeout of list/get/create/update requests"),
        option("token_refresh", &Timeouts::token_refresh, "how often the token file is re-read")
            .at_least(std::chrono::milliseconds(1)),
    };
    return fields;
}

// How a source lists and watches (relists, timeouts, retries).
inline const std::vector<OptionField<InformerOptions>>& informer_fields() {
    using I = InformerOptions;
    static const std::vector<OptionField<I>> fields{
        option("resync", &I::resync, "relist everything this often as a safety net (0 disables)"),
        option("timeout", &I::watch_timeout,
               "timeoutSeconds of each watch request; the stream is then resumed"),
        option("read_timeout", &I::read_timeout,
               "a watch stream silent for this long is dropped and resumed (0: timeout + 10s)"),
        option("backoff_initial", &I::backoff_initial,
               "first retry delay after a failure (doubles, with jitter)")
            .at_least(std::chrono::milliseconds(1)),
        option("backoff_max", &I::backoff_max, "longest retry delay")
            .at_least(std::chrono::milliseconds(1)),
    };
    return fields;
}

// Which objects a source watches.
inline const std::vector<OptionField<Selection>>& selection_fields() {
    static const std::vector<OptionField<Selection>> fields{
        option("names", &Selection::names,
               "object names to watch; each one is required (see wait_timeout)")
            .check(check_object_names),
        option("label_selector", &Selection::label_selector,
               "label selector (e.g. app=envoy,tier!=dev); combined with names when both are "
               "given"),
    };
    return fields;
}

// How a source lists and watches (relists, timeouts, retries), and how long
// one-time mode waits.
inline const std::vector<OptionField<WatchOptions>>& watch_fields() {
    static const std::vector<OptionField<WatchOptions>> fields = joined_fields<WatchOptions>({
        option_group(informer_fields(), &WatchOptions::informer),
        option("wait_timeout", &WatchOptions::wait_timeout,
               "one-time mode: how long to wait for the named objects before failing"),
    });
    return fields;
}

// Everything a source watching one collection reads: connection, timeouts,
// selection and watch.
inline const std::vector<OptionField<SourceOptions>>& source_fields() {
    using S = SourceOptions;
    static const std::vector<OptionField<S>> fields = joined_fields<S>({
        option_group(connection_fields(), &S::connection),
        option_group(timeout_fields(), &S::timeouts),
        option_group(selection_fields(), &S::selection),
        option_group(watch_fields(), &S::watch),
    });
    return fields;
}

inline LogFn logger_for(const ComponentConfig& config) {
    Logger* logger = config.logger;
    std::string name = config.name;
    return [logger, name](LogLevel level, std::string_view message) {
        if (logger != nullptr) {
            logger->log(level, name, message);
        }
    };
}

}  // namespace crossover::kube
