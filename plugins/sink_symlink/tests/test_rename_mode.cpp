// mode: rename — DIR/current is a real directory; each file is renamed onto
// its name, clusters before routes when adding, the reverse when removing.
#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include "symlink_sink.h"
#include "test_util.h"

using crossover::WriteOutcome;
using test::Files;

namespace {

std::string resource(const std::string& type) {
    return "version_info: \"1\"\nresources:\n- \"@type\": type.googleapis.com/" + type +
           "\n  name: x\n";
}

const std::string kCluster3 = "envoy.config.cluster.v3.Cluster";
const std::string kEndpoint3 = "envoy.config.endpoint.v3.ClusterLoadAssignment";
const std::string kRoute3 = "envoy.config.route.v3.RouteConfiguration";
const std::string kListener3 = "envoy.config.listener.v3.Listener";

std::string opts(const test::TempDir& tmp) {
    return "{dir: " + tmp.path() + "/out, mode: rename}";
}

Files current_files(const std::string& dir) {
    Files out;
    for (const auto& name : test::entries(dir + "/current")) {
        out.emplace_back(name, test::read_file(dir + "/current/" + name));
    }
    return out;
}

bool written(const test::WriteResult& r) {
    return r.status.is_ok() && r.outcome == WriteOutcome::Written;
}
bool unchanged(const test::WriteResult& r) {
    return r.status.is_ok() && r.outcome == WriteOutcome::Unchanged;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rename_mode)

BOOST_AUTO_TEST_CASE(writes_files_into_a_real_directory) {
    test::TempDir tmp;
    const std::string out = tmp / "out";
    auto sink = test::make_sink(opts(tmp));
    const Files files{{"cds.yaml", "c\n"}, {"rds.yaml", "r\n"}};
    const auto r = test::write(*sink, files);
    BOOST_TEST_REQUIRE(r.status.is_ok(), r.status.message());
    BOOST_TEST(r.outcome == WriteOutcome::Written);
    struct stat st {};
    BOOST_TEST_REQUIRE(::lstat((out + "/current").c_str(), &st) == 0);
    BOOST_TEST(S_ISDIR(st.st_mode));
    // No temporary files left behind, nothing but the documents.
    BOOST_TEST(current_files(out) == files);
    BOOST_TEST(test::version_dirs(out).empty());
}

BOOST_AUTO_TEST_CASE(identical_content_renames_nothing) {
    test::TempDir tmp;
    const std::string out = tmp / "out";
    const Files files{{"cds.yaml", resource(kCluster3)}, {"rds.yaml", resource(kRoute3)}};
    ino_t cds_inode = 0;
    {
        auto sink = test::make_sink(opts(tmp));
        BOOST_TEST_REQUIRE(written(test::write(*sink, files)));
        cds_inode = test::inode(out + "/current/cds.yaml");
        test::Inotify watch(out + "/current", IN_MOVED_TO | IN_CREATE | IN_DELETE);
        BOOST_TEST(unchanged(test::write(*sink, files)));
        BOOST_TEST(watch.drain().empty());
    }
    // After a restart too: compared against what is on disk.
    test::Inotify watch(out + "/current", IN_MOVED_TO | IN_CREATE | IN_DELETE);
    auto sink = test::make_sink(opts(tmp));
    BOOST_TEST(unchanged(test::write(*sink, files)));
    BOOST_TEST(watch.drain().empty());
    BOOST_TEST(test::inode(out + "/current/cds.yaml") == cds_inode);
    // Only the changed file is renamed.
    Files changed = files;
    changed[1].second += "# changed\n";
    BOOST_TEST_REQUIRE(written(test::write(*sink, changed)));
    BOOST_TEST(watch.names(IN_MOVED_TO) == std::vector<std::string>{"rds.yaml"});
    BOOST_TEST(test::inode(out + "/current/cds.yaml") == cds_inode);
    BOOST_TEST(current_files(out) == changed);
}

BOOST_AUTO_TEST_CASE(adds_clusters_and_endpoints_before_routes_and_listeners) {
    test::TempDir tmp;
    const std::string out = tmp / "out";
    test::fs::create_directories(out + "/current");
    test::Inotify watch(out + "/current", IN_MOVED_TO);
    auto sink = test::make_sink(opts(tmp));
    // Names chosen so that alphabetical order is the wrong order; the class
    // comes from @type (v3 and v2), then from the name, else neutral.
    const Files files{
        {"a-listener.yaml", resource(kListener3)},
        {"b-routes.yaml", resource("envoy.api.v2.RouteConfiguration")},
        {"c-other.yaml", "anything: 1\n"},
        {"d-eds.yaml", resource(kEndpoint3)},
        {"e.yaml", resource("envoy.api.v2.Cluster")},
        {"lds.yaml", "version_info: \"1\"\nresources: []\n"},
        {"rds.yaml", "version_info: \"1\"\nresources: []\n"},
        {"z-cds.json", "{\"resources\": [{\"@type\": \"type.googleapis.com/" + kCluster3 + "\"}]}"},
    };
    BOOST_TEST_REQUIRE(written(test::write(*sink, files)));
    const std::vector<std::string> expected{
        "e.yaml",          "z-cds.json",  // clusters
        "d-eds.yaml",                     // endpoints
        "c-other.yaml",                   // neutral
        "b-routes.yaml",   "rds.yaml",    // routes
        "a-listener.yaml", "lds.yaml",    // listeners
    };
    BOOST_TEST(watch.names(IN_MOVED_TO) == expected);

    // Changing every file renames them in the same order again.
    Files changed = files;
    for (auto& f : changed) {
        f.second += "\n# v2\n";
    }
    BOOST_TEST_REQUIRE(written(test::write(*sink, changed)));
    BOOST_TEST(watch.names(IN_MOVED_TO) == expected);
    BOOST_TEST(current_files(out) == changed);
}

BOOST_AUTO_TEST_CASE(removes_routes_and_listeners_before_clusters) {
    test::TempDir tmp;
    const std::string out = tmp / "out";
    auto sink = test::make_sink(opts(tmp));
    const Files all{
        {"a.yaml", resource(kCluster3)},        {"b.yaml", resource(kListener3)},
        {"c.yaml", resource(kEndpoint3)},       {"d.yaml", resource(kRoute3)},
        {"keep-cds.yaml", resource(kCluster3)}, {"n.yaml", "other\n"},
    };
    BOOST_TEST_REQUIRE(written(test::write(*sink, all)));
    test::Inotify watch(out + "/current", IN_MOVED_TO | IN_DELETE);
    // Remove all but one, and add a new cluster at the same time: the
    // addition comes first, then removals, listeners first, clusters last.
    const Files fewer{{"keep-cds.yaml", resource(kCluster3)}, {"new-cds.yaml", "c\n"}};
    BOOST_TEST_REQUIRE(written(test::write(*sink, fewer)));
    std::vector<std::string> seen;
    for (const auto& e : watch.drain()) {
        seen.push_back(std::string((e.mask & IN_MOVED_TO) != 0 ? "moved " : "deleted ") + e.name);
    }
    const std::vector<std::string> expected{"moved new-cds.yaml", "deleted b.yaml",
                                            "deleted d.yaml",     "deleted n.yaml",
                                            "deleted c.yaml",     "deleted a.yaml"};
    BOOST_TEST(seen == expected);
    BOOST_TEST(current_files(out) == fewer);
}

BOOST_AUTO_TEST_CASE(leftover_temp_files_are_cleaned) {
    test::TempDir tmp;
    const std::string out = tmp / "out";
    const Files files{{"cds.yaml", "c\n"}, {"rds.yaml", "r\n"}};
    {
        auto sink = test::make_sink(opts(tmp));
        BOOST_TEST_REQUIRE(written(test::write(*sink, files)));
    }
    // A temp file an interrupted write left behind.
    test::write_file(out + "/current/.tmp-999-3", "partial rou");
    auto sink = test::make_sink(opts(tmp));
    BOOST_TEST(unchanged(test::write(*sink, files)));
    BOOST_TEST(current_files(out) == files);
}

BOOST_AUTO_TEST_CASE(files_not_in_the_input_are_removed_after_restart) {
    test::TempDir tmp;
    const std::string out = tmp / "out";
    {
        auto sink = test::make_sink(opts(tmp));
        BOOST_TEST_REQUIRE(written(test::write(*sink, {{"cds.yaml", "c\n"}, {"old.yaml", "o"}})));
    }
    auto sink = test::make_sink(opts(tmp));
    BOOST_TEST_REQUIRE(written(test::write(*sink, {{"cds.yaml", "c\n"}})));
    BOOST_TEST(current_files(out) == (Files{{"cds.yaml", "c\n"}}));
}

BOOST_AUTO_TEST_CASE(unsafe_names_write_nothing) {
    for (const std::string bad : {"", ".", "..", "a/b", ".hidden"}) {
        test::TempDir tmp;
        const std::string out = tmp / "out";
        auto sink = test::make_sink(opts(tmp));
        BOOST_TEST_REQUIRE(written(test::write(*sink, {{"cds.yaml", "c\n"}})));
        test::Inotify watch(out + "/current", IN_MOVED_TO | IN_CREATE | IN_DELETE);
        const auto r = test::write(*sink, {{"aaa.yaml", "new\n"}, {bad, "x"}, {"cds.yaml", "d"}});
        BOOST_TEST(!r.status.is_ok());
        BOOST_TEST(r.status.message().find("sinks.envoy: document '" + bad +
                                           "' from ConfigMap test/envoy-xds is not a safe file "
                                           "name") == 0u,
                   r.status.message());
        BOOST_TEST(watch.drain().empty());
        BOOST_TEST(current_files(out) == (Files{{"cds.yaml", "c\n"}}));
    }
}

BOOST_AUTO_TEST_CASE(a_failed_rename_reports_and_cleans_temp_files) {
    test::TempDir tmp;
    const std::string out = tmp / "out";
    auto sink = test::make_sink(opts(tmp));
    BOOST_TEST_REQUIRE(written(test::write(*sink, {{"cds.yaml", "c\n"}})));
    // A directory where a file should go makes the rename fail.
    test::fs::create_directories(out + "/current/rds.yaml");
    const auto r = test::write(*sink, {{"cds.yaml", "c\n"}, {"rds.yaml", "r\n"}});
    BOOST_TEST(!r.status.is_ok());
    BOOST_TEST(
        r.status.message().find("sinks.envoy: cannot rename " + out + "/current/.tmp-") == 0u,
        r.status.message());
    BOOST_TEST(r.status.message().find(" to " + out + "/current/rds.yaml: ") != std::string::npos,
               r.status.message());
    BOOST_TEST(test::entries(out + "/current") ==
               (std::vector<std::string>{"cds.yaml", "rds.yaml"}));
    // Once the obstacle is gone, the retry writes it.
    test::fs::remove(out + "/current/rds.yaml");
    BOOST_TEST(written(test::write(*sink, {{"cds.yaml", "c\n"}, {"rds.yaml", "r\n"}})));
    BOOST_TEST(current_files(out) == (Files{{"cds.yaml", "c\n"}, {"rds.yaml", "r\n"}}));
}

BOOST_AUTO_TEST_CASE(recovers_when_the_directory_is_removed_under_it) {
    test::TempDir tmp;
    const std::string out = tmp / "out";
    auto sink = test::make_sink(opts(tmp));
    const Files files{{"cds.yaml", "c\n"}, {"rds.yaml", "r\n"}};
    BOOST_TEST_REQUIRE(written(test::write(*sink, files)));
    test::fs::remove_all(out);
    BOOST_TEST(written(test::write(*sink, files)));
    BOOST_TEST(current_files(out) == files);
    BOOST_TEST(test::fs::exists(out + "/.crossover.lock"));
    // The lock was taken again on the new directory.
    auto other = test::make_sink(opts(tmp));
    const auto r = test::write(*other, files);
    BOOST_TEST(!r.status.is_ok());
    BOOST_TEST(r.status.message().find("another process is writing") != std::string::npos,
               r.status.message());
}

BOOST_AUTO_TEST_CASE(a_current_symlink_is_an_error) {
    test::TempDir tmp;
    const std::string out = tmp / "out";
    {
        auto sink = test::make_sink("{dir: " + out + "}");
        BOOST_TEST_REQUIRE(written(test::write(*sink, {{"cds.yaml", "c\n"}})));
    }
    auto sink = test::make_sink(opts(tmp));
    const auto r = test::write(*sink, {{"cds.yaml", "c\n"}});
    BOOST_TEST(!r.status.is_ok());
    BOOST_TEST(r.status.message() == "sinks.envoy: " + out +
                                         "/current is a symlink (written with mode: symlink?); "
                                         "remove it or use mode: symlink");
}

BOOST_AUTO_TEST_SUITE_END()
