// The `template` transform driven directly: data sources, pass-through,
// golden RDS output for every TrafficSplit fixture, the sandbox, caching,
// and the built plugin loaded with dlopen.
#include <boost/test/unit_test.hpp>

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "capture_logger.h"
#include "crossover/sdk.h"
#include "template_transform.h"

namespace fs = std::filesystem;
using crossover::ComponentConfig;
using crossover::Document;
using crossover::DocumentPtr;
using crossover::Input;
using crossover::Object;
using crossover::ObjectPtr;
using crossover::Snapshot;
using crossover::SnapshotPtr;
using crossover::Status;
using crossover::tmpl::kTemplateOptions;
using crossover::tmpl::TemplateTransform;

namespace {

crossover::test::QuietLogger quiet;

std::string env_or(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v != nullptr ? v : fallback;
}

fs::path source_dir() {
    return env_or("CROSSOVER_SOURCE_DIR", CROSSOVER_TEST_SOURCE_DIR);
}
fs::path here() {
    return source_dir() / "plugins/transform_template/tests";
}
fs::path fixtures() {
    return source_dir() / "tests/fixtures";
}

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    BOOST_REQUIRE_MESSAGE(in, "cannot read " << p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

ComponentConfig config(const std::string& options_yaml) {
    ComponentConfig c;
    c.name = "render";
    c.type = "template";
    c.path = "transforms.render";
    c.base_dir = here().string();
    c.options = YAML::Load(options_yaml);
    c.logger = &quiet;
    return c;
}

// The transform as the plugin's factory builds it: options decoded by its table.
TemplateTransform make(const ComponentConfig& c) {
    return TemplateTransform(c, kTemplateOptions.decode(c));
}

DocumentPtr doc(const std::string& name, const std::string& content,
                const std::string& cm = "envoy-xds", const std::string& ns = "test") {
    auto d = std::make_shared<Document>();
    d->name = name;
    d->content = content;
    d->origin = crossover::ObjectRef{"ConfigMap", ns, cm, "1"};
    return d;
}

ObjectPtr object_from(const YAML::Node& body) {
    auto o = std::make_shared<Object>();
    o->ref.kind = body["kind"].Scalar();
    o->ref.ns = body["metadata"]["namespace"] ? body["metadata"]["namespace"].Scalar() : "";
    o->ref.name = body["metadata"]["name"].Scalar();
    o->api_version = body["apiVersion"].Scalar();
    o->body = body;
    return o;
}

ObjectPtr split_fixture(const std::string& file) {
    return object_from(YAML::LoadFile((fixtures() / "trafficsplit" / file).string()));
}

SnapshotPtr snapshot(std::vector<DocumentPtr> docs, std::vector<ObjectPtr> objects = {}) {
    auto s = std::make_shared<Snapshot>();
    std::sort(docs.begin(), docs.end(),
              [](const DocumentPtr& a, const DocumentPtr& b) { return a->name < b->name; });
    s->documents = std::move(docs);
    s->objects = std::move(objects);
    return s;
}

// Runs the transform; returns the error message or "" on success.
std::string run(TemplateTransform& t, const std::vector<Input>& inputs, SnapshotPtr& out) {
    const Status st = t.transform(inputs, out);
    return st.is_ok() ? std::string() : st.message();
}

std::string render_one(const std::string& options, const std::string& tmpl,
                       std::vector<ObjectPtr> objects = {}) {
    TemplateTransform t = make(config(options));
    SnapshotPtr out;
    const std::string err = run(t, {Input{"xds", snapshot({doc("out.tmpl", tmpl)}, objects)}}, out);
    if (!err.empty()) {
        return "error: " + err;
    }
    const Document* d = out->find_document("out");
    return d != nullptr ? d->content : "no document";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(transform)

BOOST_AUTO_TEST_CASE(renders_matching_documents_and_passes_the_rest_through) {
    TemplateTransform t = make(config("{namespace: test, values: {who: world}}"));
    const auto plain = doc("cds.yaml", "{{ not a template }}");
    const auto tmpl = doc("hello.txt.tmpl", "hello {{ .Values.who }}");
    const auto split = split_fixture("v1alpha2.yaml");
    auto other = std::make_shared<Object>();
    other->ref = crossover::ObjectRef{"Other", "test", "x", "1"};
    const auto in = snapshot({plain, tmpl}, {split, other});
    SnapshotPtr out;
    BOOST_REQUIRE_EQUAL(run(t, {Input{"xds", in}}, out), "");
    BOOST_REQUIRE_EQUAL(out->documents.size(), 2u);
    BOOST_CHECK_EQUAL(out->documents[0]->name, "cds.yaml");
    BOOST_CHECK(out->documents[0] == plain);  // the same pointer: untouched
    BOOST_CHECK_EQUAL(out->documents[1]->name, "hello.txt");
    BOOST_CHECK_EQUAL(out->documents[1]->content, "hello world");
    BOOST_CHECK_EQUAL(out->documents[1]->origin.describe(), "ConfigMap test/envoy-xds");
    BOOST_REQUIRE_EQUAL(out->objects.size(), 2u);
    BOOST_CHECK(out->objects[0] == other);
    BOOST_CHECK(out->objects[1] == split);
    BOOST_CHECK(out->complete);
}

BOOST_AUTO_TEST_CASE(match_and_strip_suffix_options) {
    TemplateTransform t = make(config("{match: 'rds*', strip_suffix: .gotmpl}"));
    SnapshotPtr out;
    BOOST_REQUIRE_EQUAL(run(t,
                            {Input{"xds", snapshot({doc("rds.yaml.gotmpl", "{{ add 1 1 }}"),
                                                    doc("x.tmpl", "{{ keep }}")})}},
                            out),
                        "");
    BOOST_REQUIRE_EQUAL(out->documents.size(), 2u);
    BOOST_CHECK_EQUAL(out->documents[0]->name, "rds.yaml");
    BOOST_CHECK_EQUAL(out->documents[0]->content, "2");
    BOOST_CHECK_EQUAL(out->documents[1]->name, "x.tmpl");
    BOOST_CHECK_EQUAL(out->documents[1]->content, "{{ keep }}");
}

BOOST_AUTO_TEST_CASE(several_inputs_merge_and_propagate_incompleteness) {
    TemplateTransform t = make(config("{}"));
    auto a = std::make_shared<Snapshot>();
    a->documents = {doc("a.tmpl", "{{ len .TrafficSplits }}")};
    auto b = std::make_shared<Snapshot>();
    b->objects = {split_fixture("v1alpha4.yaml")};
    b->complete = false;
    b->missing = {"TrafficSplit test/other"};
    SnapshotPtr out;
    BOOST_REQUIRE_EQUAL(run(t, {Input{"xds", a}, Input{"splits", b}}, out), "");
    BOOST_CHECK_EQUAL(out->find_document("a")->content, "1");
    BOOST_CHECK(!out->complete);
    BOOST_REQUIRE_EQUAL(out->missing.size(), 1u);

    auto c = std::make_shared<Snapshot>();
    c->documents = {doc("a.tmpl", "dup")};
    BOOST_CHECK_EQUAL(run(t, {Input{"xds", a}, Input{"more", c}}, out),
                      "document 'a.tmpl' comes from both input 'xds' and input 'more'; rename one "
                      "of them");
}

BOOST_AUTO_TEST_CASE(rendered_name_collisions_are_refused) {
    TemplateTransform t = make(config("{}"));
    SnapshotPtr out;
    BOOST_CHECK_EQUAL(
        run(t, {Input{"xds", snapshot({doc("rds.yaml", "plain"), doc("rds.yaml.tmpl", "x")})}},
            out),
        "template 'rds.yaml.tmpl' renders to 'rds.yaml', which an input document also provides");
}

BOOST_AUTO_TEST_CASE(trafficsplits_data) {
    const std::string tmpl =
        "{{ range $n, $s := .TrafficSplits }}{{ $n }} {{ $s.namespace }} {{ $s.service }}:"
        "{{ range $s.backends }} {{ .service }}={{ .weight }}{{ end }}\n{{ end }}";
    BOOST_CHECK_EQUAL(render_one("{}", tmpl, {split_fixture("flagger-v1alpha1.yaml")}),
                      "podinfo test podinfo: podinfo-canary=5 podinfo-primary=95\n");
    // v1alpha1 quantities become integers with the same ratio.
    BOOST_CHECK_EQUAL(render_one("{}", tmpl, {split_fixture("quantity-milli-v1alpha1.yaml")}),
                      "podinfo test podinfo: podinfo-canary=1 podinfo-primary=3\n");
    BOOST_CHECK_EQUAL(render_one("{}", tmpl, {split_fixture("v1alpha3-matches.yaml")}),
                      "podinfo test podinfo: podinfo-primary=90 podinfo-canary=10\n");
    // A TrafficSplit the shared parser refuses is reported with its name.
    const auto bad =
        object_from(YAML::LoadFile((fixtures() / "invalid/trafficsplit-negative.yaml").string()));
    const std::string err = render_one("{}", tmpl, {bad});
    BOOST_CHECK_MESSAGE(err.rfind("error: TrafficSplit ", 0) == 0 &&
                            err.find("negative weight") != std::string::npos,
                        err);
    // Two TrafficSplits with one name in two namespaces cannot both be .TrafficSplits.<name>.
    auto other = YAML::Clone(split_fixture("v1alpha4.yaml")->body);
    other["metadata"]["namespace"] = "prod";
    BOOST_CHECK_EQUAL(
        render_one("{}", tmpl, {split_fixture("v1alpha4.yaml"), object_from(other)}),
        "error: TrafficSplit test/podinfo: .TrafficSplits.podinfo is also TrafficSplit "
        "prod/podinfo; templates index TrafficSplits by name, so give them distinct names");
}

BOOST_AUTO_TEST_CASE(configmaps_data) {
    TemplateTransform t = make(config("{}"));
    SnapshotPtr out;
    const auto in = snapshot({doc("cds.yaml", "clusters: []"), doc("extra", "x", "other"),
                              doc("list.tmpl",
                                  "{{ range $cm, $keys := .ConfigMaps }}{{ $cm }}:"
                                  "{{ range $k, $v := $keys }} {{ $k }}{{ end }};{{ end }}"
                                  "{{ index .ConfigMaps \"envoy-xds\" \"cds.yaml\" }}")});
    BOOST_REQUIRE_EQUAL(run(t, {Input{"xds", in}}, out), "");
    BOOST_CHECK_EQUAL(out->find_document("list")->content,
                      "envoy-xds: cds.yaml list.tmpl;other: extra;clusters: []");
}

BOOST_AUTO_TEST_CASE(values_inline_and_from_file) {
    const fs::path dir = fs::temp_directory_path() / ("tmpl-values-" + std::to_string(getpid()));
    fs::create_directories(dir);
    { std::ofstream(dir / "values.yaml") << "image: {repo: app, tag: '1.0'}\nreplicas: 2\n"; }
    const std::string opts = "{values_file: " + (dir / "values.yaml").string() +
                             ", values: {image: {tag: '2.0'}, extra: true}}";
    BOOST_CHECK_EQUAL(render_one(opts,
                                 "{{ .Values.image.repo }}:{{ .Values.image.tag }} "
                                 "{{ .Values.replicas }} {{ .Values.extra }}"),
                      "app:2.0 2 true");
    // A relative values_file resolves against the pipeline file's directory.
    ComponentConfig rel = config("{values_file: values.yaml}");
    rel.base_dir = dir.string();
    TemplateTransform t = make(rel);
    SnapshotPtr out;
    BOOST_REQUIRE_EQUAL(
        run(t, {Input{"xds", snapshot({doc("r.tmpl", "{{ .Values.replicas }}")})}}, out), "");
    BOOST_CHECK_EQUAL(out->find_document("r")->content, "2");
    {
        std::ofstream(dir / "list.yaml") << "[1, 2]\n";
        std::ofstream(dir / "broken.yaml") << "a: [1, 2\n";
    }
    const auto ctor_error = [](const std::string& options) {
        try {
            TemplateTransform x = make(config(options));
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    BOOST_CHECK_EQUAL(ctor_error("{values_file: " + (dir / "nope.yaml").string() + "}"),
                      "transforms.render: option 'values_file': cannot read " +
                          (dir / "nope.yaml").string() + ": no such file");
    BOOST_CHECK_EQUAL(ctor_error("{values_file: " + (dir / "list.yaml").string() + "}"),
                      "transforms.render: option 'values_file': " + (dir / "list.yaml").string() +
                          ": expected a map at the top");
    BOOST_CHECK_EQUAL(ctor_error("{values_file: " + (dir / "broken.yaml").string() + "}")
                          .rfind("transforms.render: option 'values_file': " +
                                     (dir / "broken.yaml").string() + ": line 1: ",
                                 0),
                      0u);
    BOOST_CHECK_EQUAL(ctor_error("{values: [1]}"),
                      "transforms.render: option 'values': expected a map, got a list");
    BOOST_CHECK_EQUAL(ctor_error("{max_steps: 0}"),
                      "transforms.render: option 'max_steps': must be at least 1, got 0");
    BOOST_CHECK_EQUAL(ctor_error("{match: ''}"),
                      "transforms.render: option 'match': must not be empty");
    fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(namespace_option_and_pod_namespace) {
    BOOST_CHECK_EQUAL(render_one("{namespace: prod}", "{{ .Namespace }}"), "prod");
    ::setenv("POD_NAMESPACE", "from-env", 1);
    BOOST_CHECK_EQUAL(render_one("{}", "{{ .Namespace }}"), "from-env");
    ::unsetenv("POD_NAMESPACE");
    BOOST_CHECK_EQUAL(render_one("{}", "[{{ .Namespace }}]"), "[]");
}

BOOST_AUTO_TEST_CASE(sandbox_env_only_lists_what_is_allowed) {
    ::setenv("TMPL_TEST_ALLOWED", "yes-visible", 1);
    ::setenv("TMPL_TEST_SECRET", "hidden", 1);
    ::unsetenv("TMPL_TEST_UNSET");
    const std::string opts = "{env: [TMPL_TEST_ALLOWED, TMPL_TEST_UNSET]}";
    BOOST_CHECK_EQUAL(render_one(opts, "{{ .Env.TMPL_TEST_ALLOWED }}"), "yes-visible");
    BOOST_CHECK_EQUAL(render_one(opts, "{{ .Env | len }}"), "1");
    BOOST_CHECK_EQUAL(render_one(opts, "{{ .Env.TMPL_TEST_UNSET | default \"fallback\" }}"),
                      "fallback");
    BOOST_CHECK_EQUAL(render_one(opts, "{{ .Env.TMPL_TEST_SECRET }}"),
                      "error: ConfigMap test/envoy-xds: out.tmpl:1:8: map has no key "
                      "\"TMPL_TEST_SECRET\"");
    BOOST_CHECK_EQUAL(render_one("{}", "{{ .Env.HOME }}"),
                      "error: ConfigMap test/envoy-xds: out.tmpl:1:8: map has no key \"HOME\"");
    // No function reaches the file system, the environment or other programs.
    for (const char* f :
         {"env \"HOME\"", "readFile \"/etc/passwd\"", "exec \"id\"", "include \"/etc/passwd\" ."}) {
        const std::string got = render_one("{}", std::string("{{ ") + f + " }}");
        BOOST_CHECK_MESSAGE(got.rfind("error: ConfigMap test/envoy-xds: out.tmpl:1:4: ", 0) == 0,
                            got);
    }
    ::unsetenv("TMPL_TEST_ALLOWED");
    ::unsetenv("TMPL_TEST_SECRET");
}

BOOST_AUTO_TEST_CASE(errors_name_object_document_line_and_column) {
    std::string tmpl;
    for (int i = 1; i < 12; ++i) {
        tmpl += "# line " + std::to_string(i) + "\n";
    }
    tmpl += "      {{ .weight }}\n";
    TemplateTransform t = make(config("{}"));
    SnapshotPtr out;
    BOOST_CHECK_EQUAL(run(t, {Input{"xds", snapshot({doc("rds.yaml.tmpl", tmpl)})}}, out),
                      "ConfigMap test/envoy-xds: rds.yaml.tmpl:12:10: map has no key \"weight\"");
    BOOST_CHECK_EQUAL(
        run(t, {Input{"xds", snapshot({doc("lds.yaml.tmpl", "a\n{{ if .x }}\n")})}}, out),
        "ConfigMap test/envoy-xds: lds.yaml.tmpl:2:4: {{if}} has no matching {{end}}");
    // A document built without an origin is named by itself.
    auto bare = std::make_shared<Document>();
    bare->name = "bare.tmpl";
    bare->content = "{{ fail \"stop\" }}";
    BOOST_CHECK_EQUAL(run(t, {Input{"xds", snapshot({bare})}}, out), "bare.tmpl:1:4: stop");
    // Limits from the options.
    TemplateTransform small = make(config("{max_steps: 50, max_output_bytes: 64}"));
    BOOST_CHECK_EQUAL(
        run(small, {Input{"xds", snapshot({doc("a.tmpl", "{{ range 100 }}{{ end }}")})}}, out),
        "ConfigMap test/envoy-xds: a.tmpl:1:4: template execution exceeded the limit "
        "of 50 steps (runaway loop?)");
    BOOST_CHECK_EQUAL(
        run(small, {Input{"xds", snapshot({doc("a.tmpl", "{{ range 10 }}0123456789{{ end }}")})}},
            out),
        "ConfigMap test/envoy-xds: a.tmpl:1:15: output exceeds the limit of 64 bytes");
}

BOOST_AUTO_TEST_CASE(parsed_templates_are_cached_by_content) {
    TemplateTransform t = make(config("{values: {n: 1}}"));
    SnapshotPtr out;
    const auto tmpl = doc("a.tmpl", "{{ .Values.n }}{{ len .TrafficSplits }}");
    BOOST_REQUIRE_EQUAL(run(t, {Input{"xds", snapshot({tmpl})}}, out), "");
    BOOST_CHECK_EQUAL(t.parse_count(), 1u);
    // Same content, new data (a TrafficSplit step): no new parse, new output.
    BOOST_REQUIRE_EQUAL(run(t,
                            {Input{"xds", snapshot({doc("a.tmpl", tmpl->content)},
                                                   {split_fixture("v1alpha2.yaml")})}},
                            out),
                        "");
    BOOST_CHECK_EQUAL(t.parse_count(), 1u);
    BOOST_CHECK_EQUAL(out->find_document("a")->content, "11");
    // Changed content parses again; the unused entry is dropped.
    BOOST_REQUIRE_EQUAL(run(t, {Input{"xds", snapshot({doc("a.tmpl", "v2")})}}, out), "");
    BOOST_CHECK_EQUAL(t.parse_count(), 2u);
    BOOST_CHECK_EQUAL(t.cache_size(), 1u);
    BOOST_CHECK_EQUAL(out->find_document("a")->content, "v2");
}

BOOST_AUTO_TEST_CASE(output_is_stable) {
    const std::string tmpl = "{{ toYaml .Values }}{{ range $k, $v := .Values }}{{ $k }}{{ end }}";
    const std::string a = render_one("{values: {z: 1, a: {c: 2, b: 3}, m: [3, 1]}}", tmpl);
    const std::string b = render_one("{values: {m: [3, 1], a: {b: 3, c: 2}, z: 1}}", tmpl);
    BOOST_CHECK_EQUAL(a, b);
    BOOST_CHECK_EQUAL(a, "a:\n  b: 3\n  c: 2\nm:\n- 3\n- 1\nz: 1amz");
}

// Golden files: tests/golden/rds.yaml.tmpl rendered with tests/golden/values.yaml
// against each TrafficSplit fixture. CROSSOVER_UPDATE_GOLDEN=1 rewrites them.
BOOST_AUTO_TEST_CASE(golden_rds_for_every_trafficsplit_fixture) {
    struct Case {
        const char* fixture;
        const char* golden;
        const char* backends[2];
        unsigned weights[2];
    };
    const Case cases[] = {
        {"flagger-v1alpha1.yaml",
         "rds.flagger-v1alpha1.yaml",
         {"podinfo-canary", "podinfo-primary"},
         {5, 95}},
        {"quantity-milli-v1alpha1.yaml",
         "rds.quantity-milli-v1alpha1.yaml",
         {"podinfo-canary", "podinfo-primary"},
         {1, 3}},
        {"v1alpha2.yaml",
         "rds.v1alpha2.yaml",
         {"eerie-octopus-podinfo", "bold-olm-podinfo"},
         {25, 75}},
        {"v1alpha3-matches.yaml",
         "rds.v1alpha3-matches.yaml",
         {"podinfo-primary", "podinfo-canary"},
         {90, 10}},
        {"v1alpha4.yaml", "rds.v1alpha4.yaml", {"podinfo-primary", "podinfo-canary"}, {0, 100}},
    };
    const bool update = std::getenv("CROSSOVER_UPDATE_GOLDEN") != nullptr;
    const std::string tmpl = read(here() / "golden/rds.yaml.tmpl");
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.fixture) {
            TemplateTransform t =
                make(config("{values_file: golden/values.yaml, namespace: ignored}"));
            SnapshotPtr out;
            const auto plain = doc("cds.yaml", read(fixtures() / "xds/cds.yaml"));
            BOOST_REQUIRE_EQUAL(run(t,
                                    {Input{"xds", snapshot({doc("rds.yaml.tmpl", tmpl), plain})},
                                     Input{"splits", snapshot({}, {split_fixture(c.fixture)})}},
                                    out),
                                "");
            BOOST_REQUIRE_EQUAL(out->documents.size(), 2u);
            BOOST_CHECK(out->documents[0] == plain);
            const Document* rds = out->find_document("rds.yaml");
            BOOST_REQUIRE(rds != nullptr);
            const fs::path golden = here() / "golden" / c.golden;
            if (update) {
                std::ofstream(golden, std::ios::binary) << rds->content;
            }
            BOOST_CHECK_EQUAL(rds->content, read(golden));

            // Independently of the golden bytes: the output is the RDS Envoy expects.
            const YAML::Node y = YAML::Load(rds->content);
            BOOST_CHECK_EQUAL(y["version_info"].Scalar(), "7");
            const YAML::Node rc = y["resources"][0];
            BOOST_CHECK_EQUAL(rc["@type"].Scalar(),
                              "type.googleapis.com/envoy.config.route.v3.RouteConfiguration");
            const YAML::Node vh = rc["virtual_hosts"][0];
            BOOST_CHECK_EQUAL(vh["name"].Scalar(), "podinfo");
            const std::string ns = split_fixture(c.fixture)->ref.ns;
            BOOST_CHECK_EQUAL(vh["domains"][1].Scalar(), "podinfo." + ns);
            BOOST_CHECK_EQUAL(vh["domains"][2].Scalar(), "podinfo." + ns + ".svc.cluster.local");
            const YAML::Node route = vh["routes"][0]["route"];
            BOOST_CHECK_EQUAL(route["retry_policy"]["num_retries"].as<int>(), 2);
            const YAML::Node clusters = route["weighted_clusters"]["clusters"];
            BOOST_REQUIRE_EQUAL(clusters.size(), 2u);
            for (std::size_t i = 0; i < 2; ++i) {
                BOOST_CHECK_EQUAL(clusters[i]["name"].Scalar(), c.backends[i]);
                BOOST_CHECK_EQUAL(clusters[i]["weight"].as<unsigned>(), c.weights[i]);
                const bool canary = std::string(c.backends[i]).find("-canary") != std::string::npos;
                BOOST_CHECK_EQUAL(static_cast<bool>(clusters[i]["request_headers_to_add"]), canary);
                if (canary) {
                    BOOST_CHECK_EQUAL(
                        clusters[i]["request_headers_to_add"][0]["header"]["value"].Scalar(),
                        std::to_string(c.weights[i]));
                }
            }
            const YAML::Node st = rc["virtual_hosts"][1];
            BOOST_CHECK_EQUAL(st["domains"][0].Scalar(), "*");
            BOOST_CHECK_EQUAL(st["routes"][0]["direct_response"]["status"].as<int>(), 404);
        }
    }
}

BOOST_AUTO_TEST_CASE(golden_template_without_its_trafficsplit_fails_precisely) {
    TemplateTransform t = make(config("{values_file: golden/values.yaml}"));
    SnapshotPtr out;
    const std::string tmpl = read(here() / "golden/rds.yaml.tmpl");
    BOOST_CHECK_EQUAL(
        run(t, {Input{"xds", snapshot({doc("rds.yaml.tmpl", tmpl)})}}, out),
        "ConfigMap test/envoy-xds: rds.yaml.tmpl:6:52: values.split names no TrafficSplit");
}

// The built shared object, loaded the way the core loads plugins.
BOOST_AUTO_TEST_CASE(plugin_shared_object) {
    const fs::path so = fs::path(env_or("CROSSOVER_PLUGIN_DIR", CROSSOVER_TEST_PLUGIN_DIR)) /
                        "transform_template.so";
    void* handle = ::dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
    BOOST_REQUIRE_MESSAGE(handle != nullptr, ::dlerror());
    auto entry =
        reinterpret_cast<crossover_plugin_entry_fn>(::dlsym(handle, CROSSOVER_PLUGIN_ENTRY_SYMBOL));
    BOOST_REQUIRE(entry != nullptr);
    const crossover::PluginDescriptor* d = entry();
    BOOST_CHECK_EQUAL(d->abi_version, CROSSOVER_ABI_VERSION);
    BOOST_CHECK_EQUAL(std::string(d->name), "template");
    BOOST_CHECK(d->kind == crossover::Kind::Transform);

    // Every option is documented in the README's table, and nothing else is.
    const std::string readme = read(source_dir() / "plugins/transform_template/README.md");
    std::size_t rows = 0;
    for (std::size_t i = 0; i < d->option_count; ++i) {
        const std::string row = std::string("| `") + d->options[i].name + "` | " +
                                crossover::option_type_name(d->options[i].type) + " |";
        BOOST_CHECK_MESSAGE(readme.find(row) != std::string::npos, "README lacks " << row);
    }
    const std::size_t begin = readme.find("## Options");
    const std::size_t end = readme.find("\n## ", begin + 1);
    BOOST_REQUIRE(begin != std::string::npos && end != std::string::npos);
    const std::string options_section = readme.substr(begin, end - begin);
    for (std::size_t p = options_section.find("\n| `"); p != std::string::npos;
         p = options_section.find("\n| `", p + 1)) {
        ++rows;
    }
    BOOST_CHECK_EQUAL(rows, d->option_count);

    std::string error;
    ComponentConfig c = config("{values: {x: 41}}");
    crossover::Component* comp = d->create(c, error);
    BOOST_REQUIRE_MESSAGE(comp != nullptr, error);
    auto* tr = dynamic_cast<crossover::Transform*>(comp);
    BOOST_REQUIRE(tr != nullptr);
    SnapshotPtr out;
    BOOST_REQUIRE(
        tr->transform({Input{"xds", snapshot({doc("a.tmpl", "{{ add .Values.x 1 }}")})}}, out)
            .is_ok());
    BOOST_CHECK_EQUAL(out->find_document("a")->content, "42");
    const Status bad =
        tr->transform({Input{"xds", snapshot({doc("a.tmpl", "{{ .Values.y }}")})}}, out);
    BOOST_CHECK_EQUAL(bad.message(), "ConfigMap test/envoy-xds: a.tmpl:1:11: map has no key \"y\"");
    d->destroy(comp);

    ComponentConfig broken = config("{values: 5}");
    BOOST_CHECK(d->create(broken, error) == nullptr);
    BOOST_CHECK_EQUAL(error, "transforms.render: option 'values': expected a map, got '5'");
    ::dlclose(handle);
}

BOOST_AUTO_TEST_SUITE_END()
