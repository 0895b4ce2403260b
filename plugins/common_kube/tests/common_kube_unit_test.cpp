#define BOOST_TEST_MODULE common_kube_unit
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <sstream>
#include <vector>

#include <Poco/JSON/Parser.h>

#include "crossover/status.h"
#include "crossover_kube/config.h"
#include "crossover_kube/configmap_key.h"
#include "crossover_kube/discovery.h"
#include "crossover_kube/informer.h"
#include "crossover_kube/json.h"
#include "crossover_kube/json_reader.h"
#include "crossover_kube/options.h"
#include "temp_dir.h"

using namespace crossover::kube;

namespace {

using crossover::test::TempDir;

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

// Writes kKubeconfig to `rel` in `dir` with the files its dev context names
// (next to it, and the client key at an absolute path in `dir`).
std::string write_kubeconfig(const TempDir& dir, const std::string& rel) {
    std::string text = kKubeconfig;
    const std::string key = dir.write("abs/key.pem", "key");
    text.replace(text.find("/abs/key.pem"), 12, key);
    const std::string path = dir.write(rel, text);
    const std::string base = std::filesystem::path(rel).parent_path().string();
    const std::string prefix = base.empty() ? std::string() : base + "/";
    dir.write(prefix + "certs/ca.crt", "ca");
    dir.write(prefix + "secrets/token", "token\n");
    return path;
}

}  // namespace

BOOST_AUTO_TEST_CASE(kubeconfig_current_context_is_used) {
    TempDir dir;
    const std::string kc = write_kubeconfig(dir, "kube/config");
    ConnectionOptions opts;
    opts.kubeconfig = kc;
    const ClusterConfig c = resolve_config(opts, fake_env({}, (dir / "nosa")));
    BOOST_TEST(c.server == "https://127.0.0.1:8443");
    BOOST_TEST(c.ca_file == (dir / "kube/certs/ca.crt"));
    BOOST_TEST(c.token_file == (dir / "kube/secrets/token"));
    BOOST_TEST(c.client_cert_data == "cert");
    BOOST_TEST(c.client_key_file == (dir / "abs/key.pem"));
    BOOST_TEST(c.ns == "team-a");
    BOOST_TEST(!c.insecure);
    BOOST_TEST(c.origin.find("context dev") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(kubeconfig_context_option_chooses_the_context) {
    TempDir dir;
    const std::string kc = write_kubeconfig(dir, "config");
    ConnectionOptions opts;
    opts.kubeconfig = kc;
    opts.context = "prod";
    const ClusterConfig c = resolve_config(opts, fake_env({}, (dir / "nosa")));
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
    const std::string kc = write_kubeconfig(dir, "config");
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
    const std::string kc = write_kubeconfig(dir, "home/.kube/config");
    const ClusterConfig c1 =
        resolve_config({}, fake_env({{"HOME", (dir / "home")}}, (dir / "nosa")));
    BOOST_TEST(c1.server == "https://127.0.0.1:8443");
    const std::string other =
        dir.write("other.yaml",
                  "current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n"
                  "clusters: [{name: c, cluster: {server: 'http://10.0.0.1:80', "
                  "insecure-skip-tls-verify: true}}]\n");
    const ClusterConfig c2 = resolve_config(
        {}, fake_env({{"HOME", (dir / "home")}, {"KUBECONFIG", "/does/not/exist:" + other}},
                     (dir / "nosa")));
    BOOST_TEST(c2.server == "http://10.0.0.1:80");
    BOOST_TEST(c2.insecure);
    BOOST_TEST(c2.ns == "default");
}

BOOST_AUTO_TEST_CASE(in_cluster_configuration) {
    TempDir dir;
    dir.write("sa/token", "tok\n");
    dir.write("sa/ca.crt", "pem");
    dir.write("sa/namespace", "crossover-ns\n");
    const std::string sa = (dir / "sa");
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

BOOST_AUTO_TEST_CASE(a_kubeconfig_variable_naming_only_missing_files_is_said) {
    const auto error_of = [](const ConnectionOptions& options) {
        try {
            resolve_config(options, fake_env({{"KUBECONFIG", "/no/a:/no/b"}}, "/none"));
        } catch (const crossover::Error& e) {
            return std::string(e.what());
        }
        return std::string("resolved");
    };
    BOOST_TEST(error_of({}) ==
               "no Kubernetes API server configured, and no file $KUBECONFIG names exists "
               "(/no/a:/no/b): set the apiserver or kubeconfig option, $KUBECONFIG or "
               "~/.kube/config, or run in a cluster");
    ConnectionOptions options;
    options.context = "dev";
    BOOST_TEST(error_of(options) ==
               "context 'dev': no kubeconfig found, and no file $KUBECONFIG names exists "
               "(/no/a:/no/b) (give the kubeconfig option, $KUBECONFIG or ~/.kube/config)");
}

BOOST_AUTO_TEST_CASE(in_cluster_environment_mistakes_are_named) {
    const auto error_of = [](std::map<std::string, std::string> vars) {
        try {
            resolve_config({}, fake_env(std::move(vars), "/none"));
        } catch (const crossover::Error& e) {
            return std::string(e.what());
        }
        return std::string("resolved");
    };
    BOOST_TEST(error_of({{"KUBERNETES_SERVICE_HOST", ""}}) ==
               "in-cluster: $KUBERNETES_SERVICE_HOST is empty (the pod's environment names the "
               "API server there); set it, or give the apiserver or kubeconfig option");
    for (const std::string port : {"", "https", "0", "65536", "4431234"}) {
        BOOST_TEST(error_of({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
                             {"KUBERNETES_SERVICE_PORT", port}}) ==
                   "in-cluster: $KUBERNETES_SERVICE_PORT '" + port +
                       "' is not a port number (1 to 65535); set it, or give the apiserver "
                       "option");
    }
    BOOST_TEST(error_of({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
                         {"KUBERNETES_SERVICE_PORT", "65535"}}) == "resolved");
}

BOOST_AUTO_TEST_CASE(explicit_apiserver_uses_service_account_credentials) {
    TempDir dir;
    dir.write("sa/token", "tok\n");
    const std::string sa = (dir / "sa");
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

// What only writers use goes; the rest of the metadata stays, and a writer keeps kubectl's record.
BOOST_AUTO_TEST_CASE(writers_fields_are_dropped_from_stored_objects) {
    const std::string text =
        R"({"kind":"ConfigMap","metadata":{"name":"x","managedFields":[{"manager":"kubectl"}],)"
        R"("annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"kind\":\"ConfigMap\"}",)"
        R"("team":"edge"}},"data":{"k":"v"}})";
    const auto plain = parse_object(text, "test");
    drop_writers_fields(plain, InformerOptions{});
    BOOST_TEST(
        to_json(plain) ==
        R"({"data":{"k":"v"},"kind":"ConfigMap","metadata":{"annotations":{"team":"edge"},"name":"x"}})");

    const auto writer = parse_object(text, "test");
    InformerOptions keep;
    keep.keep_last_applied = true;
    drop_writers_fields(writer, keep);
    BOOST_TEST(!writer->getObject("metadata")->has("managedFields"));
    BOOST_TEST(writer->getObject("metadata")->getObject("annotations")->size() == 2u);

    for (const char* bare : {R"({"kind":"ConfigMap"})", R"({"metadata":{"name":"y"}})",
                             R"({"metadata":{"annotations":{}}})"}) {
        const auto o = parse_object(bare, "test");
        drop_writers_fields(o, InformerOptions{});
        BOOST_TEST(to_json(o) == to_json(parse_object(bare, "test")));
    }
    drop_writers_fields(nullptr, InformerOptions{});
}

namespace {

std::string written(const Poco::JSON::Object::Ptr& object) {
    std::ostringstream out;
    object->stringify(out);
    return out.str();
}

Poco::JSON::Object::Ptr poco_parse(const std::string& text) {
    Poco::JSON::Parser parser;
    return parser.parse(text).extract<Poco::JSON::Object::Ptr>();
}

}  // namespace

// The reader makes Poco's tree (the fuzz target json_reader checks it on any input): the value
// types of numbers, strings with every escape, duplicate keys, a string large enough to be
// placed into its object without a copy, and the same text written out again.
BOOST_AUTO_TEST_CASE(json_reader_reads_what_poco_reads) {
    const std::string big(20000, 'y');
    const std::string text =
        R"({"type":"MODIFIED","object":{"kind":"ConfigMap","metadata":{"name":"x",)"
        R"("resourceVersion":"42","labels":{}},"data":{"rds.yaml":")" +
        big + R"(\n\"q\"\\\/\b\f\r\t\u00e9\u20ac\ud83d\ude00\u0000","z":"1","big":")" + big +
        R"(","big":"last"},"n":[1,-2,2147483648,1.5,-0.0,2e3,true,false,null,[],{}],"d":1,"d":")" +
        big + R"("}} )";
    const auto read = read_json_object(text);
    BOOST_REQUIRE(!read.isNull());
    const auto reference = poco_parse(text);
    BOOST_TEST(written(read) == written(reference));
    const auto data = read->getObject("object")->getObject("data");
    const std::string rds = data->getValue<std::string>("rds.yaml");
    BOOST_TEST(rds.size() == big.size() + 20);
    BOOST_TEST(rds.substr(big.size()) == std::string("\n\"q\"\\/\b\f\r\t\xc3\xa9\xe2\x82\xac"
                                                     "\xf0\x9f\x98\x80\0",
                                                     20));
    BOOST_TEST(data->getValue<std::string>("big") == "last");
    BOOST_TEST(read->getObject("object")->getValue<std::string>("d") == big);
    const auto numbers = read->getObject("object")->getArray("n");
    const auto reference_numbers = reference->getObject("object")->getArray("n");
    BOOST_REQUIRE(numbers->size() == reference_numbers->size());
    for (unsigned i = 0; i < numbers->size(); ++i) {
        BOOST_TEST_CONTEXT(i) {
            BOOST_TEST((numbers->get(i).type() == reference_numbers->get(i).type()));
        }
    }
    BOOST_TEST((numbers->get(0).type() == typeid(Poco::Int64)));
    BOOST_TEST((numbers->get(3).type() == typeid(double)));
    BOOST_TEST(numbers->get(8).isEmpty());
}

// What the reader does not read is left to Poco's parser (null): not JSON, not an object, and
// what Poco may read its own way or refuse with its own message.
BOOST_AUTO_TEST_CASE(json_reader_leaves_the_rest_to_poco) {
    for (const std::string& text : std::vector<std::string>{
             "", "[1]", "{not json", R"({"a":1} x)", R"({"a":1,})", R"({"a":01})", R"({"a":1.})",
             R"({"a":18446744073709551616})", R"({"a":9223372036854775808})", R"({"a":1e400})",
             "{\"a\":\"\x01\"}", "{\"a\":\"\xff\"}", "{\"a\":\"\xed\xa0\x80\"}",
             R"({"a":"\ud800"})", R"({"a":"\udc00"})", R"({"a":"\x"})", "\xef\xbb\xbf{}",
             std::string("{}\0", 3)}) {
        BOOST_TEST_CONTEXT(text) {
            BOOST_TEST(read_json_object(text).isNull());
        }
    }
    const auto nested = [](int levels) {
        std::string text;
        for (int i = 0; i < levels; ++i) {
            text += R"({"a":)";
        }
        return text + "1" + std::string(static_cast<std::size_t>(levels), '}');
    };
    BOOST_TEST(!read_json_object(nested(64)).isNull());
    BOOST_TEST(read_json_object(nested(65)).isNull());
    BOOST_TEST(!parse_object(nested(100), "test").isNull());  // Poco's parser reads it
    BOOST_CHECK_THROW(parse_object(nested(129), "test"), crossover::Error);  // and not this
    BOOST_CHECK_THROW(parse_object(R"({"a":"\ud800"})", "test"), crossover::Error);
    BOOST_TEST(!read_json_object(" {} \r\n").isNull());
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

// Every kind of JSON value, nested, converts to what YAML::Load makes of the same text
// (JSON is YAML), tags included.
BOOST_AUTO_TEST_CASE(json_converts_to_yaml_like_loading_it) {
    const std::string text =
        R"({"a":{"b":[[1,[]],{},{"c":null}],"d":[],"e":{}},"f":[true,false,-2.5,"x"],"g":"",)"
        R"("h":[{"i":[{"j":"k"}]}],"l":null})";
    const YAML::Node converted = to_yaml(parse_object(text, "test"));
    const YAML::Node loaded = YAML::Load(text);
    std::function<void(const YAML::Node&, const YAML::Node&, const std::string&)> same =
        [&](const YAML::Node& x, const YAML::Node& y, const std::string& path) {
            BOOST_TEST_CONTEXT(path) {
                BOOST_REQUIRE(x.Type() == y.Type());
                if (x.IsScalar()) {
                    BOOST_TEST(x.Scalar() == y.Scalar());
                    BOOST_TEST(x.Tag() == y.Tag());
                } else if (x.IsSequence()) {
                    BOOST_REQUIRE(x.size() == y.size());
                    for (std::size_t i = 0; i < x.size(); ++i) {
                        same(x[i], y[i], path + "[" + std::to_string(i) + "]");
                    }
                } else if (x.IsMap()) {
                    BOOST_REQUIRE(x.size() == y.size());
                    for (const auto& kv : y) {
                        const std::string key = kv.first.as<std::string>();
                        BOOST_REQUIRE(x[key].IsDefined());
                        same(x[key], kv.second, path + "." + key);
                    }
                }
            }
        };
    same(converted, loaded, "");
    BOOST_TEST(converted.size() == 5u);
    BOOST_TEST(converted["a"]["b"][0][1].IsSequence());
    BOOST_TEST(converted["a"]["b"][1].IsMap());
    // What is written out is the tree alone (no node it was built with), as it always was.
    BOOST_TEST(YAML::Dump(converted) ==
               "a:\n  b:\n    -\n      - 1\n      -\n        []\n    - {}\n    - c: ~\n  d:\n"
               "    []\n  e:\n    {}\nf:\n  - true\n  - false\n  - -2.5\n  - x\ng: \"\"\nh:\n"
               "  - i:\n      - j: k\nl: ~");
    // The tree takes new members like any other.
    YAML::Node copy = converted;
    copy["m"] = "n";
    BOOST_TEST(converted["m"].as<std::string>() == "n");
    BOOST_TEST(converted.size() == 6u);
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

// ---- the sources' option groups ---------------------------------------------

namespace {

const crossover::OptionTable<SourceOptions> kSourceTable{source_fields()};

// A component read from pipeline.yaml, its options starting on line 4.
crossover::ComponentConfig component(const std::string& options_yaml) {
    crossover::ComponentConfig c;
    c.name = "kube";
    c.path = "sources.kube";
    c.file = "pipeline.yaml";
    c.line = 2;
    c.options = YAML::Load("\n\n\n" + options_yaml);
    return c;
}

std::string decode_error(const crossover::OptionTable<SourceOptions>& table,
                         const std::string& options_yaml) {
    try {
        (void)table.decode(component(options_yaml));
    } catch (const crossover::Error& e) {
        return e.what();
    }
    return "accepted";
}

}  // namespace

// Every option the sources have always had, in their order, with the same defaults.
BOOST_AUTO_TEST_CASE(source_fields_keep_the_names_and_defaults) {
    const std::vector<std::pair<std::string, std::string>> expected{
        {"apiserver", ""},
        {"kubeconfig", ""},
        {"context", ""},
        {"token_file", ""},
        {"ca_file", ""},
        {"insecure", "false"},
        {"namespace", ""},
        {"connect_timeout", "10s"},
        {"request_timeout", "30s"},
        {"token_refresh", "1m"},
        {"names", ""},
        {"label_selector", ""},
        {"resync", "10m"},
        {"timeout", "1m"},
        {"read_timeout", "0"},
        {"backoff_initial", "250ms"},
        {"backoff_max", "30s"},
        {"wait_timeout", "30s"},
    };
    BOOST_REQUIRE_EQUAL(kSourceTable.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const crossover::OptionSpec& spec = kSourceTable.specs()[i];
        BOOST_TEST(spec.name == expected[i].first);
        BOOST_TEST((spec.default_value == nullptr ? "" : spec.default_value) == expected[i].second,
                   spec.name);
        BOOST_TEST(!spec.required, spec.name);
    }
}

BOOST_AUTO_TEST_CASE(source_fields_decode_defaults_and_values) {
    const SourceOptions defaults = kSourceTable.decode(component("{}"));
    BOOST_TEST(defaults.selection.names.empty());
    BOOST_TEST(defaults.watch.informer.resync.count() == 600000);
    BOOST_TEST(defaults.watch.informer.watch_timeout.count() == 60000);
    BOOST_TEST(defaults.watch.informer.read_timeout.count() == 0);
    BOOST_TEST(defaults.watch.informer.backoff_initial.count() == 250);
    BOOST_TEST(defaults.watch.informer.backoff_max.count() == 30000);
    BOOST_TEST(defaults.watch.wait_timeout.count() == 30000);
    BOOST_TEST(defaults.timeouts.token_refresh.count() == 60000);

    const SourceOptions o = kSourceTable.decode(
        component("namespace: prod\nnames: [a, b]\nlabel_selector: app=envoy\nresync: 0\n"
                  "timeout: 5s\nread_timeout: 7s\nbackoff_initial: 20ms\nbackoff_max: 2s\n"
                  "wait_timeout: 1m30s\n"));
    BOOST_TEST(o.connection.ns == "prod");
    BOOST_TEST(o.selection.names == (std::vector<std::string>{"a", "b"}));
    BOOST_TEST(o.selection.label_selector == "app=envoy");
    BOOST_TEST(o.watch.informer.resync.count() == 0);
    BOOST_TEST(o.watch.informer.watch_timeout.count() == 5000);
    BOOST_TEST(o.watch.informer.read_timeout.count() == 7000);
    BOOST_TEST(o.watch.informer.backoff_initial.count() == 20);
    BOOST_TEST(o.watch.informer.backoff_max.count() == 2000);
    BOOST_TEST(o.watch.wait_timeout.count() == 90000);
    // One name alone is a one-item list.
    BOOST_TEST(kSourceTable.decode(component("names: a\n")).selection.names ==
               (std::vector<std::string>{"a"}));
}

// Errors name the file, the line of the value, the component and the option.
BOOST_AUTO_TEST_CASE(source_fields_refuse_bad_values_at_their_line) {
    BOOST_TEST(decode_error(kSourceTable, "names: [a]\nwait_timeout: soon\n") ==
               "pipeline.yaml:5: sources.kube: option 'wait_timeout': expected a duration such as "
               "250ms, 10s or 1m, got 'soon'");
    BOOST_TEST(decode_error(kSourceTable, "resync: 10\n") ==
               "pipeline.yaml:4: sources.kube: option 'resync': expected a duration such as "
               "250ms, 10s or 1m, got '10'");
    BOOST_TEST(decode_error(kSourceTable, "names: [a, '']\n") ==
               "pipeline.yaml:4: sources.kube: option 'names': an object name is empty");
    BOOST_TEST(decode_error(kSourceTable, "names: ''\n") ==
               "pipeline.yaml:4: sources.kube: option 'names': an object name is empty");
    BOOST_TEST(decode_error(kSourceTable, "label_selector: [a]\n") ==
               "pipeline.yaml:4: sources.kube: option 'label_selector': expected a string, got "
               "a list");
    BOOST_TEST(decode_error(kSourceTable, "x: 1\nbackoff_max: 0\n") ==
               "pipeline.yaml:5: sources.kube: option 'backoff_max': must be at least 1ms, got 0");
}

// The watch group alone, under a prefix, as a plugin that selects its objects
// itself includes it.
BOOST_AUTO_TEST_CASE(watch_fields_fill_a_member_under_a_prefix) {
    struct Options {
        WatchOptions kube_watch;
    };
    const crossover::OptionTable<Options> table{
        crossover::option_group(watch_fields(), &Options::kube_watch, "kube_")};
    BOOST_REQUIRE_EQUAL(table.size(), 6U);
    BOOST_TEST(std::string(table.specs()[0].name) == "kube_resync");
    BOOST_TEST(std::string(table.specs()[5].name) == "kube_wait_timeout");
    auto c = component("kube_resync: 2m\nkube_wait_timeout: 3s\n");
    const Options o = table.decode(c);
    BOOST_TEST(o.kube_watch.informer.resync.count() == 120000);
    BOOST_TEST(o.kube_watch.wait_timeout.count() == 3000);
    BOOST_TEST(o.kube_watch.informer.backoff_max.count() == 30000);
    c = component("kube_timeout: never\n");
    BOOST_CHECK_EXCEPTION((void)table.decode(c), crossover::Error, [](const crossover::Error& e) {
        return std::string(e.what()).find("pipeline.yaml:4: sources.kube: option 'kube_timeout'") ==
               0;
    });
}

BOOST_AUTO_TEST_CASE(configmap_keys_follow_the_api_servers_rule) {
    for (const char* key : {"rds.yaml", "a-b_c.1", ".hidden", "a..b", "X"}) {
        BOOST_TEST(is_configmap_key(key), key);
    }
    for (const char* key : {"", ".", "..", "..a", "a/b", "a b", "caf\xc3\xa9", "a:b"}) {
        BOOST_TEST(!is_configmap_key(key), key);
    }
    BOOST_TEST(is_configmap_key(std::string(253, 'k')));
    BOOST_TEST(!is_configmap_key(std::string(254, 'k')));
}
