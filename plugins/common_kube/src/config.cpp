#include "crossover_kube/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "crossover/files.h"
#include "crossover/status.h"
#include "kubeconfig.h"

namespace crossover::kube {
namespace {

namespace fs = std::filesystem;

constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

std::optional<std::string> read_small_file(const std::string& path) {
    std::string problem;
    return read_regular_file(path, problem);
}

std::string trim(std::string s) {
    const auto not_space = [](char c) { return c != ' ' && c != '\n' && c != '\r' && c != '\t'; };
    while (!s.empty() && !not_space(s.back())) {
        s.pop_back();
    }
    std::size_t i = 0;
    while (i < s.size() && !not_space(s[i])) {
        ++i;
    }
    return s.substr(i);
}

bool in_cluster_available(const Environment& env) {
    return env.getenv("KUBERNETES_SERVICE_HOST").has_value();
}

void load_in_cluster(const Environment& env, ClusterConfig& out, bool need_server) {
    const std::string dir = env.serviceaccount_dir;
    if (need_server) {
        const auto host = env.getenv("KUBERNETES_SERVICE_HOST");
        const auto port = env.getenv("KUBERNETES_SERVICE_PORT");
        if (!host) {
            throw Error("not running in a cluster (KUBERNETES_SERVICE_HOST unset)");
        }
        std::string h = *host;
        if (h.empty()) {
            throw Error(
                "in-cluster: $KUBERNETES_SERVICE_HOST is empty (the pod's environment names the "
                "API server there); set it, or give the apiserver or kubeconfig option");
        }
        if (port && (port->empty() || port->size() > 5 ||
                     port->find_first_not_of("0123456789") != std::string::npos ||
                     std::stoi(*port) < 1 || std::stoi(*port) > 65535)) {
            throw Error("in-cluster: $KUBERNETES_SERVICE_PORT '" + *port +
                        "' is not a port number (1 to 65535); set it, or give the apiserver "
                        "option");
        }
        if (h.find(':') != std::string::npos) {
            h = "[" + h + "]";  // IPv6 literal
        }
        out.server = "https://" + h + ":" + (port ? *port : std::string("443"));
        out.origin = "in-cluster";
    }
    const std::string token = dir + "/token";
    if (fs::exists(token)) {
        out.token_file = token;
    }
    const std::string ca = dir + "/ca.crt";
    if (fs::exists(ca)) {
        out.ca_file = ca;
    }
}

std::string in_cluster_namespace(const Environment& env) {
    if (auto ns = read_small_file(env.serviceaccount_dir + "/namespace")) {
        std::string t = trim(*ns);
        if (!t.empty()) {
            return t;
        }
    }
    return {};
}

std::string default_kubeconfig(const Environment& env) {
    if (auto kc = env.getenv("KUBECONFIG"); kc && !kc->empty()) {
        // A colon-separated list: the first file that exists wins.
        std::stringstream ss(*kc);
        std::string item;
        while (std::getline(ss, item, ':')) {
            if (!item.empty() && fs::exists(item)) {
                return item;
            }
        }
        return {};
    }
    if (auto home = env.getenv("HOME"); home && !home->empty()) {
        std::string p = *home + "/.kube/config";
        if (fs::exists(p)) {
            return p;
        }
    }
    return {};
}

// ", and no file $KUBECONFIG names exists (a:b)" when it names only missing files, else "".
std::string kubeconfig_env_missing(const Environment& env) {
    const auto kc = env.getenv("KUBECONFIG");
    if (!kc || kc->empty()) {
        return {};
    }
    return ", and no file $KUBECONFIG names exists (" + *kc + ")";
}

}  // namespace

Environment Environment::system() {
    Environment env;
    env.getenv = [](const std::string& name) -> std::optional<std::string> {
        const char* v = std::getenv(name.c_str());
        if (v == nullptr) {
            return std::nullopt;
        }
        return std::string(v);
    };
    const char* dir = std::getenv("CROSSOVER_SERVICEACCOUNT_DIR");
    env.serviceaccount_dir = (dir != nullptr && *dir != '\0') ? dir : kServiceAccountDir;
    return env;
}

ClusterConfig resolve_config(const ConnectionOptions& options, const Environment& env) {
    ClusterConfig out;
    std::string kubeconfig_ns;
    detail::KubeconfigSources sources;  // where the kubeconfig's values are, for errors
    std::string kubeconfig = options.kubeconfig;
    if (!kubeconfig.empty()) {
        if (!fs::exists(kubeconfig)) {
            throw Error("kubeconfig " + kubeconfig +
                        ": no such file; give the path of an existing kubeconfig (or leave the "
                        "option out to use $KUBECONFIG, ~/.kube/config or the in-cluster "
                        "configuration)");
        }
        detail::read_kubeconfig(kubeconfig, out, kubeconfig_ns, options.context, sources);
    } else if (options.apiserver.empty()) {
        kubeconfig = default_kubeconfig(env);
        if (!kubeconfig.empty()) {
            detail::read_kubeconfig(kubeconfig, out, kubeconfig_ns, options.context, sources);
        } else if (!options.context.empty()) {
            throw Error("context '" + options.context + "': no kubeconfig found" +
                        kubeconfig_env_missing(env) +
                        " (give the kubeconfig option, $KUBECONFIG or ~/.kube/config)");
        } else if (in_cluster_available(env)) {
            load_in_cluster(env, out, true);
        } else {
            throw Error("no Kubernetes API server configured" + kubeconfig_env_missing(env) +
                        ": set the apiserver or kubeconfig option, $KUBECONFIG or "
                        "~/.kube/config, or run in a cluster");
        }
    } else {
        if (!options.context.empty()) {
            throw Error("context '" + options.context +
                        "' needs a kubeconfig (the kubeconfig option, $KUBECONFIG or "
                        "~/.kube/config) instead of an explicit apiserver");
        }
        // An explicit server: credentials default to the service account's, as
        // the original crossover's --token-file default does.
        load_in_cluster(env, out, false);
    }
    if (!options.apiserver.empty()) {
        out.server = options.apiserver;
        sources.server = {};
        out.origin = "the apiserver option";
        if (!kubeconfig.empty()) {
            out.origin += ", credentials from kubeconfig " + kubeconfig;
        }
    }
    if (!options.token_file.empty()) {
        out.token_file = options.token_file;
        out.token.clear();
        sources.token_file = {};
    }
    if (!options.ca_file.empty()) {
        out.ca_file = options.ca_file;
        out.ca_data.clear();
        sources.ca_file = {};
    }
    if (options.insecure) {
        out.insecure = true;
    }
    if (!options.apiserver.empty()) {
        // Said at start-up: which credentials go with the explicit server.
        out.origin += out.token_file.empty() ? std::string(", no token file")
                                             : ", token file " + out.token_file;
    }
    while (!out.server.empty() && out.server.back() == '/') {
        out.server.pop_back();
    }
    if (sources.server.where.empty()) {
        if (out.server.rfind("https://", 0) != 0 && out.server.rfind("http://", 0) != 0) {
            throw Error("API server URL '" + out.server + "' must start with https:// or http://");
        }
        if (const std::string p = detail::server_url_problem(out.server); !p.empty()) {
            throw Error((options.apiserver.empty()
                             ? std::string("in-cluster ($KUBERNETES_SERVICE_HOST, "
                                           "$KUBERNETES_SERVICE_PORT)")
                             : std::string("the apiserver option")) +
                        ": API server URL " + p);
        }
    }
    // The kubeconfig's values that are still in effect, reported at their field and line.
    detail::check_kubeconfig_values(out, sources);

    if (!options.ns.empty()) {
        out.ns = options.ns;
    } else if (auto pod_ns = env.getenv("POD_NAMESPACE"); pod_ns && !pod_ns->empty()) {
        out.ns = *pod_ns;
    } else if (std::string sa_ns = in_cluster_namespace(env); !sa_ns.empty()) {
        out.ns = sa_ns;
    } else if (!kubeconfig_ns.empty()) {
        out.ns = kubeconfig_ns;
    } else {
        out.ns = "default";
    }
    return out;
}

}  // namespace crossover::kube
