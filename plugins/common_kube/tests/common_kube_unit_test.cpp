#define BOOST_TEST_MODULE common_kube_unit
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <map>

#include "crossover/status.h"
#include "crossover_kube/config.h"
#include "crossover_kube/discovery.h"
#include "crossover_kube/informer.h"
#include "crossover_kube/json.h"

namespace fs = std::filesystem;
using namespace crossover::kube;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        char tmpl[] = "/tmp/kube-unit-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path); }
    std::string write(const std::string& name, const std::string& content) const {
        const fs::path p = path / name;
        fs::create_directories(p.parent_path());
        std::ofstream(p) << content;
        return p.string();
    }
};

Environment fake_env(std::map<std::string, std::string> vars, std::string sa_dir) {
    Environment env;
    env.getenv = [vars](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) {
            return std::nullopt;
        }
        return it->second;
    };
    env.serviceaccount_dir = std::move(sa_dir);
    return env;
}

const char* kKubeconfig = R"(apiVersion: v1
kind: Config
current-context: dev
contexts:
- name: prod
  context: {cluster: prod, user: admin}
- name: dev
  context: {cluster: devcluster, user: devuser, namespace: team-a}
clusters:
- name: prod
  cluster: {server: "https://prod.example:6443"}
- name: devcluster
  cluster:
    server: https://127.0.0.1:8443/
    certificate-authority: certs/ca.crt
users:
- name: admin
  user: {token: admin-token}
- name: devuser
  user:
    tokenFile: secrets/token
    client-certificate-data: Y2VydA==
    client-key: /abs/key.pem
)";

}  // namespace

BOOST_AUTO_TEST_CASE(kubeconfig_current_context_is_used) {
    TempDir dir;
    const std::string kc = dir.write("kube/config", kKubeconfig);
    ConnectionOptions opts;
    opts.kubeconfig = kc;
    const ClusterConfig c = resolve_config(opts, fake_env({}, (dir.path / "nosa").string()));
    BOOST_TEST(c.server == "https://127.0.0.1:8443");
    BOOST_TEST(c.ca_file == (dir.path / "kube/certs/ca.crt").string());
    BOOST_TEST(c.token_file == (dir.path / "kube/secrets/token").string());
    BOOST_TEST(c.client_cert_data == "cert");
    BOOST_TEST(c.client_key_file == "/abs/key.pem");
    BOOST_TEST(c.ns == "team-a");
    BOOST_TEST(!c.insecure);
    BOOST_TEST(c.origin.find("context dev") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(kubeconfig_context_option_chooses_the_context) {
    TempDir dir;
    const std::string kc = dir.write("config", kKubeconfig);
    ConnectionOptions opts;
    opts.kubeconfig = kc;
    opts.context = "prod";
    const ClusterConfig c = resolve_config(opts, fake_env({}, (dir.path / "nosa").string()));
    BOOST_TEST(c.server == "https://prod.example:6443");
    BOOST_TEST(c.token == "admin-token");
    BOOST_TEST(c.origin.find("context prod") != std::string::npos);
    opts.context = "staging";
    BOOST_CHECK_EXCEPTION(resolve_config(opts, fake_env({}, "/none")), crossover::Error,
                          [](const crossover::Error& e) {
                              return std::string(e.what()).find("context 'staging' not found") !=
                                     std::string::npos;
                          });
    // A context without any kubeconfig is an error, not the in-cluster defaults.
    opts.kubeconfig.clear();
    BOOST_CHECK_THROW(
        resolve_config(opts, fake_env({{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}}, "/none")),
        crossover::Error);
}

BOOST_AUTO_TEST_CASE(explicit_options_override_kubeconfig_fields) {
    TempDir dir;
    const std::string kc = dir.write("config", kKubeconfig);
    ConnectionOptions opts;
    opts.kubeconfig = kc;
    opts.apiserver = "https://other:1234";
    opts.token_file = "/t";
    opts.ca_file = "/ca";
    opts.ns = "explicit";
    const ClusterConfig c = resolve_config(opts, fake_env({{"POD_NAMESPACE", "pod"}}, "/none"));
    BOOST_TEST(c.server == "https://other:1234");
    BOOST_TEST(c.token_file == "/t");
    // The start-up line says where the server and the token come from.
    BOOST_TEST(c.origin ==
               "the apiserver option, credentials from kubeconfig " + kc + ", token file /t");
    BOOST_TEST(c.ca_file == "/ca");
    BOOST_TEST(c.ns == "explicit");
}

BOOST_AUTO_TEST_CASE(kubeconfig_env_var_and_home_are_searched) {
    TempDir dir;
    const std::string kc = dir.write("home/.kube/config", kKubeconfig);
    const ClusterConfig c1 = resolve_config(
        {}, fake_env({{"HOME", (dir.path / "home").string()}}, (dir.path / "nosa").string()));
    BOOST_TEST(c1.server == "https://127.0.0.1:8443");
    const std::string other =
        dir.write("other.yaml",
                  "current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n"
                  "clusters: [{name: c, cluster: {server: 'http://10.0.0.1:80', "
                  "insecure-skip-tls-verify: true}}]\n");
    const ClusterConfig c2 =
        resolve_config({}, fake_env({{"HOME", (dir.path / "home").string()},
                                     {"KUBECONFIG", "/does/not/exist:" + other}},
                                    (dir.path / "nosa").string()));
    BOOST_TEST(c2.server == "http://10.0.0.1:80");
    BOOST_TEST(c2.insecure);
    BOOST_TEST(c2.ns == "default");
}

BOOST_AUTO_TEST_CASE(in_cluster_configuration) {
    TempDir dir;
    dir.write("sa/token", "tok\n");
    dir.write("sa/ca.crt", "pem");
    dir.write("sa/namespace", "crossover-ns\n");
    const std::string sa = (dir.path / "sa").string();
    const ClusterConfig c = resolve_config(
        {}, fake_env({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}},
                     sa));
    BOOST_TEST(c.server == "https://10.96.0.1:443");
    BOOST_TEST(c.token_file == sa + "/token");
    BOOST_TEST(c.ca_file == sa + "/ca.crt");
    BOOST_TEST(c.ns == "crossover-ns");
    BOOST_TEST(c.origin == "in-cluster");

    // POD_NAMESPACE wins over the namespace file.
    const ClusterConfig c2 = resolve_config(
        {}, fake_env({{"KUBERNETES_SERVICE_HOST", "fd00::1"}, {"POD_NAMESPACE", "from-env"}}, sa));
    BOOST_TEST(c2.server == "https://[fd00::1]:443");
    BOOST_TEST(c2.ns == "from-env");
}

BOOST_AUTO_TEST_CASE(explicit_apiserver_uses_service_account_credentials) {
    TempDir dir;
    dir.write("sa/token", "tok\n");
    const std::string sa = (dir.path / "sa").string();
    ConnectionOptions opts;
    opts.apiserver = "https://kubernetes";
    const ClusterConfig c = resolve_config(opts, fake_env({}, sa));
    BOOST_TEST(c.server == "https://kubernetes");
    BOOST_TEST(c.token_file == sa + "/token");
    BOOST_TEST(c.ca_file.empty());
    // Not "(options)": the ConfigMap source's start-up line shows this.
    BOOST_TEST(c.origin == "the apiserver option, token file " + sa + "/token");
}

BOOST_AUTO_TEST_CASE(nothing_configured_is_a_clear_error) {
    BOOST_CHECK_EXCEPTION(resolve_config({}, fake_env({}, "/nonexistent")), crossover::Error,
                          [](const crossover::Error& e) {
                              return std::string(e.what()).find("no Kubernetes API server") !=
                                     std::string::npos;
                          });
    TempDir dir;
    const std::string bad = dir.write("bad.yaml", "current-context: missing\ncontexts: []\n");
    ConnectionOptions opts;
    opts.kubeconfig = bad;
    BOOST_CHECK_EXCEPTION(resolve_config(opts, fake_env({}, "/nonexistent")), crossover::Error,
                          [&](const crossover::Error& e) {
                              const std::string m = e.what();
                              return m.find(bad) != std::string::npos &&
                                     m.find("'missing'") != std::string::npos;
                          });
    opts.kubeconfig.clear();
    opts.apiserver = "ftp://x";
    BOOST_CHECK_THROW(resolve_config(opts, fake_env({}, "/nonexistent")), crossover::Error);
}

BOOST_AUTO_TEST_CASE(query_building_encodes_selectors) {
    Selection one{{"envoy-xds"}, ""};
    BOOST_TEST(build_query("/api/v1/namespaces/t/configmaps", one, {}) ==
               "/api/v1/namespaces/t/configmaps?fieldSelector=metadata.name%3Denvoy-xds");
    Selection many{{"a", "b"}, "app=envoy,tier!=dev"};
    BOOST_TEST(build_query("/c", many, {{"watch", "true"}, {"resourceVersion", "12"}}) ==
               "/c?labelSelector=app%3Denvoy%2Ctier%21%3Ddev&watch=true&resourceVersion=12");
    BOOST_TEST(build_query("/c", Selection{}, {}) == "/c");
}

BOOST_AUTO_TEST_CASE(watch_events_decode) {
    const WatchEvent ev = decode_event(
        R"({"type":"MODIFIED","object":{"kind":"ConfigMap","metadata":{"name":"x","resourceVersion":"42"},"data":{"k":"v"}}})");
    BOOST_TEST(ev.type == "MODIFIED");
    BOOST_TEST(metadata_field(ev.object, "name") == "x");
    BOOST_TEST(metadata_field(ev.object, "resourceVersion") == "42");
    BOOST_CHECK_THROW(decode_event("{\"type\":\"ADDED\"}"), crossover::Error);
    BOOST_CHECK_THROW(decode_event("{not json"), crossover::Error);
    BOOST_CHECK_THROW(decode_event("[1,2]"), crossover::Error);
}

BOOST_AUTO_TEST_CASE(json_converts_to_yaml) {
    const auto obj = parse_object(
        R"({"spec":{"backends":[{"service":"a","weight":5},{"service":"b","weight":"500m"}],"on":true,"n":null}})",
        "test");
    const YAML::Node y = to_yaml(obj);
    BOOST_TEST(y["spec"]["backends"].size() == 2u);
    BOOST_TEST(y["spec"]["backends"][0]["weight"].as<int>() == 5);
    BOOST_TEST(y["spec"]["backends"][1]["weight"].as<std::string>() == "500m");
    BOOST_TEST(y["spec"]["on"].as<bool>());
    BOOST_TEST(y["spec"]["n"].IsNull());
    BOOST_TEST(y["spec"]["backends"][0]["weight"].Tag() == "?");  // plain, as loaded from YAML
    BOOST_TEST(y["spec"]["backends"][1]["weight"].Tag() == "!");  // quoted
    YAML::Emitter e;
    e << y["spec"]["backends"];
    BOOST_TEST(std::string(e.c_str()).find('!') == std::string::npos);
}

BOOST_AUTO_TEST_CASE(backoff_grows_with_jitter_caps_and_resets) {
    using std::chrono::milliseconds;
    Backoff b(milliseconds(100), milliseconds(1000));
    milliseconds prev_cap(100);
    for (int i = 0; i < 8; ++i) {
        const milliseconds d = b.next();
        BOOST_TEST(d.count() >= prev_cap.count() / 2);
        BOOST_TEST(d.count() <= prev_cap.count());
        prev_cap = std::min(milliseconds(1000), prev_cap * 2);
    }
    BOOST_TEST(b.current().count() == 1000);
    b.reset();
    BOOST_TEST(b.current().count() == 100);
    BOOST_TEST(b.next().count() <= 100);
}

namespace {

Poco::JSON::Object::Ptr api_group(const std::string& versions, const std::string& preferred) {
    return parse_object(R"({"kind":"APIGroup","name":"g.example.io","versions":)" + versions +
                            R"(,"preferredVersion":{"version":")" + preferred + R"("}})",
                        "test");
}

}  // namespace

// Our order of preference, or the server's (SMI), and a clear error naming the
// group and what the server offers when none of the supported versions is served.
BOOST_AUTO_TEST_CASE(discovery_chooses_a_supported_version) {
    ApiGroupVersions api{"g.example.io", "Thing", {"v1", "v1beta1"}, false, ""};
    const auto both = api_group(R"([{"version":"v1beta1"},{"version":"v1"}])", "v1beta1");
    BOOST_TEST(choose_version(api, both).version == "v1");
    api.server_preference_first = true;
    BOOST_TEST(choose_version(api, both).version == "v1beta1");
    BOOST_TEST(choose_version(api, both).reason == "the server's preferred version");
    // A preferred version the source does not know: the best supported one served.
    const auto newer = api_group(R"([{"version":"v2"},{"version":"v1beta1"}])", "v2");
    BOOST_TEST(choose_version(api, newer).version == "v1beta1");

    const auto other = api_group(R"([{"version":"v1alpha2"}])", "v1alpha2");
    try {
        (void)choose_version(api, other);
        BOOST_FAIL("v1alpha2 was chosen");
    } catch (const crossover::Error& e) {
        BOOST_TEST(std::string(e.what()) ==
                   "the API group g.example.io serves none of the Thing versions supported (v1, "
                   "v1beta1); the server offers v1alpha2 (preferred v1alpha2)");
    }
}
