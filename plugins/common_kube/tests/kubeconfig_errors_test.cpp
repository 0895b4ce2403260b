// The messages a wrong kubeconfig gets: each names the file, the line, the
// field path and what to do, pinned whole so a wrong field or line fails.
#define BOOST_TEST_MODULE kubeconfig_errors
#include <boost/test/unit_test.hpp>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crossover/status.h"
#include "crossover_kube/config.h"
#include "temp_dir.h"

using namespace crossover::kube;
using crossover::test::TempDir;

namespace {

Environment no_environment() {
    Environment env;
    env.getenv = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
    env.serviceaccount_dir = "/nonexistent";
    return env;
}

// The message resolve_config throws for `kubeconfig`, or "resolved".
std::string error_of(const std::string& kubeconfig, ConnectionOptions options = {}) {
    options.kubeconfig = kubeconfig;
    try {
        resolve_config(options, no_environment());
    } catch (const crossover::Error& e) {
        return e.what();
    }
    return "resolved";
}

// Three of everything, the shape `kubectl config view --raw` gives after a few
// `kubectl config set-*` commands; the tests break one field each.
const std::string kConfig = R"(apiVersion: v1
kind: Config
current-context: kind-dev
contexts:
- name: kind-dev
  context: {cluster: kind-dev, user: kind-dev}
- name: prod
  context:
    cluster: prod
    user: prod-admin
    namespace: team-a
- name: eks
  context: {cluster: eks, user: eks}
clusters:
- name: kind-dev
  cluster:
    server: https://127.0.0.1:41234
    certificate-authority: certs/kind-ca.crt
- name: prod
  cluster:
    server: https://prod.example:6443
    certificate-authority-data: Y2E=
- name: eks
  cluster: {server: "https://ABCD.gr7.eu-west-1.eks.amazonaws.com"}
users:
- name: kind-dev
  user:
    client-certificate: certs/client.crt
    client-key: certs/client.key
- name: prod-admin
  user:
    tokenFile: secrets/token
- name: eks
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: [eks, get-token, --cluster-name, demo]
)";

// kConfig with `from` replaced by `to` (which must occur), and the files its contexts name.
std::string write_config(const TempDir& dir, const std::string& from = {},
                         const std::string& to = {}) {
    std::string text = kConfig;
    if (!from.empty()) {
        const auto at = text.find(from);
        BOOST_REQUIRE(at != std::string::npos);
        text.replace(at, from.size(), to);
    }
    dir.write("kube/certs/kind-ca.crt", "ca");
    dir.write("kube/certs/client.crt", "cert");
    dir.write("kube/certs/client.key", "key");
    dir.write("kube/secrets/token", "token\n");
    return dir.write("kube/config", text);
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_fixture_resolves_in_every_context_but_the_exec_one) {
    TempDir dir;
    const std::string kc = write_config(dir);
    BOOST_TEST(error_of(kc) == "resolved");
    ConnectionOptions prod;
    prod.context = "prod";
    BOOST_TEST(error_of(kc, prod) == "resolved");
    ConnectionOptions eks;
    eks.context = "eks";
    BOOST_TEST(error_of(kc, eks) ==
               "kubeconfig " + kc +
                   ":36: users[2].user.exec: the exec credential plugin (command 'aws') is not "
                   "supported (crossover runs no credential plugins); give the user a token, "
                   "tokenFile or client certificate, for example a ServiceAccount's token from "
                   "`kubectl create token SERVICEACCOUNT`, or set the token_file option");
    // With a token from elsewhere the plugin is not needed.
    eks.token_file = dir / "kube/secrets/token";
    BOOST_TEST(error_of(kc, eks) == "resolved");
}

BOOST_AUTO_TEST_CASE(current_context_naming_a_missing_context) {
    TempDir dir;
    const std::string kc = write_config(dir, "current-context: kind-dev", "current-context: kind");
    BOOST_TEST(error_of(kc) ==
               "kubeconfig " + kc +
                   ":3: current-context: context 'kind' not found in contexts (the file has "
                   "'kind-dev', 'prod', 'eks'); set current-context to one of those (`kubectl "
                   "config use-context NAME`) or choose one with the context option");
    ConnectionOptions options;
    options.context = "staging";
    BOOST_TEST(error_of(kc, options) ==
               "kubeconfig " + kc +
                   ": the context option: context 'staging' not found in contexts (the file has "
                   "'kind-dev', 'prod', 'eks'); choose one of those with the context option");
    std::string many = "current-context: c12\ncontexts:\n";
    for (int i = 0; i < 12; ++i) {
        many += "- {name: c" + std::to_string(i) + ", context: {cluster: x}}\n";
    }
    const std::string twelve = dir.write("twelve.yaml", many);
    BOOST_TEST(error_of(twelve) ==
               "kubeconfig " + twelve +
                   ":1: current-context: context 'c12' not found in contexts (the file has 'c0', "
                   "'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8', 'c9' and 2 more); set "
                   "current-context to one of those (`kubectl config use-context NAME`) or choose "
                   "one with the context option");
    const std::string none = dir.write("none.yaml", "apiVersion: v1\nkind: Config\n");
    BOOST_TEST(error_of(none) ==
               "kubeconfig " + none +
                   ": no current-context (choose one with the context option, or `kubectl config "
                   "use-context NAME`; the file has none)");
}

BOOST_AUTO_TEST_CASE(a_context_naming_a_missing_user_or_cluster) {
    TempDir dir;
    std::string kc = write_config(dir, "user: prod-admin", "user: prod-adm");
    ConnectionOptions prod;
    prod.context = "prod";
    BOOST_TEST(error_of(kc, prod) ==
               "kubeconfig " + kc +
                   ":10: contexts[1].context.user: user 'prod-adm' not found in users (the file "
                   "has 'kind-dev', 'prod-admin', 'eks'); add a user named 'prod-adm' or name one "
                   "of those");
    kc = write_config(dir, "{cluster: kind-dev,", "{cluster: kind,");
    BOOST_TEST(error_of(kc) ==
               "kubeconfig " + kc +
                   ":6: contexts[0].context.cluster: cluster 'kind' not found in clusters (the "
                   "file has 'kind-dev', 'prod', 'eks'); add a cluster named 'kind' or name one "
                   "of those");
    kc = write_config(dir, "{cluster: kind-dev, user: kind-dev}", "{user: kind-dev}");
    BOOST_TEST(error_of(kc) == "kubeconfig " + kc +
                                   ":6: contexts[0].context.cluster: context 'kind-dev' names no "
                                   "cluster; add `cluster: NAME` naming an entry of clusters");
}

BOOST_AUTO_TEST_CASE(bad_base64_names_the_field_line_and_offset) {
    TempDir dir;
    ConnectionOptions prod;
    prod.context = "prod";
    std::string kc =
        write_config(dir, "certificate-authority-data: Y2E=", "certificate-authority-data: Y2E*");
    BOOST_TEST(error_of(kc, prod) ==
               "kubeconfig " + kc +
                   ":22: clusters[1].cluster.certificate-authority-data: not valid base64: "
                   "character '*' at offset 3; give the CA's PEM file base64-encoded (`base64 "
                   "-w0 ca.crt`), or its path with certificate-authority");
    kc = write_config(dir, "    tokenFile: secrets/token",
                      "    client-certificate-data: LS0t_LS0\n    client-key-data: a2V5");
    BOOST_TEST(error_of(kc, prod) ==
               "kubeconfig " + kc +
                   ":32: users[1].user.client-certificate-data: not valid base64: character '_' "
                   "at offset 4; give the PEM file base64-encoded (`base64 -w0 client.crt`), or "
                   "its path with client-certificate");
}

BOOST_AUTO_TEST_CASE(a_certificate_path_that_does_not_exist) {
    TempDir dir;
    std::string kc = write_config(dir, "client-key: certs/client.key", "client-key: client.key");
    BOOST_TEST(error_of(kc) ==
               "kubeconfig " + kc + ":29: users[0].user.client-key: 'client.key' (" +
                   (dir / "kube/client.key") +
                   ", relative to the kubeconfig's directory): no such file; fix the path, or "
                   "give the key inline with client-key-data");
    kc = write_config(dir, "certificate-authority: certs/kind-ca.crt",
                      "certificate-authority: /no/ca.crt");
    BOOST_TEST(error_of(kc) == "kubeconfig " + kc +
                                   ":18: clusters[0].cluster.certificate-authority: '/no/ca.crt': "
                                   "no such file; fix the path, or give the CA inline with "
                                   "certificate-authority-data");
    // A CA that is not used is not looked for: the ca_file option replaces it, and an
    // unverified server needs none.
    ConnectionOptions options;
    options.ca_file = dir / "kube/certs/kind-ca.crt";
    BOOST_TEST(error_of(kc, options) == "resolved");
    options = {};
    options.insecure = true;
    BOOST_TEST(error_of(kc, options) == "resolved");
    kc = write_config(dir, "client-certificate: certs/client.crt", "client-certificate: certs");
    BOOST_TEST(error_of(kc) == "kubeconfig " + kc +
                                   ":28: users[0].user.client-certificate: 'certs' (" +
                                   (dir / "kube/certs") +
                                   ", relative to the kubeconfig's directory): not a regular file "
                                   "(a directory); fix the path, or give the certificate inline "
                                   "with client-certificate-data");
}

BOOST_AUTO_TEST_CASE(an_empty_token_file) {
    TempDir dir;
    const std::string kc = write_config(dir);
    dir.write("kube/secrets/token", " \n");
    ConnectionOptions prod;
    prod.context = "prod";
    BOOST_TEST(error_of(kc, prod) ==
               "kubeconfig " + kc +
                   ":32: users[1].user.tokenFile: 'secrets/token' is empty; write the bearer "
                   "token into it (for example `kubectl create token SERVICEACCOUNT`), or give "
                   "the token inline with token");
}

BOOST_AUTO_TEST_CASE(an_inline_token_is_one_word) {
    TempDir dir;
    ConnectionOptions prod;
    prod.context = "prod";
    std::string kc =
        write_config(dir, "    tokenFile: secrets/token", "    token: |\n      abc.def\n");
    prod.kubeconfig = kc;
    const ClusterConfig c = resolve_config(prod, no_environment());
    BOOST_TEST(c.token == "abc.def");  // the block scalar's line break is not part of it
    kc = write_config(dir, "    tokenFile: secrets/token", "    token: \"abc\\r\\nX-Other: 1\"");
    BOOST_TEST(error_of(kc, prod) ==
               "kubeconfig " + kc +
                   ":32: users[1].user.token: holds byte 0x0d at offset 3; a bearer token is one "
                   "word: give it on one line without spaces");
}

BOOST_AUTO_TEST_CASE(a_server_without_scheme_or_host) {
    TempDir dir;
    std::string kc =
        write_config(dir, "server: https://127.0.0.1:41234", "server: 127.0.0.1:41234");
    BOOST_TEST(error_of(kc) == "kubeconfig " + kc +
                                   ":17: clusters[0].cluster.server: '127.0.0.1:41234' must start "
                                   "with https:// or http://; write 'https://127.0.0.1:41234'");
    kc = write_config(dir, "server: https://127.0.0.1:41234", "server: ftp://127.0.0.1");
    BOOST_TEST(error_of(kc) == "kubeconfig " + kc +
                                   ":17: clusters[0].cluster.server: 'ftp://127.0.0.1' must start "
                                   "with https:// or http://");
    kc = write_config(dir, "server: https://127.0.0.1:41234", "server: https:///api");
    BOOST_TEST(error_of(kc) ==
               "kubeconfig " + kc + ":17: clusters[0].cluster.server: 'https:///api' has no host");
    kc = write_config(dir, "server: https://127.0.0.1:41234", "server: https:///");
    BOOST_TEST(error_of(kc) ==
               "kubeconfig " + kc + ":17: clusters[0].cluster.server: 'https:///' has no host");
    // The apiserver option replaces the kubeconfig's server.
    ConnectionOptions options;
    options.apiserver = "https://127.0.0.1:6443";
    BOOST_TEST(error_of(kc, options) == "resolved");
    kc = write_config(dir, "    server: https://127.0.0.1:41234\n", "");
    BOOST_TEST(error_of(kc) ==
               "kubeconfig " + kc +
                   ":17: clusters[0].cluster.server: cluster 'kind-dev' has no "
                   "server; add `server: https://HOST:PORT` (the API server's URL)");
}

BOOST_AUTO_TEST_CASE(an_empty_file_a_list_and_broken_yaml) {
    TempDir dir;
    const std::string empty = dir.write("empty", "");
    const std::string expected_empty =
        ": the file is empty (or holds only comments); write a kubeconfig into it (`kubectl "
        "config view --raw --minify`) or name another file with the kubeconfig option or "
        "$KUBECONFIG";
    BOOST_TEST(error_of(empty) == "kubeconfig " + empty + expected_empty);
    const std::string comments = dir.write("comments", "# nothing yet\n");
    BOOST_TEST(error_of(comments) == "kubeconfig " + comments + expected_empty);
    const std::string list = dir.write("list", "\n- name: kind\n  cluster: {}\n");
    BOOST_TEST(error_of(list) ==
               "kubeconfig " + list +
                   ":2: expected a map (apiVersion, kind: Config, clusters, contexts, users, "
                   "current-context), got a list");
    BOOST_TEST(error_of(dir / "missing") ==
               "kubeconfig " + (dir / "missing") +
                   ": no such file; give the path of an existing kubeconfig (or leave the option "
                   "out to use $KUBECONFIG, ~/.kube/config or the in-cluster configuration)");
    BOOST_TEST(error_of(dir.path()) == "kubeconfig " + dir.path() +
                                           ": not a regular file (a directory); give the path "
                                           "of a kubeconfig file");
    const std::string broken = dir.write("broken", "current-context: a\ncontexts: [\n");
    BOOST_TEST(error_of(broken).rfind("kubeconfig " + broken + ":2:11: invalid YAML: ", 0) == 0);
}

BOOST_AUTO_TEST_CASE(sections_and_fields_of_the_wrong_shape) {
    TempDir dir;
    std::string kc =
        write_config(dir, "contexts:\n- name: kind-dev", "contexts:\n- kind-dev\n- name: kind-dev");
    BOOST_TEST(error_of(kc) == "kubeconfig " + kc +
                                   ":5: contexts[0]: expected a map with name and context, got a "
                                   "scalar");
    kc = write_config(dir, "users:\n- name: kind-dev", "users:\n- [kind-dev]\n- name: kind-dev");
    BOOST_TEST(error_of(kc) ==
               "kubeconfig " + kc + ":26: users[0]: expected a map with name and user, got a list");
    const std::string map = dir.write("map", "current-context: a\ncontexts: {a: {}}\n");
    BOOST_TEST(error_of(map) == "kubeconfig " + map +
                                    ":2: contexts: expected a list of entries with name and "
                                    "context, got a map");
    kc = write_config(dir, "current-context: kind-dev", "current-context: [kind-dev]");
    BOOST_TEST(error_of(kc) ==
               "kubeconfig " + kc + ":3: current-context: expected a string, got a list");
    kc = write_config(dir, "server: https://127.0.0.1:41234", "server: [https://127.0.0.1]");
    BOOST_TEST(error_of(kc) ==
               "kubeconfig " + kc +
                   ":17: clusters[0].cluster.server: expected a string, got a list");
    kc = write_config(dir, "server: https://127.0.0.1:41234",
                      "server: https://127.0.0.1:41234\n    insecure-skip-tls-verify: maybe");
    BOOST_TEST(error_of(kc) == "kubeconfig " + kc +
                                   ":18: clusters[0].cluster.insecure-skip-tls-verify: expected "
                                   "true or false, got 'maybe'");
    kc = write_config(dir, "  context: {cluster: kind-dev, user: kind-dev}", "  context: kind-dev");
    BOOST_TEST(error_of(kc) == "kubeconfig " + kc +
                                   ":6: contexts[0].context: context 'kind-dev': expected a map "
                                   "with cluster and user, got a scalar");
}

// kubectl reads a kubeconfig as YAML 1.1: `yes`, `on` and `y` are true there, `no`, `off` and
// `n` false, so crossover takes them as kubectl does.
BOOST_AUTO_TEST_CASE(insecure_skip_tls_verify_takes_yaml_1_1_booleans_as_kubectl_does) {
    TempDir dir;
    const std::vector<std::pair<std::string, bool>> values = {
        {"yes", true}, {"On", true},   {"y", true},  {"TRUE", true},
        {"no", false}, {"OFF", false}, {"n", false}, {"false", false}};
    for (const auto& [value, insecure] : values) {
        const std::string kc =
            write_config(dir, "server: https://127.0.0.1:41234",
                         "server: https://127.0.0.1:41234\n    insecure-skip-tls-verify: " + value);
        ConnectionOptions options;
        options.kubeconfig = kc;
        BOOST_TEST(resolve_config(options, no_environment()).insecure == insecure, value);
    }
}
