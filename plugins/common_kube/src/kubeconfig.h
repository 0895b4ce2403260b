// Reading one kubeconfig file (internal to common_kube).
//
// A kubeconfig is a user's file: every value read from it keeps the place it
// came from ("kubeconfig /home/u/.kube/config:14: users[1].user.client-key"),
// so that a value found unusable once the explicit options are applied (a
// certificate path that does not exist, a server without a scheme, an empty
// token file) is reported at its field and line with what to do about it.
#pragma once

#include <string>

#include "crossover_kube/config.h"

namespace crossover::kube::detail {

// One value taken from the kubeconfig; `where` is empty when the kubeconfig
// did not set it.
struct KubeconfigValue {
    std::string where;    // "kubeconfig FILE:LINE: FIELD-PATH"
    std::string written;  // the text as written (a path before resolving it)
};

struct KubeconfigSources {
    KubeconfigValue server;
    KubeconfigValue ca_file;
    KubeconfigValue client_cert_file;
    KubeconfigValue client_key_file;
    KubeconfigValue token_file;
    // A credential plugin the user entry names (exec or auth-provider), which
    // crossover does not run: `written` says which ("exec command 'aws'").
    KubeconfigValue plugin;
    std::string dir;  // the kubeconfig's directory, relative paths resolve against it
};

// Parses `path` into `out` (see load_kubeconfig) and records where each value
// came from. Throws crossover::Error naming the file, field and line.
void read_kubeconfig(const std::string& path, ClusterConfig& out, std::string& context_ns,
                     const std::string& context, KubeconfigSources& sources);

// Checks the values of `config` that still come from the kubeconfig (the
// caller clears the sources an explicit option replaced) and that the
// connection will use: the server URL, the files named (CA only when the
// server is verified, client certificate and key only over https), the token
// file's content, and that a credential plugin is not the only credential.
void check_kubeconfig_values(const ClusterConfig& config, const KubeconfigSources& sources);

// Why `server` (trailing slashes removed) is not a URL the client can use, or
// "" when it is: the scheme must be https:// or http:// and there must be a host.
std::string server_url_problem(const std::string& server);

}  // namespace crossover::kube::detail
