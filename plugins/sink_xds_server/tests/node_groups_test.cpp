// Node groups: clients are served the documents of the group their node matches.
#define BOOST_TEST_MODULE sink_xds_server_node_groups
#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>
#include <vector>

#include "node_groups.h"
#include "test_support.h"

using namespace crossover::xds_server;
using namespace crossover::xds_server::test;
using Names = std::vector<std::string>;

namespace {

NodeGroups groups(const std::string& yaml) {
    return NodeGroups(YAML::Load(yaml), "node_groups: ");
}

std::string refusal(const std::string& yaml) {
    try {
        groups(yaml);
    } catch (const std::exception& e) {
        return e.what();
    }
    return {};
}

}  // namespace

BOOST_AUTO_TEST_CASE(groups_match_by_node_cluster_and_id_patterns) {
    const NodeGroups g = groups(R"(
- name: grpc
  node_cluster: "grpc-*"
  documents: ["grpc-*.yaml", cds.yaml]
- name: canary-envoys
  node_id: "envoy-canary-*"
  documents: [lds.yaml]
)");
    BOOST_TEST(g.size() == 2U);
    BOOST_TEST(g.group_of({"x", "grpc-clients"}) == 0U);
    BOOST_TEST(g.group_of({"envoy-canary-3", "ingress"}) == 1U);
    BOOST_TEST(g.group_of({"envoy-1", "ingress"}) == 2U);  // the default: everything
    BOOST_TEST(g.includes(0, "grpc-lds.yaml"));
    BOOST_TEST(g.includes(0, "cds.yaml"));
    BOOST_TEST(!g.includes(0, "lds.yaml"));
    BOOST_TEST(g.includes(2, "anything.yaml"));
}

BOOST_AUTO_TEST_CASE(bad_groups_are_refused_with_the_entry_and_key) {
    BOOST_TEST(refusal("{a: 1}").find("expected a list") != std::string::npos);
    BOOST_TEST(refusal("- {name: a, documents: [x]}").find("[0] (line 1): needs node_cluster") !=
               std::string::npos);
    BOOST_TEST(refusal("- {name: a, node_id: x}").find("documents") != std::string::npos);
    BOOST_TEST(
        refusal("- {name: a, node_id: x, documents: [y], nodes: z}").find("unknown key 'nodes'") !=
        std::string::npos);
}

BOOST_AUTO_TEST_CASE(each_client_is_served_its_groups_documents) {
    const auto* api = api_or_skip();
    if (api == nullptr) {
        return;
    }
    const NodeGroups g = groups(R"(
- name: grpc
  node_cluster: "grpc-*"
  documents: ["grpc-*.yaml", cds.yaml]
)");
    ServerOptions o = ServerFixture::options();
    o.group_of = [&g](const NodeInfo& node) { return g.group_of(node); };
    ServerFixture f(*api, o);
    const crossover::Snapshot s =
        snapshot({doc("cds.yaml", cds_yaml()), doc("eds.yaml", eds_yaml(1, 2)),
                  doc("lds.yaml", lds_yaml("ingress")), doc("grpc-lds.yaml", lds_yaml("podinfo")),
                  doc("rds.yaml", rds_yaml(90, 10))});
    f.server().publish(std::vector<ResourceSetPtr>{
        f.reader().read(s, [&g](const std::string& name) { return g.includes(0, name); }),
        f.reader().read(s)});

    const std::string lds(kListenerType);
    auto grpc_client = f.client();
    SotwRequestSpec first{lds, {}};
    first.node_id = "grpc-1";
    first.node_cluster = "grpc-clients";
    BOOST_REQUIRE(grpc_client->send(first));
    auto r = grpc_client->receive();
    BOOST_REQUIRE(r);

    auto envoy = f.client();
    SotwRequestSpec other{lds, {}};
    other.node_id = "envoy-1";
    other.node_cluster = "ingress";
    BOOST_REQUIRE(envoy->send(other));
    auto e = envoy->receive();
    BOOST_REQUIRE(e);
    BOOST_TEST((e->names == Names{"ingress", "podinfo"}));
    BOOST_TEST(r->names == Names{"podinfo"});
    BOOST_TEST(r->version != e->version);
}
