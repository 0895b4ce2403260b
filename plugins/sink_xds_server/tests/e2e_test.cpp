// A complete xDS server from a pipeline file: the real binary with a `file`
// source watching a directory of DiscoveryResponse files and the xds_server
// sink, followed by a client through edits, a bad edit and a clean stop.
#define BOOST_TEST_MODULE sink_xds_server_e2e
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <filesystem>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "http.h"
#include "prometheus_text.h"
#include "test_support.h"

using namespace crossover::xds_server;
using namespace crossover::xds_server::test;
using crossover::test::Process;
using crossover::test::TempDir;
using crossover::test::write_text;
using namespace std::chrono_literals;

namespace {

// The port the sink logged ("serving xDS ... on 127.0.0.1:PORT"), or 0.
int logged_port(const std::string& log) {
    static const std::regex re("serving xDS .* on 127\\.0\\.0\\.1:([0-9]+)");
    std::smatch m;
    return std::regex_search(log, m, re) ? std::stoi(m[1]) : 0;
}

std::string pipeline(const TempDir& tmp) {
    return "sources:\n"
           "  files:\n"
           "    type: file\n"
           "    paths: [" +
           (tmp / "xds") +
           "]\n"
           "    watch: true\n"
           "sinks:\n"
           "  xds:\n"
           "    type: xds_server\n"
           "    inputs: [files]\n"
           "    listen: 127.0.0.1:0\n"
           "    proto_path: " +
           crossover::test::build_dir() + "/share/crossover/envoy-protos\n";
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_file_source_and_the_sink_are_a_complete_xds_server) {
    const auto* api = api_or_skip();
    if (api == nullptr) {
        return;
    }
    const Messages messages(*api);
    TempDir tmp;
    std::filesystem::create_directories(tmp / "xds");
    write_text(tmp / "xds/cds.yaml", cds_yaml());
    write_text(tmp / "xds/eds.yaml", eds_yaml(8001, 8002));
    write_text(tmp / "xds/lds.yaml", lds_yaml());
    write_text(tmp / "xds/rds.yaml", rds_yaml(90, 10));
    write_text(tmp / "pipeline.yaml", pipeline(tmp));

    Process crossover(
        {crossover::test::crossover_bin(), "run", tmp / "pipeline.yaml", "--listen", "off"},
        tmp.path());
    int port = 0;
    BOOST_REQUIRE_MESSAGE(eventually([&] { return (port = logged_port(crossover.err())) != 0; }),
                          crossover.err());

    SotwClient c(channel_to(port), messages);
    BOOST_REQUIRE(c.send({std::string(kClusterType), {}}));
    BOOST_REQUIRE(c.send({std::string(kListenerType), {"podinfo"}}));
    BOOST_REQUIRE(c.send({std::string(kRouteType), {"podinfo"}}));
    auto cds = c.receive();
    auto lds = c.receive();
    auto rds = c.receive();
    BOOST_REQUIRE(cds && lds && rds);
    BOOST_TEST(cds->names.size() == 2U);
    BOOST_TEST(lds->names == std::vector<std::string>{"podinfo"});
    BOOST_TEST(rds->type_url == std::string(kRouteType));
    BOOST_REQUIRE(c.ack(*cds, {}));
    BOOST_REQUIRE(c.ack(*lds, {"podinfo"}));
    BOOST_REQUIRE(c.ack(*rds, {"podinfo"}));

    // A canary step, saved by rename as editors do: only RDS moves.
    write_text(tmp / "xds/rds.yaml", rds_yaml(50, 50));
    auto rds2 = c.receive();
    BOOST_REQUIRE_MESSAGE(rds2, crossover.err());
    BOOST_TEST(rds2->type_url == std::string(kRouteType));
    BOOST_TEST(rds2->version != rds->version);
    BOOST_TEST(rds2->messages.at(0)->ShortDebugString().find("weight { value: 50 }") !=
               std::string::npos);
    BOOST_REQUIRE(c.ack(*rds2, {"podinfo"}));

    // A typo: refused with the document and field named; clients keep 50/50.
    write_text(tmp / "xds/rds.yaml", rds_yaml(20, 80) + "  virtual_hostz: []\n");
    BOOST_TEST(eventually([&] {
        const std::string err = crossover.err();
        return err.find("rds.yaml") != std::string::npos &&
               err.find("virtual_hostz") != std::string::npos;
    }));
    BOOST_TEST(!c.receive(300ms));

    // Fixed: served.
    write_text(tmp / "xds/rds.yaml", rds_yaml(20, 80));
    auto rds3 = c.receive();
    BOOST_REQUIRE(rds3);
    BOOST_TEST(rds3->version != rds2->version);

    ::kill(crossover.pid(), SIGTERM);
    BOOST_TEST(crossover.wait(20s) == 0);
}

BOOST_AUTO_TEST_CASE(metrics_follow_streams_pushes_acks_and_nacks_on_the_binary) {
    const auto* api = api_or_skip();
    if (api == nullptr) {
        return;
    }
    const Messages messages(*api);
    TempDir tmp;
    std::filesystem::create_directories(tmp / "xds");
    write_text(tmp / "xds/cds.yaml", cds_yaml());
    write_text(tmp / "pipeline.yaml", "server: {listen: '127.0.0.1:0'}\n" + pipeline(tmp));
    Process crossover({crossover::test::crossover_bin(), "run", tmp / "pipeline.yaml"}, tmp.path());
    int port = 0;
    BOOST_REQUIRE_MESSAGE(eventually([&] { return (port = logged_port(crossover.err())) != 0; }),
                          crossover.err());
    const std::string addr = crossover::test::address_of(crossover);
    BOOST_REQUIRE_MESSAGE(!addr.empty(), crossover.err());
    const auto scrape = [&] { return crossover::test::get(addr, "/metrics").body; };
    const auto value = [&](const std::string& series) {
        return crossover::test::sample_value(scrape(), series).value_or(-1);
    };
    const auto reaches = [&](const std::string& series, double expected) {
        const bool ok = eventually([&] { return value(series) == expected; });
        BOOST_TEST(ok, series << " never reached " << expected << "\n" << scrape());
        return ok;
    };
    const std::string streams =
        R"(crossover_xds_streams{component="xds",mode="sotw",service="ads"})";
    const std::string pushes = R"(crossover_xds_pushes_total{component="xds",type="Cluster"})";
    const std::string acks = R"(crossover_xds_acks_total{component="xds",type="Cluster"})";
    const std::string nacks = R"(crossover_xds_nacks_total{component="xds",type="Cluster"})";
    const std::string latency =
        R"(crossover_xds_push_latency_seconds_count{component="xds",type="Cluster"})";
    // The first output is served before the client asks: a client that asks
    // before it exists is answered by a push of that change, which is timed.
    BOOST_REQUIRE(reaches(R"(crossover_sink_writes_total{component="xds"})", 1));
    // Before any client: the per-type series are there at zero, no stream is.
    BOOST_TEST(value(pushes) == 0);
    BOOST_TEST(value(acks) == 0);
    BOOST_TEST(value(streams) <= 0);

    auto c = std::make_unique<SotwClient>(channel_to(port), messages);
    BOOST_REQUIRE(c->send({std::string(kClusterType), {}}));
    auto cds = c->receive();
    BOOST_REQUIRE(cds);
    reaches(streams, 1);
    reaches(pushes, 1);
    // The first response answers the client's request: no push latency for it.
    BOOST_TEST(value(latency) == 0);
    BOOST_REQUIRE(c->ack(*cds, {}));
    reaches(acks, 1);
    BOOST_TEST(value(nacks) == 0);

    // A change is pushed (and timed); the client refuses it.
    write_text(tmp / "xds/cds.yaml", cds_yaml("podinfo-extra"));
    auto cds2 = c->receive();
    BOOST_REQUIRE_MESSAGE(cds2, crossover.err());
    reaches(pushes, 2);
    reaches(latency, 1);
    SotwRequestSpec nack{std::string(kClusterType), {}, cds->version, cds2->nonce};
    nack.error = "cluster podinfo-extra: unsupported";
    BOOST_REQUIRE(c->send(nack));
    reaches(nacks, 1);
    BOOST_TEST(value(acks) == 1);

    // The plugin's README lists exactly the crossover_xds_ families exposed.
    const std::string text = scrape();
    auto exposed = crossover::test::exposed_metrics(text);
    std::erase_if(exposed, [](const auto& f) { return f.first.rfind("crossover_xds_", 0) != 0; });
    std::set<std::string> twice;
    const auto documented = crossover::test::documented_metrics(
        crossover::test::read_text(crossover::test::source_dir() +
                                   "/plugins/sink_xds_server/README.md"),
        &twice);
    BOOST_TEST(twice.empty());
    BOOST_TEST(documented.size() >= 6U);
    for (const auto& [name, family] : exposed) {
        const auto it = documented.find(name);
        if (it == documented.end()) {
            BOOST_ERROR("exposed but missing from the README: " << name);
            continue;
        }
        BOOST_TEST(it->second.type == family.type, name);
        BOOST_TEST(it->second.labels == family.labels, name);
    }
    for (const auto& [name, family] : documented) {
        BOOST_TEST(exposed.count(name) == 1U, "documented but not exposed: " << name << "\n"
                                                                             << text);
    }

    c.reset();
    reaches(streams, 0);
    ::kill(crossover.pid(), SIGTERM);
    BOOST_TEST(crossover.wait(20s) == 0);
}

BOOST_AUTO_TEST_CASE(bad_options_are_refused_at_start_naming_the_option) {
    const auto* api = api_or_skip();
    if (api == nullptr) {
        return;
    }
    TempDir tmp;
    std::filesystem::create_directories(tmp / "xds");
    write_text(tmp / "xds/cds.yaml", cds_yaml());
    const std::vector<std::pair<std::string, std::string>> cases{
        {"    tls_cert_file: missing.pem\n    tls_key_file: missing.key\n",
         "option 'tls_cert_file': cannot read a PEM file"},
        {"    tls_client_ca_file: " + tmp / "xds/cds.yaml" + "\n",
         "option 'tls_client_ca_file': cannot read a PEM file"},
        {"    node_groups: [{name: a, documents: [x]}]\n", "needs node_cluster or node_id"},
        {"    rest_listen: nowhere\n", "option 'rest_listen': expected host:port"},
        {"    keepalive_time: 0s\n",
         "option 'keepalive_time': must be between 1ms and 2147483647ms, got 0s"},
        {"    keepalive_timeout: 30d\n", "option 'keepalive_timeout': expected a duration"},
    };
    for (const auto& [extra, expected] : cases) {
        write_text(tmp / "pipeline.yaml", pipeline(tmp) + extra);
        const auto r = crossover::test::run(
            {crossover::test::crossover_bin(), "run", tmp / "pipeline.yaml", "--listen", "off"},
            tmp.path(), 30s);
        BOOST_TEST(r.code != 0);
        BOOST_TEST(r.err.find(expected) != std::string::npos, r.err);
    }
}
