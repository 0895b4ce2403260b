// The out-of-tree plugin story end to end: install crossover into a temporary
// prefix, build examples/plugins/header_injection against it with a separate
// CMake run, and chain the plugin after smi_merge in a pipeline run by the
// installed binary. The complete example of docs/plugins.md is built and run
// the same way, straight from the page.
#define BOOST_TEST_MODULE header_injection_example
#include <boost/test/unit_test.hpp>

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "../support/process.h"

using namespace crossover::test;

namespace {

constexpr auto kBuildTimeout = std::chrono::seconds(240);

// Installs and builds once for all test cases.
struct Installed {
    TempDir dir;
    std::string prefix = dir / "prefix";
    std::string plugin_dir = dir / "hi";
    std::string failure;  // why setup failed, empty when it worked

    Installed() {
        const std::vector<std::vector<std::string>> steps{
            {CROSSOVER_CMAKE, "--install", build_dir(), "--prefix", prefix},
            {CROSSOVER_CMAKE, "-S", source_dir() + "/examples/plugins/header_injection", "-B",
             plugin_dir, "-DCMAKE_PREFIX_PATH=" + prefix,
             "-DCMAKE_CXX_COMPILER=" CROSSOVER_CXX_COMPILER, "-DHEADER_INJECTION_WERROR=ON",
             "-DCMAKE_CXX_FLAGS=" CROSSOVER_SANITIZE_FLAGS,
             "-DCMAKE_MODULE_LINKER_FLAGS=" CROSSOVER_SANITIZE_FLAGS},
            {CROSSOVER_CMAKE, "--build", plugin_dir},
        };
        for (const auto& argv : steps) {
            const Result r = run(argv, dir.path(), kBuildTimeout);
            if (r.code != 0) {
                failure = argv[1] + " failed (" + std::to_string(r.code) + "):\n" + r.out + r.err;
                return;
            }
        }
    }
};

Installed& installed() {
    static Installed once;
    return once;
}

std::string split(int primary, int canary) {
    return "apiVersion: split.smi-spec.io/v1alpha2\n"
           "kind: TrafficSplit\n"
           "metadata: {name: podinfo-split, namespace: test}\n"
           "spec:\n"
           "  service: podinfo\n"
           "  backends:\n"
           "  - {service: podinfo-primary, weight: " +
           std::to_string(primary) +
           "}\n"
           "  - {service: podinfo-canary, weight: " +
           std::to_string(canary) + "}\n";
}

struct Run {
    TempDir dir;
    Result result{};
    std::unique_ptr<Process> watching;

    // file -> smi_merge -> header_injection (options below) -> symlink, run
    // once, or kept running (watching the manifests) with `watch`.
    explicit Run(const std::string& header_options, bool watch = false) {
        BOOST_TEST_REQUIRE(installed().failure == "");
        std::filesystem::copy_file(fixtures_dir() + "/manifests/envoy-xds.configmap.yaml",
                                   dir / "envoy-xds.configmap.yaml");
        write_text(dir / "split.yaml", split(70, 30));
        write_text(dir / "p.yaml",
                   "plugin_dirs: [" + installed().plugin_dir +
                       "]\n"
                       "engine: {debounce: 2ms, max_delay: 50ms}\n"
                       "sources:\n"
                       "  manifests: {type: file, paths: [envoy-xds.configmap.yaml, split.yaml], "
                       "watch: " +
                       (watch ? "true" : "false") +
                       "}\n"
                       "transforms:\n"
                       "  weighted: {type: smi_merge, inputs: [manifests]}\n"
                       "  headers:\n"
                       "    type: header_injection\n"
                       "    inputs: [weighted]\n" +
                       header_options +
                       "sinks:\n"
                       "  envoy: {type: symlink, inputs: [headers], dir: " +
                       dir.path() + "/out}\n");
        if (watch) {
            watching = std::make_unique<Process>(
                std::vector<std::string>{installed().prefix + "/bin/crossover", "run",
                                         dir / "p.yaml", "--listen", "off"},
                dir.path());
            return;
        }
        rerun();
    }

    void rerun() {
        result = run({installed().prefix + "/bin/crossover", "run", dir / "p.yaml", "--onetime"},
                     dir.path());
    }

    [[nodiscard]] std::string output(const std::string& name) const {
        return read_text(dir / ("out/current/" + name));
    }
    [[nodiscard]] YAML::Node rds() const { return YAML::Load(output("rds.yaml")); }
    [[nodiscard]] YAML::Node clusters() const {
        return rds()["resources"][0]["virtual_hosts"][0]["routes"][0]["route"]["weighted_clusters"]
                    ["clusters"];
    }
};

// "key=value" for each entry of a HeaderValueOption list; "<absent>" when there is none.
std::vector<std::string> headers(const YAML::Node& owner, const char* field) {
    std::vector<std::string> out;
    const YAML::Node list = owner[field];
    if (!list) {
        return {"<absent>"};
    }
    for (const auto& entry : list) {
        out.push_back(entry["header"]["key"].as<std::string>() + "=" +
                      entry["header"]["value"].as<std::string>());
    }
    return out;
}

using Strings = std::vector<std::string>;

}  // namespace

BOOST_AUTO_TEST_CASE(cluster_headers_with_weight_and_trafficsplit) {
    const Run r(
        "    clusters: [podinfo-canary, podinfo-primary]\n"
        "    request_headers_to_add: {x-weight: \"{{ weight }}\", x-split: \"{{trafficsplit}}\"}\n"
        "    response_headers_to_add: {x-canary: \"true\"}\n");
    BOOST_TEST_REQUIRE(r.result.code == 0, r.result.err);
    const YAML::Node rds = r.rds();
    const YAML::Node host = rds["resources"][0]["virtual_hosts"][0];
    const YAML::Node clusters = host["routes"][0]["route"]["weighted_clusters"]["clusters"];
    BOOST_TEST_REQUIRE(clusters.size() == 2u);
    BOOST_TEST(clusters[0]["name"].as<std::string>() == "podinfo-primary");
    BOOST_TEST(clusters[0]["weight"].as<int>() == 70);
    BOOST_TEST(clusters[1]["name"].as<std::string>() == "podinfo-canary");
    BOOST_TEST(clusters[1]["weight"].as<int>() == 30);
    // Headers in option order (sorted by name), after the existing entry.
    BOOST_TEST(headers(clusters[0], "request_headers_to_add") ==
                   (Strings{"x-cluster-id=123", "x-split=podinfo-split", "x-weight=70"}),
               boost::test_tools::per_element());
    BOOST_TEST(headers(clusters[1], "request_headers_to_add") ==
                   (Strings{"x-split=podinfo-split", "x-weight=30"}),
               boost::test_tools::per_element());
    BOOST_TEST(headers(clusters[0], "response_headers_to_add") == (Strings{"x-canary=true"}),
               boost::test_tools::per_element());
    BOOST_TEST(headers(clusters[1], "response_headers_to_add") == (Strings{"x-canary=true"}),
               boost::test_tools::per_element());
    // Nothing added above the clusters.
    BOOST_TEST(headers(host, "request_headers_to_add") == (Strings{"<absent>"}));
    BOOST_TEST(headers(host["routes"][0], "response_headers_to_add") == (Strings{"<absent>"}));
    // Values stay strings for Envoy.
    const std::string text = r.output("rds.yaml");
    BOOST_TEST(text.find("{key: \"x-canary\", value: \"true\"}") != std::string::npos, text);
    BOOST_TEST(text.find("{key: \"x-weight\", value: \"30\"}") != std::string::npos, text);
    BOOST_TEST(text.find("value: \"123\"") != std::string::npos, text);
    // Documents without routes pass through byte for byte.
    const YAML::Node cm = YAML::LoadFile(fixtures_dir() + "/manifests/envoy-xds.configmap.yaml");
    BOOST_TEST(r.output("cds.yaml") == cm["data"]["cds.yaml"].as<std::string>());
    BOOST_TEST(r.output("lds.yaml") == cm["data"]["lds.yaml"].as<std::string>());
}

BOOST_AUTO_TEST_CASE(virtual_host_and_route_level) {
    const Run r(
        "    virtual_hosts: [static]\n"
        "    request_headers_to_add: {x-served-by: crossover}\n");
    BOOST_TEST_REQUIRE(r.result.code == 0, r.result.err);
    const YAML::Node hosts = r.rds()["resources"][0]["virtual_hosts"];
    BOOST_TEST(headers(hosts[1], "request_headers_to_add") == (Strings{"x-served-by=crossover"}),
               boost::test_tools::per_element());
    BOOST_TEST(headers(hosts[0], "request_headers_to_add") == (Strings{"<absent>"}));
}

BOOST_AUTO_TEST_CASE(a_name_matching_nothing_fails_the_run) {
    const Run r(
        "    clusters: [podinfo-canry]\n"
        "    request_headers_to_add: {x-canary: \"true\"}\n");
    BOOST_TEST(r.result.code == 1);
    BOOST_TEST(r.result.err.find("transforms.headers: option 'clusters': no weighted cluster "
                                 "named 'podinfo-canry' in any RouteConfiguration of the inputs") !=
                   std::string::npos,
               r.result.err);
    BOOST_TEST(!std::filesystem::exists(r.dir / "out/current"));
}

BOOST_AUTO_TEST_CASE(bad_options_are_refused_with_the_option_named) {
    const Run r(
        "    clusters: [podinfo-canary]\n"
        "    request_headers_to_add: {x-canary: \"{{wieght}}\"}\n");
    BOOST_TEST(r.result.code != 0);
    BOOST_TEST(r.result.err.find("transforms.headers: option 'request_headers_to_add': unknown "
                                 "placeholder '{{wieght}}'") != std::string::npos,
               r.result.err);
    const Run placeholders_on_hosts(
        "    virtual_hosts: [podinfo]\n"
        "    request_headers_to_add: {x-weight: \"{{weight}}\"}\n");
    BOOST_TEST(placeholders_on_hosts.result.code != 0);
    BOOST_TEST(placeholders_on_hosts.result.err.find(
                   "option 'virtual_hosts': {{weight}} and {{trafficsplit}} only have values on "
                   "weighted clusters") != std::string::npos,
               placeholders_on_hosts.result.err);
}

BOOST_AUTO_TEST_CASE(listed_with_its_options) {
    BOOST_TEST_REQUIRE(installed().failure == "");
    const Result r = run({installed().prefix + "/bin/crossover", "plugins", "--markdown",
                          "--plugin-dir", installed().plugin_dir},
                         installed().dir.path());
    BOOST_TEST(r.code == 0, r.err);
    BOOST_TEST(r.out.find("## `header_injection` (transform)") != std::string::npos, r.out);
    BOOST_TEST(r.out.find("| `clusters` | list of strings |  | no |") != std::string::npos, r.out);
}

BOOST_AUTO_TEST_CASE(the_example_pipeline_runs_as_documented) {
    BOOST_TEST_REQUIRE(installed().failure == "");
    const TempDir out;
    const Result r =
        run({installed().prefix + "/bin/crossover", "run",
             source_dir() + "/examples/plugins/header_injection/pipeline.yaml", "--onetime"},
            out.path(), std::chrono::seconds(60),
            {"HEADER_INJECTION_DIR=" + installed().plugin_dir,
             "CROSSOVER_OUT=" + out.path() + "/runtime"});
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    const YAML::Node rds = YAML::LoadFile(out / "runtime/current/rds.yaml");
    const YAML::Node clusters = rds["resources"][0]["virtual_hosts"][0]["routes"][0]["route"]
                                   ["weighted_clusters"]["clusters"];
    BOOST_TEST(clusters[1]["name"].as<std::string>() == "podinfo-canary");
    BOOST_TEST(headers(clusters[1], "request_headers_to_add") ==
                   (Strings{"x-canary=true", "x-canary-weight=10"}),
               boost::test_tools::per_element());
    BOOST_TEST(
        headers(clusters[1], "response_headers_to_add") == (Strings{"x-served-by=podinfo-canary"}),
        boost::test_tools::per_element());
    BOOST_TEST(headers(clusters[0], "request_headers_to_add") == (Strings{"x-cluster-id=123"}),
               boost::test_tools::per_element());
    BOOST_TEST(headers(clusters[0], "response_headers_to_add") == (Strings{"<absent>"}));
}

namespace {

// The files of docs/plugins.md: each fenced block right after a
// "<!-- file: NAME -->" line.
std::map<std::string, std::string> files_in_guide(const std::string& markdown) {
    std::map<std::string, std::string> out;
    std::istringstream in(markdown);
    std::string line;
    const std::string marker = "<!-- file: ";
    while (std::getline(in, line)) {
        if (line.rfind(marker, 0) != 0) {
            continue;
        }
        const std::string name = line.substr(marker.size(), line.find(" -->") - marker.size());
        std::getline(in, line);  // opening fence
        std::string body;
        while (std::getline(in, line) && line.rfind("```", 0) != 0) {
            body += line + "\n";
        }
        out[name] = body;
    }
    return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_guide_example_builds_and_runs) {
    BOOST_TEST_REQUIRE(installed().failure == "");
    const auto files = files_in_guide(read_text(source_dir() + "/docs/plugins.md"));
    BOOST_TEST_REQUIRE(files.size() == 3u);
    const TempDir dir;
    for (const auto& [name, body] : files) {
        write_text(dir / name, body);
    }
    std::filesystem::copy_file(fixtures_dir() + "/manifests/envoy-xds.configmap.yaml",
                               dir / "envoy-xds.configmap.yaml");
    for (const auto& argv : std::vector<std::vector<std::string>>{
             {CROSSOVER_CMAKE, "-S", dir.path(), "-B", dir / "build",
              "-DCMAKE_PREFIX_PATH=" + installed().prefix,
              "-DCMAKE_CXX_COMPILER=" CROSSOVER_CXX_COMPILER,
              "-DCMAKE_CXX_FLAGS=-Wall -Wextra -Wconversion -Wsign-conversion "
              "-Werror " CROSSOVER_SANITIZE_FLAGS,
              "-DCMAKE_MODULE_LINKER_FLAGS=" CROSSOVER_SANITIZE_FLAGS},
             {CROSSOVER_CMAKE, "--build", dir / "build"}}) {
        const Result r = run(argv, dir.path(), kBuildTimeout);
        BOOST_TEST_REQUIRE(r.code == 0, r.out + r.err);
    }
    const Result r = run({installed().prefix + "/bin/crossover", "run", dir / "pipeline.yaml",
                          "--onetime", "--log-level", "error"},
                         dir.path());
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    const std::vector<YAML::Node> docs = YAML::LoadAll(r.out);
    BOOST_TEST_REQUIRE(docs.size() == 3u, r.out);
    BOOST_TEST(docs[0]["version_info"].as<std::string>() == "2024-06-01.1");  // cds.yaml
    BOOST_TEST(docs[1]["version_info"].as<std::string>() == "1");             // lds.yaml
    BOOST_TEST(docs[2]["version_info"].as<std::string>() == "2024-06-01.1");  // rds.yaml
    BOOST_TEST(r.out.find("--- # rds.yaml\nversion_info: \"2024-06-01.1\"\n") != std::string::npos,
               r.out);

    // The failure the guide describes.
    std::string pipeline = read_text(dir / "pipeline.yaml");
    pipeline.replace(pipeline.find("cds.yaml]"), 8, "eds.yaml");
    write_text(dir / "pipeline.yaml", pipeline);
    const Result bad =
        run({installed().prefix + "/bin/crossover", "run", dir / "pipeline.yaml", "--onetime"},
            dir.path());
    BOOST_TEST(bad.code == 1);
    BOOST_TEST(bad.err.find("document eds.yaml is not in the inputs") != std::string::npos,
               bad.err);
}

BOOST_AUTO_TEST_CASE(same_input_same_bytes_and_no_new_version) {
    Run r(
        "    clusters: [podinfo-canary]\n"
        "    request_headers_to_add: {x-weight: \"{{weight}}\"}\n");
    BOOST_TEST_REQUIRE(r.result.code == 0, r.result.err);
    const auto before = std::filesystem::read_symlink(r.dir / "out/current");
    const std::string text = r.output("rds.yaml");
    r.rerun();
    BOOST_TEST_REQUIRE(r.result.code == 0, r.result.err);
    BOOST_TEST(std::filesystem::read_symlink(r.dir / "out/current") == before);
    BOOST_TEST(r.output("rds.yaml") == text);
}

BOOST_AUTO_TEST_CASE(headers_follow_the_canary_while_watching) {
    const Run r(
        "    clusters: [podinfo-canary]\n"
        "    request_headers_to_add: {x-weight: \"{{weight}}\"}\n",
        true);
    const auto canary_headers = [&] {
        try {
            return headers(r.clusters()[1], "request_headers_to_add");
        } catch (const std::exception&) {
            return Strings{"<no output yet>"};
        }
    };
    BOOST_TEST_REQUIRE(eventually([&] { return canary_headers() == Strings{"x-weight=30"}; }),
                       canary_headers().front());
    for (const auto& [primary, canary] : {std::pair{40, 60}, std::pair{0, 100}}) {
        write_text(r.dir / "split.yaml", split(primary, canary));
        const Strings want{"x-weight=" + std::to_string(canary)};
        BOOST_TEST(eventually([&] { return canary_headers() == want; }), canary_headers().front());
        BOOST_TEST(r.clusters()[0]["weight"].as<int>() == primary);
    }
    r.watching->signal(SIGTERM);
    BOOST_TEST(r.watching->wait() == 0, r.watching->err());
}

BOOST_AUTO_TEST_CASE(trafficsplit_placeholder_needs_a_trafficsplit) {
    const Run r(
        "    clusters: [podinfo-canary]\n"
        "    request_headers_to_add: {x-split: \"{{trafficsplit}}\"}\n"
        "    dot_to_underscore: true\n");
    BOOST_TEST_REQUIRE(r.result.code == 0, r.result.err);
    BOOST_TEST(
        headers(r.clusters()[1], "request_headers_to_add") == (Strings{"x-split=podinfo-split"}),
        boost::test_tools::per_element());

    Run missing(
        "    clusters: [podinfo-canary]\n"
        "    request_headers_to_add: {x-split: \"{{trafficsplit}}\"}\n");
    write_text(missing.dir / "split.yaml", "# no TrafficSplit any more\n");
    missing.rerun();
    BOOST_TEST(missing.result.code == 1);
    BOOST_TEST(missing.result.err.find(
                   "document rds.yaml (ConfigMap test/envoy-xds): "
                   "resources[0].virtual_hosts[0].routes[0].route.weighted_clusters.clusters[1]: "
                   "cluster 'podinfo-canary' is not a backend of any TrafficSplit, so "
                   "{{trafficsplit}} has no value") != std::string::npos,
               missing.result.err);
}

// examples/plugins/header_injection/README.md, step by step in its own order:
// build (done once above), install next to the bundled plugins, run the
// example pipeline as the README shows, and with the build directory named
// as well. Last: it installs the plugin into the shared prefix.
BOOST_AUTO_TEST_CASE(readme_steps_in_order) {
    Installed& in = installed();
    BOOST_TEST_REQUIRE(in.failure == "");
    const Result install = run({CROSSOVER_CMAKE, "--install", in.plugin_dir, "--prefix", in.prefix},
                               in.dir.path(), kBuildTimeout);
    BOOST_TEST_REQUIRE(install.code == 0, install.out + install.err);
    BOOST_TEST_REQUIRE(
        std::filesystem::exists(in.prefix + "/lib/crossover/plugins/header_injection.so"));
    const std::string pipeline = source_dir() + "/examples/plugins/header_injection/pipeline.yaml";
    const std::string bin = in.prefix + "/bin/crossover";
    TempDir t;
    // Installed, no variable: the empty plugin_dirs entry adds nothing.
    Result r = run({bin, "run", pipeline, "--onetime"}, t.path(), std::chrono::seconds(60),
                   {"CROSSOVER_OUT=" + (t / "out1"), "HEADER_INJECTION_DIR="});
    BOOST_TEST(r.code == 0, r.err);
    const std::string rds = read_text(t / "out1/current/rds.yaml");
    BOOST_TEST(rds.find("{key: \"x-canary-weight\", value: \"10\"}") != std::string::npos, rds);
    // Installed and the build directory named: the same plugin twice, no conflict.
    r = run({bin, "run", pipeline, "--onetime"}, t.path(), std::chrono::seconds(60),
            {"CROSSOVER_OUT=" + (t / "out2"), "HEADER_INJECTION_DIR=" + in.plugin_dir});
    BOOST_TEST(r.code == 0, r.err);
    BOOST_TEST(r.err.find("duplicate") == std::string::npos, r.err);
    BOOST_TEST(read_text(t / "out2/current/rds.yaml") == rds);
    r = run({bin, "plugins", "--plugin-dir", in.plugin_dir}, t.path());
    BOOST_TEST(r.code == 0, r.err);
    // The version is the plugin project's (crossover_add_plugin's default).
    BOOST_TEST(
        r.out.find("transform header_injection 1.0.0  (" + in.plugin_dir) != std::string::npos,
        r.out);
}
