// Option table entries and readers shared by the Kubernetes plugins.
#pragma once

#include <vector>

#include "crossover/option_table.h"
#include "crossover/options.h"
#include "crossover_kube/client.h"
#include "crossover_kube/config.h"
#include "crossover_kube/informer.h"

// How to reach the API server (every Kubernetes plugin).
#define CROSSOVER_KUBE_CONNECTION_OPTIONS                                                      \
    {"apiserver", crossover::OptionType::String, nullptr, false,                               \
     "API server URL (https://host:port); default: from the kubeconfig, else in-cluster"},     \
        {"kubeconfig", crossover::OptionType::String, nullptr, false,                          \
         "kubeconfig file; default: $KUBECONFIG, else ~/.kube/config when it exists"},         \
        {"context", crossover::OptionType::String, nullptr, false,                             \
         "kubeconfig context to use; default: the kubeconfig's current-context"},              \
        {"token_file", crossover::OptionType::String, nullptr, false,                          \
         "bearer token file, re-read every token_refresh and after any 401; default: the "     \
         "kubeconfig user's, else the service account's"},                                     \
        {"ca_file", crossover::OptionType::String, nullptr, false,                             \
         "PEM CA bundle that signs the API server's certificate; default: the kubeconfig's "   \
         "certificate-authority, else the service account's ca.crt, else the system CAs"},     \
        {"insecure", crossover::OptionType::Bool, "false", false,                              \
         "skip TLS certificate verification (logged as a warning; never use in production)"},  \
        {"namespace", crossover::OptionType::String, nullptr, false,                           \
         "namespace; default: $POD_NAMESPACE, else the service account's namespace, else the " \
         "kubeconfig context's, else default"},                                                \
        {"connect_timeout", crossover::OptionType::Duration, "10s", false,                     \
         "TCP/TLS connect timeout"},                                                           \
        {"request_timeout", crossover::OptionType::Duration, "30s", false,                     \
         "read timeout of list/get/create/update requests"},                                   \
    {                                                                                          \
        "token_refresh", crossover::OptionType::Duration, "60s", false,                        \
            "how often the token file is re-read"                                              \
    }

// Which objects to watch and how (the sources).
#define CROSSOVER_KUBE_WATCH_OPTIONS                                                            \
    {"names", crossover::OptionType::StringList, nullptr, false,                                \
     "object names to watch; each one is required (see wait_timeout)"},                         \
        {"label_selector", crossover::OptionType::String, nullptr, false,                       \
         "label selector (e.g. app=envoy,tier!=dev); combined with names when both are given"}, \
        CROSSOVER_KUBE_WATCH_TUNING_OPTIONS

// How a source lists and watches (relists, timeouts, retries).
#define CROSSOVER_KUBE_WATCH_TUNING_OPTIONS                                                      \
    {"resync", crossover::OptionType::Duration, "10m", false,                                    \
     "relist everything this often as a safety net (0 disables)"},                               \
        {"timeout", crossover::OptionType::Duration, "60s", false,                               \
         "timeoutSeconds of each watch request; the stream is then resumed"},                    \
        {"read_timeout", crossover::OptionType::Duration, "0", false,                            \
         "a watch stream silent for this long is dropped and resumed (0: timeout + 10s)"},       \
        {"backoff_initial", crossover::OptionType::Duration, "250ms", false,                     \
         "first retry delay after a failure (doubles, with jitter)"},                            \
        {"backoff_max", crossover::OptionType::Duration, "30s", false, "longest retry delay"}, { \
        "wait_timeout", crossover::OptionType::Duration, "30s", false,                           \
            "one-time mode: how long to wait for the named objects before failing"               \
    }

namespace crossover::kube {

// ---- typed option groups (crossover/option_table.h) -------------------------
// A plugin's options struct holds a ConnectionOptions, a Timeouts and (for
// sources) an InformerOptions member; its table includes these groups with
// option_group(kube::connection_fields(), &MyOptions::connection), and so on.

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

inline ConnectionOptions connection_options(const ComponentConfig& config) {
    ConnectionOptions o;
    o.apiserver = config.get_string("apiserver");
    o.kubeconfig = config.get_path("kubeconfig");
    o.context = config.get_string("context");
    o.token_file = config.get_path("token_file");
    o.ca_file = config.get_path("ca_file");
    o.ns = config.get_string("namespace");
    o.insecure = config.get_bool("insecure");
    return o;
}

inline Timeouts timeouts(const ComponentConfig& config) {
    Timeouts t;
    if (config.has("connect_timeout")) {
        t.connect = config.get_duration("connect_timeout");
    }
    if (config.has("request_timeout")) {
        t.request = config.get_duration("request_timeout");
    }
    if (config.has("token_refresh")) {
        t.token_refresh = config.get_duration("token_refresh");
    }
    return t;
}

inline InformerOptions informer_options(const ComponentConfig& config) {
    InformerOptions o;
    if (config.has("timeout")) {
        o.watch_timeout = config.get_duration("timeout");
    }
    o.read_timeout = config.get_duration("read_timeout");
    o.resync = config.get_duration("resync");
    if (config.has("backoff_initial")) {
        o.backoff_initial = config.get_duration("backoff_initial");
    }
    if (config.has("backoff_max")) {
        o.backoff_max = config.get_duration("backoff_max");
    }
    return o;
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
