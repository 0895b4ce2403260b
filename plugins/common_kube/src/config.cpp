#include "crossover_kube/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <Poco/Base64Decoder.h>
#include <yaml-cpp/yaml.h>

#include "crossover/files.h"
#include "crossover/status.h"
#include "crossover/yaml_load.h"

namespace crossover::kube {
namespace {

namespace fs = std::filesystem;

constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

std::string decode_base64(const std::string& text, const std::string& what) {
    try {
        std::istringstream in(text);
        Poco::Base64Decoder decoder(in);
        std::string out;
        std::ostringstream buf;
        buf << decoder.rdbuf();
        return buf.str();
    } catch (const std::exception& e) {
        throw Error(what + ": invalid base64: " + e.what());
    }
}

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

std::string resolve_relative(const std::string& path, const fs::path& base) {
    if (path.empty() || path[0] == '/') {
        return path;
    }
    return (base / path).string();
}

YAML::Node find_named(const YAML::Node& list, const std::string& name, const std::string& section,
                      const std::string& file) {
    if (list && list.IsSequence()) {
        for (const auto& item : list) {
            if (item["name"] && item["name"].IsScalar() && item["name"].Scalar() == name) {
                return item;
            }
        }
    }
    throw Error("kubeconfig " + file + ": " + section + " '" + name + "' not found");
}

std::string scalar(const YAML::Node& map, const char* key) {
    if (!map || !map.IsMap()) {
        return {};
    }
    const YAML::Node n = map[key];
    if (!n || !n.IsScalar()) {
        return {};
    }
    return n.Scalar();
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

void load_kubeconfig(const std::string& path, ClusterConfig& out, std::string& context_ns,
                     const std::string& context) {
    std::string problem;
    const auto text = read_regular_file(path, problem);
    if (!text) {
        throw Error("kubeconfig " + path + ": " + problem);
    }
    YAML::Node root;
    try {
        root = load_yaml(*text);
    } catch (const YAML::Exception& e) {
        throw Error("kubeconfig " + path + ": " + e.what());
    }
    if (!root.IsMap()) {
        throw Error("kubeconfig " + path + ": not a map");
    }
    const fs::path base = fs::absolute(fs::path(path)).parent_path();
    const std::string current = context.empty() ? scalar(root, "current-context") : context;
    if (current.empty()) {
        throw Error("kubeconfig " + path +
                    ": no current-context (choose one with the context "
                    "option)");
    }
    const YAML::Node ctx = find_named(root["contexts"], current, "context", path)["context"];
    const std::string cluster_name = scalar(ctx, "cluster");
    const std::string user_name = scalar(ctx, "user");
    context_ns = scalar(ctx, "namespace");
    if (cluster_name.empty()) {
        throw Error("kubeconfig " + path + ": context '" + current + "' names no cluster");
    }
    const YAML::Node cluster =
        find_named(root["clusters"], cluster_name, "cluster", path)["cluster"];
    out.server = scalar(cluster, "server");
    if (out.server.empty()) {
        throw Error("kubeconfig " + path + ": cluster '" + cluster_name + "' has no server");
    }
    const std::string where = "kubeconfig " + path + ": cluster '" + cluster_name + "'";
    out.ca_file = resolve_relative(scalar(cluster, "certificate-authority"), base);
    if (const std::string d = scalar(cluster, "certificate-authority-data"); !d.empty()) {
        out.ca_data = decode_base64(d, where + " certificate-authority-data");
    }
    if (const std::string s = scalar(cluster, "insecure-skip-tls-verify"); !s.empty()) {
        out.insecure = (s == "true" || s == "True" || s == "TRUE");
    }
    if (!user_name.empty()) {
        const YAML::Node user = find_named(root["users"], user_name, "user", path)["user"];
        const std::string uwhere = "kubeconfig " + path + ": user '" + user_name + "'";
        out.token = scalar(user, "token");
        out.token_file = resolve_relative(scalar(user, "tokenFile"), base);
        out.client_cert_file = resolve_relative(scalar(user, "client-certificate"), base);
        out.client_key_file = resolve_relative(scalar(user, "client-key"), base);
        if (const std::string d = scalar(user, "client-certificate-data"); !d.empty()) {
            out.client_cert_data = decode_base64(d, uwhere + " client-certificate-data");
        }
        if (const std::string d = scalar(user, "client-key-data"); !d.empty()) {
            out.client_key_data = decode_base64(d, uwhere + " client-key-data");
        }
    }
    out.origin = "kubeconfig " + path + " (context " + current + ")";
}

ClusterConfig resolve_config(const ConnectionOptions& options, const Environment& env) {
    ClusterConfig out;
    std::string kubeconfig_ns;
    std::string kubeconfig = options.kubeconfig;
    if (!kubeconfig.empty()) {
        if (!fs::exists(kubeconfig)) {
            throw Error("kubeconfig " + kubeconfig + ": no such file");
        }
        load_kubeconfig(kubeconfig, out, kubeconfig_ns, options.context);
    } else if (options.apiserver.empty()) {
        kubeconfig = default_kubeconfig(env);
        if (!kubeconfig.empty()) {
            load_kubeconfig(kubeconfig, out, kubeconfig_ns, options.context);
        } else if (!options.context.empty()) {
            throw Error("context '" + options.context +
                        "': no kubeconfig found (give the kubeconfig option, $KUBECONFIG or "
                        "~/.kube/config)");
        } else if (in_cluster_available(env)) {
            load_in_cluster(env, out, true);
        } else {
            throw Error(
                "no Kubernetes API server configured: set the apiserver or kubeconfig option, "
                "$KUBECONFIG or ~/.kube/config, or run in a cluster");
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
        out.origin = "the apiserver option";
        if (!kubeconfig.empty()) {
            out.origin += ", credentials from kubeconfig " + kubeconfig;
        }
    }
    if (!options.token_file.empty()) {
        out.token_file = options.token_file;
        out.token.clear();
    }
    if (!options.ca_file.empty()) {
        out.ca_file = options.ca_file;
        out.ca_data.clear();
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
    if (out.server.rfind("https://", 0) != 0 && out.server.rfind("http://", 0) != 0) {
        throw Error("API server URL '" + out.server + "' must start with https:// or http://");
    }

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
