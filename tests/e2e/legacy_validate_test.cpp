// The original crossover's command line checks its output with envoy_validate
// when Envoy's protos are found (at <binary>/../share/crossover/envoy-protos
// or with --envoy-protos), and warns once and goes on when they are not.
// Played against the test Kubernetes API server with the real binary.
#define BOOST_TEST_MODULE legacy_validate
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "fake_apiserver.h"
#include "process.h"

namespace ct = crossover::test;
namespace fs = std::filesystem;
using crossover::testing::FakeApiServer;

namespace {

const char* const kRefused =
    "rds.yaml: resources[0].virtual_hosts[0].routes[0].route: unknown field "
    "\"weighted_cluster\"";

fs::path build_protos() {
    return fs::path(ct::build_dir()) / "share/crossover/envoy-protos";
}

boost::test_tools::assertion_result protos_available(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result r(fs::exists(build_protos() / "VERSION"));
    r.message() << "Envoy protos absent from " << build_protos()
                << " (npm unavailable at configure time?): run `make envoy_protos`";
    return r;
}

std::size_t count(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto pos = text.find(needle); pos != std::string::npos;
         pos = text.find(needle, pos + needle.size())) {
        ++n;
    }
    return n;
}

// The ConfigMap of the fixtures with a misspelt field in its RDS.
std::string invalid_configmap() {
    std::string cm = ct::read_text(ct::fixtures_dir() + "/manifests/envoy-xds.configmap.yaml");
    const std::string good = "weighted_clusters:";
    const auto pos = cm.find(good);
    if (pos == std::string::npos) {
        throw std::runtime_error("the ConfigMap fixture has no weighted_clusters");
    }
    cm.replace(pos, good.size(), "weighted_cluster:");
    return cm;
}

// The binary and its plugins in a directory tree without Envoy's protos, as
// an installation without them. Inside the build tree, so that hard links
// work; copies otherwise.
class BareTree {
public:
    BareTree() {
        std::string templ = ct::build_dir() + "/legacy-validate-XXXXXX";
        std::vector<char> buf(templ.begin(), templ.end());
        buf.push_back('\0');
        if (::mkdtemp(buf.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        root_ = buf.data();
        fs::create_directories(root_ / "bin");
        fs::create_directories(root_ / "lib/crossover/plugins");
        link(ct::crossover_bin(), root_ / "bin/crossover");
        for (const auto& e :
             fs::directory_iterator(fs::path(ct::build_dir()) / "lib/crossover/plugins")) {
            link(e.path(), root_ / "lib/crossover/plugins" / e.path().filename());
        }
    }
    ~BareTree() {
        std::error_code ec;
        fs::remove_all(root_, ec);
    }
    BareTree(const BareTree&) = delete;
    BareTree& operator=(const BareTree&) = delete;
    BareTree(BareTree&&) = delete;
    BareTree& operator=(BareTree&&) = delete;

    [[nodiscard]] std::string bin() const { return (root_ / "bin/crossover").string(); }
    [[nodiscard]] std::string protos() const {
        return (root_ / "share/crossover/envoy-protos").string();
    }

private:
    static void link(const fs::path& from, const fs::path& to) {
        std::error_code ec;
        fs::create_hard_link(from, to, ec);
        if (ec) {
            fs::copy_file(from, to);
        }
    }
    fs::path root_;
};

struct Cluster {
    FakeApiServer api;
    ct::TempDir t;
    Cluster() { api.apply(invalid_configmap()); }

    ct::Result run(const std::string& bin, const std::vector<std::string>& extra) {
        std::vector<std::string> argv = {
            bin,         "--apiserver",  api.url(),     "--token-file", api.token_file(),
            "--ca-file", api.ca_file(),  "--namespace", "test",         "--configmap",
            "envoy-xds", "--output-dir", t / "out",     "--onetime"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        return ct::run(argv, t.path(), std::chrono::seconds(120));
    }
    [[nodiscard]] bool written() const { return fs::exists(t / "out/current/rds.yaml"); }
};

}  // namespace

BOOST_AUTO_TEST_CASE(invalid_rds_is_refused_when_the_protos_are_there,
                     *boost::unit_test::precondition(protos_available)) {
    Cluster c;
    const auto r = c.run(ct::crossover_bin(), {});
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_MESSAGE(r.err.find("validating with Envoy's API from " +
                                   build_protos().lexically_normal().string()) != std::string::npos,
                        r.err);
    BOOST_CHECK_MESSAGE(r.err.find(kRefused) != std::string::npos, r.err);
    BOOST_CHECK(!c.written());
}

BOOST_AUTO_TEST_CASE(no_validate_turns_the_check_off,
                     *boost::unit_test::precondition(protos_available)) {
    for (const char* flag : {"--no-validate", "--validate=false"}) {
        Cluster c;
        const auto r = c.run(ct::crossover_bin(), {flag});
        BOOST_TEST_CONTEXT(flag << "\n" << r.err) {
            BOOST_CHECK_EQUAL(r.code, 0);
            BOOST_CHECK(c.written());
            BOOST_CHECK_EQUAL(r.err.find("validating with"), std::string::npos);
            BOOST_CHECK_EQUAL(r.err.find("Envoy protos"), std::string::npos);
        }
    }
}

BOOST_AUTO_TEST_CASE(without_protos_one_warning_and_the_files_are_written) {
    BareTree bare;
    Cluster c;
    const auto r = c.run(bare.bin(), {});
    BOOST_CHECK_MESSAGE(r.code == 0, r.err);
    BOOST_CHECK(c.written());
    BOOST_CHECK_MESSAGE(count(r.err, "Envoy protos not found in " + bare.protos()) == 1, r.err);
    BOOST_CHECK_MESSAGE(count(r.err, "Envoy protos") == 1, r.err);
    BOOST_CHECK_EQUAL(r.err.find("validating with"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(envoy_protos_flag_names_the_directory,
                     *boost::unit_test::precondition(protos_available)) {
    BareTree bare;
    Cluster c;
    auto r = c.run(bare.bin(), {"--envoy-protos", build_protos().string()});
    BOOST_CHECK_EQUAL(r.code, 1);
    BOOST_CHECK_MESSAGE(r.err.find("validating with Envoy's API from " + build_protos().string()) !=
                            std::string::npos,
                        r.err);
    BOOST_CHECK_MESSAGE(r.err.find(kRefused) != std::string::npos, r.err);
    BOOST_CHECK(!c.written());

    // Asked for by name, missing protos are an error.
    r = c.run(bare.bin(), {"--envoy-protos=" + bare.protos()});
    BOOST_CHECK_EQUAL(r.code, 2);
    BOOST_CHECK_MESSAGE(r.err.find("no Envoy protos there") != std::string::npos, r.err);
    BOOST_CHECK(!c.written());
}
