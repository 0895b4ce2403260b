#include "kubeconfig.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include <Poco/Base64Decoder.h>
#include <Poco/URI.h>
#include <yaml-cpp/yaml.h>

#include "crossover/errors.h"
#include "crossover/files.h"
#include "crossover/status.h"
#include "crossover/yaml_load.h"

namespace crossover::kube {
namespace detail {
namespace {

namespace fs = std::filesystem;

bool is_space(char c) {
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

bool blank(const std::string& s) {
    for (const char c : s) {
        if (!is_space(c)) {
            return false;
        }
    }
    return true;
}

// "ftp://h", "https:" or "unix:/x" rather than "host:6443" or "10.0.0.1".
bool has_scheme(const std::string& s) {
    const std::size_t colon = s.find(':');
    if (colon == std::string::npos || colon == 0) {
        return false;
    }
    for (std::size_t i = 0; i < colon; ++i) {
        const char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
            return false;
        }
    }
    return colon + 1 >= s.size() || s[colon + 1] < '0' || s[colon + 1] > '9';
}

std::string resolve_relative(const std::string& path, const fs::path& base) {
    if (path.empty() || path[0] == '/') {
        return path;
    }
    return (base / path).string();
}

// "'x'" for a printable character, "byte 0x07" otherwise.
std::string describe_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
        return std::string("character '") + c + "'";
    }
    char buf[16];
    std::snprintf(buf, sizeof buf, "byte 0x%02x", static_cast<unsigned>(u));
    return buf;
}

// Standard base64 as kubectl writes it; line breaks and spaces are skipped.
std::string decode_base64(const std::string& text, const std::string& where,
                          const std::string& hint) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=' || is_space(c);
        if (!ok) {
            throw Error(where + ": not valid base64: " + describe_char(c) + " at offset " +
                        std::to_string(i) + "; " + hint);
        }
    }
    try {
        std::istringstream in(text);
        Poco::Base64Decoder decoder(in);
        std::ostringstream buf;
        buf << decoder.rdbuf();
        return buf.str();
    } catch (const std::exception& e) {
        throw Error(where + ": not valid base64 (" + e.what() + "); " + hint);
    }
}

// Reads the fields of one kubeconfig, each error at "kubeconfig FILE:LINE: FIELD".
class Reader {
public:
    explicit Reader(std::string file) : file_(std::move(file)) {}

    [[nodiscard]] std::string at(const YAML::Node& node, const YamlPath& path) const {
        std::string out = "kubeconfig " + file_;
        if (node && !node.Mark().is_null()) {
            out += ":" + std::to_string(node.Mark().line + 1);
        }
        if (!path.empty()) {
            out += ": " + path.str();
        }
        return out;
    }

    [[noreturn]] void fail(const YAML::Node& node, const YamlPath& path,
                           const std::string& problem) const {
        throw Error(at(node, path) + ": " + problem);
    }

    // A string field; absent or null gives "". `map` must be a map or null.
    [[nodiscard]] std::string text(const YAML::Node& map, const YamlPath& map_path,
                                   const char* key) const {
        if (!map || !map.IsMap()) {
            return {};
        }
        const YAML::Node n = map[key];
        if (!n || n.IsNull()) {
            return {};
        }
        if (!n.IsScalar()) {
            fail(n, map_path.key(key), "expected a string, got " + yaml_type_name(n));
        }
        return n.Scalar();
    }

    [[nodiscard]] YAML::Node field(const YAML::Node& map, const char* key) const {
        if (!map || !map.IsMap()) {
            return {};
        }
        return map[key];
    }

    struct Entry {
        YAML::Node body;  // the entry's `context`, `cluster` or `user` map (may be null)
        YamlPath path;    // "users[2].user"
    };

    // The entry of `section` (contexts, clusters, users) named `name`, with its
    // `body_key` (context, cluster, user). `referrer` is where the name was given.
    [[nodiscard]] Entry named(const YAML::Node& root, const char* section, const char* body_key,
                              const std::string& name, const std::string& referrer,
                              const std::string& hint) const {
        const YamlPath list_path = YamlPath().key(section);
        const YAML::Node list = root[section];
        if (list && !list.IsNull()) {
            if (!list.IsSequence()) {
                fail(list, list_path,
                     std::string("expected a list of entries with name and ") + body_key +
                         ", got " + yaml_type_name(list));
            }
            std::size_t i = 0;
            for (const auto& item : list) {
                const YamlPath item_path = list_path.index(i++);
                if (!item.IsMap()) {
                    fail(item, item_path,
                         std::string("expected a map with name and ") + body_key + ", got " +
                             yaml_type_name(item));
                }
                if (text(item, item_path, "name") == name) {
                    return Entry{item[body_key], item_path.key(body_key)};
                }
            }
        }
        throw Error(referrer + ": " + body_key + " '" + name + "' not found in " + section + " (" +
                    names_in(root, section) + "); " + hint);
    }

    // "the file has 'a', 'b'" or "the file has none", never throwing; ten names at most.
    [[nodiscard]] static std::string names_in(const YAML::Node& root, const char* section) {
        constexpr std::size_t kShown = 10;
        std::string out;
        std::size_t count = 0;
        const YAML::Node list = root[section];
        if (list && list.IsSequence()) {
            for (const auto& item : list) {
                if (!item.IsMap()) {
                    continue;
                }
                const YAML::Node n = item["name"];
                if (n && n.IsScalar()) {
                    if (count++ < kShown) {
                        out += out.empty() ? "'" : ", '";
                        out += n.Scalar() + "'";
                    }
                }
            }
        }
        if (count > kShown) {
            out += " and " + std::to_string(count - kShown) + " more";
        }
        return out.empty() ? std::string("the file has none") : "the file has " + out;
    }

private:
    std::string file_;
};

// What a user entry asks for that crossover cannot do itself, or "".
std::string unsupported_credential(const Reader& r, const YAML::Node& user, const YamlPath& path,
                                   YAML::Node& node, YamlPath& node_path) {
    if (const YAML::Node exec = r.field(user, "exec"); exec && !exec.IsNull()) {
        node = exec;
        node_path = path.key("exec");
        const YAML::Node command = r.field(exec, "command");
        return command && command.IsScalar()
                   ? "the exec credential plugin (command '" + command.Scalar() + "')"
                   : std::string("an exec credential plugin");
    }
    if (const YAML::Node provider = r.field(user, "auth-provider");
        provider && !provider.IsNull()) {
        node = provider;
        node_path = path.key("auth-provider");
        const YAML::Node name = r.field(provider, "name");
        return name && name.IsScalar() ? "the auth-provider '" + name.Scalar() + "'"
                                       : std::string("an auth-provider");
    }
    if (const YAML::Node username = r.field(user, "username"); username && !username.IsNull()) {
        node = username;
        node_path = path.key("username");
        return "basic authentication (username and password)";
    }
    return {};
}

// The user's inline token without surrounding white space (a block scalar's
// line break would end up in the Authorization header); a token is one word.
std::string bearer_token(const Reader& r, const YAML::Node& user, const YamlPath& path) {
    std::string token = r.text(user, path, "token");
    const std::size_t begin = token.find_first_not_of(" \t\r\n");
    if (begin == std::string::npos) {
        return {};
    }
    token = token.substr(begin, token.find_last_not_of(" \t\r\n") - begin + 1);
    for (std::size_t i = 0; i < token.size(); ++i) {
        const auto u = static_cast<unsigned char>(token[i]);
        if (u <= 0x20 || u == 0x7f) {
            r.fail(user["token"], path.key("token"),
                   "holds " + describe_char(token[i]) + " at offset " + std::to_string(i) +
                       "; a bearer token is one word: give it on one line without spaces");
        }
    }
    return token;
}

// The file a kubeconfig value names, read; throws at the value's field and line.
std::string read_named_file(const KubeconfigValue& value, const std::string& resolved,
                            const std::string& hint) {
    std::string problem;
    auto content = read_regular_file(resolved, problem);
    if (!content) {
        std::string shown = "'" + value.written + "'";
        if (resolved != value.written) {
            shown += " (" + resolved + ", relative to the kubeconfig's directory)";
        }
        throw Error(value.where + ": " + shown + ": " + problem + "; " + hint);
    }
    return std::move(*content);
}

}  // namespace

std::string server_url_problem(const std::string& server) {
    if (server.rfind("https://", 0) != 0 && server.rfind("http://", 0) != 0) {
        std::string out = "'" + server + "' must start with https:// or http://";
        if (!has_scheme(server)) {
            out += "; write 'https://" + server + "'";
        }
        return out;
    }
    Poco::URI uri;
    try {
        uri = Poco::URI(server);
    } catch (const std::exception& e) {
        return "'" + server + "' is not a URL (" + e.what() + ")";
    }
    if (uri.getHost().empty()) {
        return "'" + server + "' has no host";
    }
    return {};
}

void read_kubeconfig(const std::string& path, ClusterConfig& out, std::string& context_ns,
                     const std::string& context, KubeconfigSources& sources) {
    const Reader r(path);
    std::string problem;
    const auto file_text = read_regular_file(path, problem);
    if (!file_text) {
        throw Error("kubeconfig " + path + ": " + problem + "; give the path of a kubeconfig file");
    }
    YAML::Node root;
    try {
        root = load_yaml(*file_text);
    } catch (const YAML::Exception& e) {
        std::string where = "kubeconfig " + path;
        if (!e.mark.is_null()) {
            where +=
                ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1);
        }
        throw Error(where + ": invalid YAML: " + e.msg);
    }
    if (!root || root.IsNull()) {
        throw Error("kubeconfig " + path +
                    ": the file is empty (or holds only comments); write a kubeconfig into it "
                    "(`kubectl config view --raw --minify`) or name another file with the "
                    "kubeconfig option or $KUBECONFIG");
    }
    if (!root.IsMap()) {
        r.fail(root, {},
               "expected a map (apiVersion, kind: Config, clusters, contexts, users, "
               "current-context), got " +
                   yaml_type_name(root));
    }
    sources.dir = fs::absolute(fs::path(path)).parent_path().string();
    const fs::path base(sources.dir);

    // The context.
    const YamlPath current_path = YamlPath().key("current-context");
    std::string current = context;
    std::string referrer = "kubeconfig " + path + ": the context option";
    std::string hint = "choose one of those with the context option";
    if (current.empty()) {
        current = r.text(root, {}, "current-context");
        if (current.empty()) {
            throw Error("kubeconfig " + path +
                        ": no current-context (choose one with the context option, or "
                        "`kubectl config use-context NAME`; " +
                        Reader::names_in(root, "contexts") + ")");
        }
        referrer = r.at(root["current-context"], current_path);
        hint =
            "set current-context to one of those (`kubectl config use-context NAME`) or choose "
            "one with the context option";
    }
    const auto ctx = r.named(root, "contexts", "context", current, referrer, hint);
    if (!ctx.body || !ctx.body.IsMap()) {
        r.fail(ctx.body, ctx.path,
               "context '" + current + "': expected a map with cluster and user, got " +
                   yaml_type_name(ctx.body));
    }
    const std::string cluster_name = r.text(ctx.body, ctx.path, "cluster");
    const std::string user_name = r.text(ctx.body, ctx.path, "user");
    context_ns = r.text(ctx.body, ctx.path, "namespace");
    if (cluster_name.empty()) {
        r.fail(ctx.body, ctx.path.key("cluster"),
               "context '" + current +
                   "' names no cluster; add `cluster: NAME` naming an entry "
                   "of clusters");
    }

    // The cluster.
    const auto cluster = r.named(root, "clusters", "cluster", cluster_name,
                                 r.at(ctx.body["cluster"], ctx.path.key("cluster")),
                                 "add a cluster named '" + cluster_name + "' or name one of those");
    if (!cluster.body || !cluster.body.IsMap()) {
        r.fail(cluster.body, cluster.path,
               "cluster '" + cluster_name + "': expected a map with server, got " +
                   yaml_type_name(cluster.body));
    }
    out.server = r.text(cluster.body, cluster.path, "server");
    if (out.server.empty()) {
        r.fail(cluster.body, cluster.path.key("server"),
               "cluster '" + cluster_name +
                   "' has no server; add `server: https://HOST:PORT` (the API server's URL)");
    }
    sources.server = {r.at(cluster.body["server"], cluster.path.key("server")), out.server};
    if (std::string ca = r.text(cluster.body, cluster.path, "certificate-authority"); !ca.empty()) {
        out.ca_file = resolve_relative(ca, base);
        sources.ca_file = {
            r.at(cluster.body["certificate-authority"], cluster.path.key("certificate-authority")),
            ca};
    }
    if (const std::string d = r.text(cluster.body, cluster.path, "certificate-authority-data");
        !d.empty()) {
        const YamlPath p = cluster.path.key("certificate-authority-data");
        out.ca_data = decode_base64(d, r.at(cluster.body["certificate-authority-data"], p),
                                    "give the CA's PEM file base64-encoded (`base64 -w0 ca.crt`), "
                                    "or its path with certificate-authority");
    }
    if (const std::string s = r.text(cluster.body, cluster.path, "insecure-skip-tls-verify");
        !s.empty()) {
        // kubectl reads kubeconfigs as YAML 1.1, where yes/no, on/off and y/n are booleans
        // too: a file kubectl takes is taken the same way.
        static constexpr std::array<std::string_view, 11> kTrue = {
            "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"};
        static constexpr std::array<std::string_view, 11> kFalse = {
            "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"};
        if (std::find(kTrue.begin(), kTrue.end(), s) != kTrue.end()) {
            out.insecure = true;
        } else if (std::find(kFalse.begin(), kFalse.end(), s) != kFalse.end()) {
            out.insecure = false;
        } else {
            r.fail(cluster.body["insecure-skip-tls-verify"],
                   cluster.path.key("insecure-skip-tls-verify"),
                   "expected true or false, got '" + s + "'");
        }
    }

    // The user.
    if (!user_name.empty()) {
        const auto user =
            r.named(root, "users", "user", user_name, r.at(ctx.body["user"], ctx.path.key("user")),
                    "add a user named '" + user_name + "' or name one of those");
        if (user.body && !user.body.IsNull() && !user.body.IsMap()) {
            r.fail(user.body, user.path,
                   "user '" + user_name + "': expected a map of credentials, got " +
                       yaml_type_name(user.body));
        }
        const auto path_field = [&](const char* key, std::string& target, KubeconfigValue& src) {
            const std::string written = r.text(user.body, user.path, key);
            target = resolve_relative(written, base);
            if (!written.empty()) {
                src = {r.at(user.body[key], user.path.key(key)), written};
            }
        };
        out.token = bearer_token(r, user.body, user.path);
        path_field("tokenFile", out.token_file, sources.token_file);
        path_field("client-certificate", out.client_cert_file, sources.client_cert_file);
        path_field("client-key", out.client_key_file, sources.client_key_file);
        const auto data_field = [&](const char* key, const char* file_key, const char* example,
                                    std::string& target) {
            if (const std::string d = r.text(user.body, user.path, key); !d.empty()) {
                target = decode_base64(d, r.at(user.body[key], user.path.key(key)),
                                       std::string("give the PEM file base64-encoded (`base64 "
                                                   "-w0 ") +
                                           example + "`), or its path with " + file_key);
            }
        };
        data_field("client-certificate-data", "client-certificate", "client.crt",
                   out.client_cert_data);
        data_field("client-key-data", "client-key", "client.key", out.client_key_data);
        YAML::Node plugin_node;
        YamlPath plugin_path;
        if (std::string what =
                unsupported_credential(r, user.body, user.path, plugin_node, plugin_path);
            !what.empty()) {
            sources.plugin = {r.at(plugin_node, plugin_path), std::move(what)};
        }
    }
    out.origin = "kubeconfig " + path + " (context " + current + ")";
}

void check_kubeconfig_values(const ClusterConfig& config, const KubeconfigSources& sources) {
    if (!sources.server.where.empty()) {
        // Quoted as written ("https:///" rather than "https:" once trailing slashes are gone).
        for (const std::string* server : {&sources.server.written, &config.server}) {
            if (const std::string p = server_url_problem(*server); !p.empty()) {
                throw Error(sources.server.where + ": " + p);
            }
        }
    }
    const bool https = config.server.rfind("https://", 0) == 0;
    if (https && !config.insecure && !config.ca_file.empty() && !sources.ca_file.where.empty()) {
        (void)read_named_file(sources.ca_file, config.ca_file,
                              "fix the path, or give the CA inline with "
                              "certificate-authority-data");
    }
    const bool cert_from_file = config.client_cert_data.empty() && !config.client_cert_file.empty();
    if (https && cert_from_file && !sources.client_cert_file.where.empty()) {
        (void)read_named_file(sources.client_cert_file, config.client_cert_file,
                              "fix the path, or give the certificate inline with "
                              "client-certificate-data");
    }
    const bool has_cert = !config.client_cert_data.empty() || !config.client_cert_file.empty();
    if (https && has_cert && config.client_key_data.empty() && !config.client_key_file.empty() &&
        !sources.client_key_file.where.empty()) {
        (void)read_named_file(sources.client_key_file, config.client_key_file,
                              "fix the path, or give the key inline with client-key-data");
    }
    if (!config.token_file.empty() && !sources.token_file.where.empty()) {
        const std::string token =
            read_named_file(sources.token_file, config.token_file,
                            "fix the path, or give the token inline with token");
        if (blank(token)) {
            throw Error(sources.token_file.where + ": '" + sources.token_file.written +
                        "' is empty; write the bearer token into it (for example `kubectl "
                        "create token SERVICEACCOUNT`), or give the token inline with token");
        }
    }
    const bool credentials = !config.token.empty() || !config.token_file.empty() || has_cert;
    if (!credentials && !sources.plugin.where.empty()) {
        throw Error(sources.plugin.where + ": " + sources.plugin.written +
                    " is not supported (crossover runs no credential plugins); give the user a "
                    "token, tokenFile or client certificate, for example a ServiceAccount's token "
                    "from `kubectl create token SERVICEACCOUNT`, or set the token_file option");
    }
}

}  // namespace detail

void load_kubeconfig(const std::string& path, ClusterConfig& out, std::string& context_ns,
                     const std::string& context) {
    detail::KubeconfigSources sources;
    detail::read_kubeconfig(path, out, context_ns, context, sources);
    detail::check_kubeconfig_values(out, sources);
}

}  // namespace crossover::kube
