// docs/metrics.md lists exactly the metrics the binary exposes: this test runs
// a Kubernetes pipeline against the test API server, drives it through the
// events every metric counts (watch, 410 Gone and relist, a failing transform,
// an unchanged write, a SIGHUP reload), scrapes /metrics and compares the
// metric families, their types and their labels with the document's table.
#define BOOST_TEST_MODULE metrics_doc
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "fake_apiserver.h"
#include "process.h"
#include "prometheus_text.h"

namespace ct = crossover::test;
using crossover::testing::FakeApiServer;

namespace {

// The table rows of docs/metrics.md.
std::map<std::string, ct::MetricFamily> documented() {
    std::set<std::string> twice;
    auto out = ct::documented_metrics(ct::read_text(ct::source_dir() + "/docs/metrics.md"), &twice);
    for (const auto& name : twice) {
        BOOST_ERROR("listed twice: " << name);
    }
    return out;
}

std::string get(const std::string& hostport, const std::string& path) {
    const auto colon = hostport.rfind(':');
    Poco::Net::HTTPClientSession session(
        hostport.substr(0, colon),
        static_cast<Poco::UInt16>(std::stoi(hostport.substr(colon + 1))));
    session.setTimeout(Poco::Timespan(10, 0));
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, path);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    std::string body;
    Poco::StreamCopier::copyToString(in, body);
    return body;
}

std::string split(const std::string& canary_backend, int canary) {
    return "apiVersion: split.smi-spec.io/v1alpha2\nkind: TrafficSplit\n"
           "metadata: {name: podinfo, namespace: test}\n"
           "spec:\n  service: podinfo\n  backends:\n  - service: " +
           canary_backend + "\n    weight: " + std::to_string(canary) +
           "\n  - service: podinfo-primary\n    weight: " + std::to_string(100 - canary) + "\n";
}

bool has(const std::string& text, const std::string& needle) {
    return text.find(needle) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_CASE(metrics_md_lists_every_exposed_metric) {
    const auto doc = documented();
    BOOST_REQUIRE_MESSAGE(doc.size() >= 10u, "docs/metrics.md: no metric table found");

    FakeApiServer api;
    ct::TempDir t;
    api.apply_file(ct::fixtures_dir() + "/manifests/envoy-xds.configmap.yaml");
    api.apply(split("podinfo-canary", 10));
    const std::string kc = api.write_kubeconfig("test");
    ct::write_text(t / "p.yaml",
                   "server: {listen: '127.0.0.1:0'}\n"
                   "engine: {debounce: 2ms, max_delay: 50ms, retry_initial: 50ms}\n"
                   "sources:\n"
                   "  xds: {type: kubernetes_configmap, kubeconfig: " +
                       kc +
                       ", names: [envoy-xds]}\n"
                       "  splits: {type: smi_trafficsplit, kubeconfig: " +
                       kc +
                       ", api_version: v1alpha2}\n"
                       "transforms:\n"
                       "  weighted: {type: smi_merge, inputs: [xds, splits]}\n"
                       "sinks:\n"
                       "  envoy: {type: symlink, inputs: [weighted], dir: " +
                       t.path() + "/out}\n");
    ct::Process proc({ct::crossover_bin(), "run", t / "p.yaml"}, t.path());
    std::string addr;
    BOOST_REQUIRE_MESSAGE(
        ct::eventually(
            [&] {
                std::smatch m;
                const std::string err = proc.err();
                if (std::regex_search(err, m, std::regex("on http://([0-9.]+:[0-9]+)"))) {
                    addr = m[1];
                    return true;
                }
                return false;
            },
            std::chrono::seconds(60)),
        proc.err());
    const auto scrape = [&] { return get(addr, "/metrics"); };
    const auto wait_until = [&](const std::string& needle) {
        BOOST_REQUIRE_MESSAGE(
            ct::eventually([&] { return has(scrape(), needle); }, std::chrono::seconds(60)),
            "never exposed: " << needle << "\n"
                              << scrape() << proc.err());
    };
    wait_until("crossover_sink_writes_total{component=\"envoy\"} 1");

    // A step naming a backend no route has: the transform fails, nothing is written.
    api.apply(split("podinfo-missing", 20));
    wait_until("crossover_pipeline_failures_total{component=\"weighted\",kind=\"transform\"}");
    // Back to the written weights: the sink runs and finds nothing to change.
    api.apply(split("podinfo-canary", 10));
    wait_until("crossover_sink_unchanged_total{component=\"envoy\"}");
    // History compacted away: watches get 410 Gone and the sources relist.
    api.compact();
    api.stream_error(410);
    wait_until("crossover_relists_total{component=\"xds\"}");
    wait_until("crossover_watch_gone_total{component=\"xds\"}");
    // A SIGHUP reload of the (unchanged) pipeline file.
    proc.signal(SIGHUP);
    wait_until("crossover_reloads_total{result=\"success\"}");
    wait_until("crossover_sink_writes_total{component=\"envoy\"}");
    wait_until("crossover_watch_connects_total{component=\"splits\"}");

    const std::string text = scrape();
    const auto seen = ct::exposed_metrics(text);
    for (const auto& [name, family] : seen) {
        if (name.rfind("crossover_", 0) != 0) {
            continue;
        }
        const auto it = doc.find(name);
        if (it == doc.end()) {
            BOOST_ERROR("exposed but missing from docs/metrics.md: " << name);
            continue;
        }
        BOOST_TEST(it->second.type == family.type,
                   name << ": documented as " << it->second.type << ", exposed as " << family.type);
        BOOST_TEST(it->second.labels == family.labels,
                   name << ": documented labels differ from the exposed ones");
    }
    for (const auto& [name, family] : doc) {
        BOOST_TEST(seen.count(name) == 1u,
                   "documented in docs/metrics.md but not exposed: " << name << "\n"
                                                                     << text);
    }
    proc.signal(SIGTERM);
    BOOST_TEST(proc.wait() == 0, proc.err());
}
