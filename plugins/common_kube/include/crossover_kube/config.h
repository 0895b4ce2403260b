// Where the Kubernetes API server is and how to authenticate to it.
//
// Resolution, most specific first:
//  1. explicit options (apiserver, token_file, ca_file, insecure, kubeconfig);
//  2. a kubeconfig file (the `kubeconfig` option, else $KUBECONFIG, else
//     ~/.kube/config when it exists): its current context's cluster and user;
//  3. in-cluster: KUBERNETES_SERVICE_HOST/_PORT and the service-account files
//     (token, ca.crt, namespace) in /var/run/secrets/kubernetes.io/serviceaccount
//     (overridable with $CROSSOVER_SERVICEACCOUNT_DIR, for tests).
// Explicit options override single fields of whatever the lower levels found.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace crossover::kube {

// What the user asked for; empty fields mean "not given".
struct ConnectionOptions {
    std::string apiserver;
    std::string token_file;
    std::string ca_file;
    std::string kubeconfig;
    std::string context;  // kubeconfig context; empty: its current-context
    std::string ns;       // namespace option
    bool insecure = false;
};

// The process environment, injectable for tests.
struct Environment {
    std::function<std::optional<std::string>(const std::string&)> getenv;
    std::string serviceaccount_dir;  // default: the in-cluster directory

    // The real environment.
    static Environment system();
};

struct ClusterConfig {
    std::string server;  // "https://host:port" (http:// allowed for tests)
    std::string ca_file;
    std::string ca_data;  // PEM text
    std::string token;
    std::string token_file;
    std::string client_cert_file;
    std::string client_cert_data;  // PEM text
    std::string client_key_file;
    std::string client_key_data;  // PEM text
    bool insecure = false;
    std::string ns;  // the namespace to use when the user gave none
    // Where server and credentials come from, for the start-up log line:
    // "the apiserver option, token file /t", "kubeconfig /path (context x)",
    // "in-cluster".
    std::string origin;
};

// Throws crossover::Error with a message naming what is missing or wrong.
ClusterConfig resolve_config(const ConnectionOptions& options, const Environment& env);

// Parses one kubeconfig file into `out`, using `context` (its current-context
// when empty); relative paths resolve against the file's directory. Throws
// crossover::Error.
void load_kubeconfig(const std::string& path, ClusterConfig& out, std::string& context_ns,
                     const std::string& context = {});

}  // namespace crossover::kube
