// mode: symlink — a complete version directory swapped in via DIR/current.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "symlink_sink.h"
#include "test_util.h"

using crossover::WriteOutcome;
using test::Files;
namespace ss = crossover::sink_symlink;

namespace {

const Files kA{
    {"cds.yaml", "clusters: a\n"}, {"lds.yaml", "listeners: a\n"}, {"rds.yaml", "routes: a\n"}};
const Files kB{
    {"cds.yaml", "clusters: b\n"}, {"lds.yaml", "listeners: a\n"}, {"rds.yaml", "routes: b\n"}};

std::string opts(const test::TempDir& tmp, const std::string& extra = "") {
    return "{dir: " + tmp.path() + "/out" + (extra.empty() ? "" : ", " + extra) + "}";
}

// Everything `current` shows, as (name, content), in name order.
Files current_files(const std::string& dir) {
    Files out;
    for (const auto& name : test::entries(dir + "/current")) {
        if (name[0] == '.') {
            continue;
        }
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

BOOST_AUTO_TEST_SUITE(symlink_mode)

BOOST_AUTO_TEST_CASE(writes_a_version_directory_behind_current) {
    test::TempDir tmp;
    const std::string out = tmp / "out";
    auto sink = test::make_sink(opts(tmp));
    const auto r = test::write(*sink, kA);
    BOOST_TEST_REQUIRE(r.status.is_ok(), r.status.message());
    BOOST_TEST(r.outcome == WriteOutcome::Written);
    struct stat st {};
    BOOST_TEST_REQUIRE(::lstat((out + "/current").c_str(), &st) == 0);
    BOOST_TEST(S_ISLNK(st.st_mode));
    const std::string target = test::read_link(out + "/current");
    BOOST_TEST(target.rfind(".v-", 0) == 0u, target);  // relative, inside DIR
    BOOST_TEST(test::version_dirs(out) == std::vector<std::string>{target});
    BOOST_TEST(current_files(out) == kA);
    BOOST_TEST_REQUIRE(::stat((out + "/current/rds.yaml").c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 07777) == 0644u);
    // Nothing else in DIR but the lock.
    BOOST_TEST(test::entries(out) ==
               (std::vector<std::string>{".crossover.lock", target, "current"}));
}

BOOST_AUTO_TEST_CASE(file_mode_is_applied) {
    test::TempDir tmp;
    auto sink = test::make_sink(opts(tmp, "file_mode: '0600'"));
    BOOST_TEST_REQUIRE(written(test::write(*sink, kA)));
    struct stat st {};
    BOOST_TEST_REQUIRE(::stat((tmp / "out/current/cds.yaml").c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 07777) == 0600u);
}

BOOST_AUTO_TEST_CASE(identical_content_writes_nothing) {
    test::TempDir tmp;
    const std::string out = tmp / "out";
    auto sink = test::make_sink(opts(tmp));
    BOOST_TEST_REQUIRE(written(test::write(*sink, kA)));
    const std::string target = test::read_link(out + "/current");
    const ino_t link_inode = test::inode(out + "/current");
    const auto before = test::entries(out);
    test::Inotify watch(out, IN_MOVED_TO | IN_CREATE | IN_DELETE);
    // New Document objects with the same bytes.
    for (int i = 0; i < 3; ++i) {
        const auto r = test::write(*sink, kA);
        BOOST_TEST(unchanged(r), r.status.message());
    }
    BOOST_TEST(watch.drain().empty());
    BOOST_TEST(test::read_link(out + "/current") == target);
    BOOST_TEST(test::inode(out + "/current") == link_inode);
    BOOST_TEST(test::entries(out) == before);
}

BOOST_AUTO_TEST_CASE(identical_content_writes_nothing_after_restart) {
    test::TempDir tmp;
    const std::string out = tmp / "out";
    {
        auto sink = test::make_sink(opts(tmp));
        BOOST_TEST_REQUIRE(written(test::write(*sink, kA)));
    }
    const std::string target = test::read_link(out + "/current");
    const ino_t link_inode = test::inode(out + "/current");
    test::Inotify watch(out, IN_MOVED_TO | IN_CREATE);
    auto sink = test::make_sink(opts(tmp));
    BOOST_TEST(unchanged(test::write(*sink, kA)));
    BOOST_TEST(watch.drain().empty());
    BOOST_TEST(test::read_link(out + "/current") == target);
    BOOST_TEST(test::inode(out + "/current") == link_inode);
    BOOST_TEST(test::version_dirs(out).size() == 1u);
    // And a change after the restart is written.
    BOOST_TEST(written(test::write(*sink, kB)));
    BOOST_TEST(current_files(out) == kB);
}

BOOST_AUTO_TEST_CASE(changes_swap_current_and_removed_files_disappear) {
    test::TempDir tmp;
    const std::string out = tmp / "out";
    auto sink = test::make_sink(opts(tmp));
    BOOST_TEST_REQUIRE(written(test::write(*sink, kA)));
    const std::string first = test::read_link(out + "/current");
    BOOST_TEST_REQUIRE(written(test::write(*sink, kB)));
    const std::string second = test::read_link(out + "/current");
    BOOST_TEST(first != second);
    BOOST_TEST(current_files(out) == kB);
    // The previous version is still complete (keep: 2).
    BOOST_TEST(test::read_file(out + "/" + first + "/rds.yaml") == "routes: a\n");
    const Files fewer{{"cds.yaml", "clusters: b\n"}, {"rds.yaml", "routes: b\n"}};
    BOOST_TEST_REQUIRE(written(test::write(*sink, fewer)));
    BOOST_TEST(current_files(out) == fewer);
    BOOST_TEST(!test::fs::exists(out + "/current/lds.yaml"));
    // An empty output is refused: Envoy would lose everything at once.
    const auto refused = test::write(*sink, {});
    BOOST_TEST(!refused.status.is_ok());
    BOOST_TEST(refused.status.message() ==
               "sinks.envoy: the output is empty (no documents); nothing written, previous output "
               "left in place (set allow_empty: true to write an empty output)");
    BOOST_TEST(current_files(out) == fewer);
    // Unless the option allows it: then it is a change like any other.
    sink.reset();  // one writer per directory
    auto allowing = test::make_sink(opts(tmp, "allow_empty: true"));
    BOOST_TEST_REQUIRE(written(test::write(*allowing, {})));
    BOOST_TEST(current_files(out).empty());
}

BOOST_AUTO_TEST_CASE(one_moved_to_for_current_per_change) {
    test::TempDir tmp;
    const std::string out = tmp / "out";
    test::fs::create_directories(out);
    test::Inotify watch(out, IN_MOVED_TO);
    auto sink = test::make_sink(opts(tmp));
    BOOST_TEST_REQUIRE(written(test::write(*sink, kA)));
    BOOST_TEST(watch.names(IN_MOVED_TO) == std::vector<std::string>{"current"});
    BOOST_TEST_REQUIRE(unchanged(test::write(*sink, kA)));
    BOOST_TEST(watch.names(IN_MOVED_TO).empty());
    BOOST_TEST_REQUIRE(written(test::write(*sink, kB)));
    BOOST_TEST(watch.names(IN_MOVED_TO) == std::vector<std::string>{"current"});
    BOOST_TEST_REQUIRE(written(test::write(*sink, kA)));
    BOOST_TEST(watch.names(IN_MOVED_TO) == std::vector<std::string>{"current"});
}

// A file whose content did not change is the previous version's file (a hard link): both
// versions show the same bytes, and removing the older one leaves the file in the newer.
BOOST_AUTO_TEST_CASE(unchanged_files_are_linked_from_the_previous_version) {
    for (const std::string extra : {"fsync: false", "fsync: true"}) {
        test::TempDir tmp;
        const std::string out = tmp / "out";
        auto sink = test::make_sink(opts(tmp, extra + ", keep: 1"));
        BOOST_TEST_REQUIRE(written(test::write(*sink, kA)));
        const std::string first = test::read_link(out + "/current");
        const ino_t lds = test::inode(out + "/current/lds.yaml");
        const ino_t rds = test::inode(out + "/current/rds.yaml");
        BOOST_TEST_REQUIRE(written(test::write(*sink, kB)));  // lds.yaml is the same
        BOOST_TEST(test::inode(out + "/current/lds.yaml") == lds, extra);
        BOOST_TEST(test::inode(out + "/current/rds.yaml") != rds, extra);
        BOOST_TEST(current_files(out) == kB);
        struct stat st {};
        BOOST_TEST_REQUIRE(::stat((out + "/current/lds.yaml").c_str(), &st) == 0);
        BOOST_TEST((st.st_mode & 07777) == 0644u);
        sink.reset();  // the older version is removed (keep: 1), the linked file stays
        BOOST_TEST(!test::fs::exists(out + "/" + first));
        BOOST_TEST(test::read_file(out + "/current/lds.yaml") == "listeners: a\n");
        BOOST_TEST(current_files(out) == kB);
    }
    // A file changed in place behind the sink's back (another size) is not linked: the new
    // version has the document's bytes.
    test::TempDir tmp;
    const std::string out = tmp / "out";
    auto sink = test::make_sink(opts(tmp));
    BOOST_TEST_REQUIRE(written(test::write(*sink, kA)));
    const std::string first = test::read_link(out + "/current");
    test::write_file(out + "/" + first + "/lds.yaml", "edited by hand\n");
    BOOST_TEST_REQUIRE(written(test::write(*sink, kB)));
    BOOST_TEST(current_files(out) == kB);
    // After a restart nothing is known to be the sink's own: every file is written anew.
    const ino_t cds = test::inode(out + "/current/cds.yaml");
    sink.reset();
    auto again = test::make_sink(opts(tmp));
    const Files kC{{"cds.yaml", "clusters: b\n"}, {"rds.yaml", "routes: c\n"}};
    BOOST_TEST_REQUIRE(written(test::write(*again, kC)));
    BOOST_TEST(test::inode(out + "/current/cds.yaml") != cds);
    BOOST_TEST(current_files(out) == kC);
}

BOOST_AUTO_TEST_CASE(keep_prunes_old_versions) {
    for (const int keep : {1, 2, 3}) {
        test::TempDir tmp;
        const std::string out = tmp / "out";
        auto sink = test::make_sink(opts(tmp, "keep: " + std::to_string(keep)));
        std::vector<std::string> targets;
        for (int i = 0; i < 6; ++i) {
            BOOST_TEST_REQUIRE(written(test::write(*sink, {{"x.yaml", std::to_string(i)}})));
            targets.push_back(test::read_link(out + "/current"));
        }
        // The newest `keep`, the current one among them. Older ones are removed after the
        // write returns, on the sink's own thread: wait for it, with a bound.
        std::vector<std::string> expected(targets.end() - keep, targets.end());
        std::sort(expected.begin(), expected.end());
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (test::version_dirs(out) != expected && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        BOOST_TEST(test::version_dirs(out) == expected, "keep " << keep);
        BOOST_TEST(test::read_file(out + "/current/x.yaml") == "5");
        // Every removal is done once the sink is gone (the next writer finds them gone).
        for (int i = 6; i < 9; ++i) {
            BOOST_TEST_REQUIRE(written(test::write(*sink, {{"x.yaml", std::to_string(i)}})));
            targets.push_back(test::read_link(out + "/current"));
        }
        sink.reset();
        expected.assign(targets.end() - keep, targets.end());
        std::sort(expected.begin(), expected.end());
        BOOST_TEST(test::version_dirs(out) == expected, "keep " << keep << " after the sink");
    }
}

BOOST_AUTO_TEST_CASE(unsafe_names_are_refused_and_nothing_is_written) {
    const std::vector<std::pair<std::string, std::string>> cases{
        {"",
         "document '' from ConfigMap test/envoy-xds is not a safe file name: the name is "
         "empty; nothing written"},
        {".",
         "document '.' from ConfigMap test/envoy-xds is not a safe file name: '.' names a "
         "directory; nothing written"},
        {"..",
         "document '..' from ConfigMap test/envoy-xds is not a safe file name: '..' names "
         "a directory; nothing written"},
        {"a/b",
         "document 'a/b' from ConfigMap test/envoy-xds is not a safe file name: the name "
         "contains '/'; nothing written"},
        {"../../etc/x",
         "document '../../etc/x' from ConfigMap test/envoy-xds is not a safe "
         "file name: the name contains '/'; nothing written"},
        {std::string("a\0b", 3),
         "document 'a?b' from ConfigMap test/envoy-xds is not a safe "
         "file name: the name contains a NUL byte; nothing written"},
        {".hidden",
         "document '.hidden' from ConfigMap test/envoy-xds is not a safe file name: "
         "the name starts with '.' (reserved for the sink's own files); nothing "
         "written"},
    };
    for (const auto& [bad, message] : cases) {
        test::TempDir tmp;
        const std::string out = tmp / "out";
        auto sink = test::make_sink(opts(tmp));
        // First write on a fresh directory: nothing at all appears.
        Files files{{"cds.yaml", "c\n"}, {bad, "x\n"}, {"rds.yaml", "r\n"}};
        auto r = test::write(*sink, files);
        BOOST_TEST(!r.status.is_ok());
        BOOST_TEST(r.status.message() == "sinks.envoy: " + message);
        BOOST_TEST(!test::fs::exists(out + "/current"));
        BOOST_TEST((!test::fs::exists(out) || test::version_dirs(out).empty()));
        // With a previous output: it stays exactly as it was.
        BOOST_TEST_REQUIRE(written(test::write(*sink, kA)));
        const std::string target = test::read_link(out + "/current");
        r = test::write(*sink, files);
        BOOST_TEST(!r.status.is_ok());
        BOOST_TEST(r.status.message() == "sinks.envoy: " + message);
        BOOST_TEST(test::read_link(out + "/current") == target);
        BOOST_TEST(test::version_dirs(out) == std::vector<std::string>{target});
        BOOST_TEST(current_files(out) == kA);
        BOOST_TEST(!test::fs::exists(tmp / "etc"));
    }
}

BOOST_AUTO_TEST_CASE(duplicate_names_are_refused) {
    test::TempDir tmp;
    auto sink = test::make_sink(opts(tmp));
    crossover::Snapshot s = test::snapshot({{"rds.yaml", "a"}});
    auto other = std::make_shared<crossover::Document>();
    other->name = "rds.yaml";
    other->content = "b";
    other->origin = crossover::ObjectRef{"ConfigMap", "test", "other", "1"};
    s.documents.push_back(other);
    crossover::WriteOutcome outcome = WriteOutcome::Written;
    const auto status = sink->write(s, outcome);
    BOOST_TEST(!status.is_ok());
    BOOST_TEST(status.message() ==
               "sinks.envoy: document 'rds.yaml' comes from both ConfigMap test/envoy-xds and "
               "ConfigMap test/other; nothing written");
    BOOST_TEST(!test::fs::exists(tmp / "out/current"));
}

BOOST_AUTO_TEST_CASE(incomplete_input_is_not_written) {
    test::TempDir tmp;
    auto sink = test::make_sink(opts(tmp));
    crossover::Snapshot s = test::snapshot(kA);
    s.complete = false;
    s.missing.push_back("ConfigMap test/envoy-xds not found");
    crossover::WriteOutcome outcome = WriteOutcome::Written;
    const auto status = sink->write(s, outcome);
    BOOST_TEST(!status.is_ok());
    BOOST_TEST(status.message() ==
               "sinks.envoy: input is incomplete (ConfigMap test/envoy-xds not found); nothing "
               "written, previous output left in place");
    BOOST_TEST(!test::fs::exists(tmp / "out/current"));
}

BOOST_AUTO_TEST_CASE(crash_leftovers_are_cleaned) {
    test::TempDir tmp;
    const std::string out = tmp / "out";
    {
        auto sink = test::make_sink(opts(tmp));
        BOOST_TEST_REQUIRE(written(test::write(*sink, kA)));
    }
    const std::string good = test::read_link(out + "/current");
    // A version directory a crash interrupted: files but no manifest.
    const std::string half = ".v-00000009-00000000deadbeef";
    test::fs::create_directories(out + "/" + half);
    test::write_file(out + "/" + half + "/cds.yaml", "clusters: b\n");
    test::write_file(out + "/" + half + "/rds.yaml", "rou");
    // One whose manifest was cut short.
    const std::string cut = ".v-00000008-00000000deadbeef";
    test::fs::create_directories(out + "/" + cut);
    test::write_file(out + "/" + cut + "/x.yaml", "x");
    test::write_file(out + "/" + cut + "/.manifest", "crossover-manifest 1\n1 ");
    // A temporary symlink of an interrupted swap, pointing at the half one.
    test::fs::create_symlink(half, out + "/.current.tmp-4242-9");

    auto sink = test::make_sink(opts(tmp));
    // Same content as `current`: nothing to write, but the leftovers go.
    BOOST_TEST(unchanged(test::write(*sink, kA)));
    BOOST_TEST(test::read_link(out + "/current") == good);
    BOOST_TEST(test::entries(out) ==
               (std::vector<std::string>{".crossover.lock", good, "current"}));
    // The next version numbers past the leftovers.
    BOOST_TEST_REQUIRE(written(test::write(*sink, kB)));
    BOOST_TEST(test::read_link(out + "/current").rfind(".v-00000010-", 0) == 0u);
    BOOST_TEST(current_files(out) == kB);
}

// An output directory written by a release before manifest format 2 (format 1: FNV-1a hashes)
// is picked up on upgrade: its version is complete, so the same input writes nothing; a change
// writes a format 2 version and keeps the old one as the previous version.
BOOST_AUTO_TEST_CASE(format_1_output_is_picked_up_on_upgrade) {
    for (const bool good_hash : {true, false}) {
        test::TempDir tmp;
        const std::string out = tmp / "out";
        const std::string old = ".v-00000007-0123456789abcdef";
        test::fs::create_directories(out + "/" + old);
        std::vector<ss::ManifestEntry> entries;
        for (const auto& [name, content] : kA) {
            test::write_file(out + "/" + old + "/" + name, content);
            entries.push_back({name, content.size(), ss::fnv1a(content) + (good_hash ? 0 : 1)});
        }
        const std::string manifest = ss::format_manifest(entries, 1);
        BOOST_TEST_REQUIRE(manifest.rfind("crossover-manifest 1\n", 0) == 0u);
        test::write_file(out + "/" + old + "/.manifest", manifest);
        test::fs::create_symlink(old, out + "/current");

        auto sink = test::make_sink(opts(tmp));
        if (!good_hash) {
            // A file that does not match its manifest: not a complete version, rewritten.
            BOOST_TEST(written(test::write(*sink, kA)), "bad hash");
            BOOST_TEST(test::read_link(out + "/current") != old);
            BOOST_TEST(current_files(out) == kA);
            continue;
        }
        BOOST_TEST(unchanged(test::write(*sink, kA)));
        BOOST_TEST(test::read_link(out + "/current") == old);
        BOOST_TEST_REQUIRE(written(test::write(*sink, kB)));
        const std::string now = test::read_link(out + "/current");
        BOOST_TEST(now.rfind(".v-00000008-", 0) == 0u, now);
        BOOST_TEST(current_files(out) == kB);
        BOOST_TEST(test::version_dirs(out) == (std::vector<std::string>{old, now}));
        const std::string text = test::read_file(out + "/current/.manifest");
        std::vector<ss::ManifestEntry> read;
        int format = 0;
        BOOST_TEST_REQUIRE(ss::parse_manifest(text, read, &format));
        BOOST_TEST(format == 2);
        BOOST_TEST_REQUIRE(read.size() == kB.size());
        for (std::size_t i = 0; i < kB.size(); ++i) {
            BOOST_TEST(read[i].name == kB[i].first);
            BOOST_TEST(read[i].hash == ss::chunked_hash(kB[i].second).hash);
        }
        // And the format 2 version is picked up after a restart too.
        sink.reset();
        auto again = test::make_sink(opts(tmp));
        BOOST_TEST(unchanged(test::write(*again, kB)));
        BOOST_TEST(test::read_link(out + "/current") == now);
    }
}

// A temporary symlink already named as the next swap's (left after the start's cleanup) is
// replaced, and the swap goes through.
BOOST_AUTO_TEST_CASE(a_leftover_temporary_symlink_of_the_same_name_is_replaced) {
    test::TempDir tmp;
    const std::string out = tmp / "out";
    auto sink = test::make_sink(opts(tmp));
    BOOST_TEST_REQUIRE(written(test::write(*sink, kA)));
    BOOST_TEST_REQUIRE(test::read_link(out + "/current").rfind(".v-00000001-", 0) == 0u);
    const std::string leftover = out + "/.current.tmp-" + std::to_string(::getpid()) + "-2";
    test::fs::create_symlink("elsewhere", leftover);
    BOOST_TEST_REQUIRE(written(test::write(*sink, kB)));
    BOOST_TEST(test::read_link(out + "/current").rfind(".v-00000002-", 0) == 0u);
    BOOST_TEST(current_files(out) == kB);
    BOOST_TEST(!test::fs::exists(test::fs::symlink_status(leftover)));
}

BOOST_AUTO_TEST_CASE(dangling_current_is_replaced) {
    test::TempDir tmp;
    const std::string out = tmp / "out";
    test::fs::create_directories(out);
    test::fs::create_symlink(".v-00000005-0000000000000000", out + "/current");
    auto sink = test::make_sink(opts(tmp));
    BOOST_TEST_REQUIRE(written(test::write(*sink, kA)));
    BOOST_TEST(current_files(out) == kA);
    BOOST_TEST(test::read_link(out + "/current").rfind(".v-00000001-", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(partial_current_is_rewritten_even_when_input_matches) {
    test::TempDir tmp;
    const std::string out = tmp / "out";
    {
        auto sink = test::make_sink(opts(tmp));
        BOOST_TEST_REQUIRE(written(test::write(*sink, kA)));
    }
    // Damage the current version behind the sink's back.
    const std::string target = test::read_link(out + "/current");
    test::write_file(out + "/" + target + "/rds.yaml", "rou");
    test::fs::remove(out + "/" + target + "/lds.yaml");
    auto sink = test::make_sink(opts(tmp));
    BOOST_TEST_REQUIRE(written(test::write(*sink, kA)));
    BOOST_TEST(test::read_link(out + "/current") != target);
    BOOST_TEST(current_files(out) == kA);
}

BOOST_AUTO_TEST_CASE(current_pointing_outside_is_replaced) {
    test::TempDir tmp;
    const std::string out = tmp / "out";
    test::fs::create_directories(out);
    test::fs::create_directories(tmp / "elsewhere");
    test::write_file(tmp / "elsewhere/rds.yaml", "routes: a\n");
    test::fs::create_symlink(tmp / "elsewhere", out + "/current");
    auto sink = test::make_sink(opts(tmp));
    BOOST_TEST_REQUIRE(written(test::write(*sink, kA)));
    BOOST_TEST(current_files(out) == kA);
    // What was elsewhere is left alone.
    BOOST_TEST(test::read_file(tmp / "elsewhere/rds.yaml") == "routes: a\n");
}

BOOST_AUTO_TEST_CASE(a_real_current_directory_is_an_error) {
    test::TempDir tmp;
    const std::string out = tmp / "out";
    test::fs::create_directories(out + "/current");
    auto sink = test::make_sink(opts(tmp));
    const auto r = test::write(*sink, kA);
    BOOST_TEST(!r.status.is_ok());
    BOOST_TEST(r.status.message() ==
               "sinks.envoy: " + out +
                   "/current exists and is not a symlink (written with mode: rename?); remove it "
                   "or use mode: rename");
}

BOOST_AUTO_TEST_CASE(two_writers_on_one_directory_are_refused) {
    test::TempDir tmp;
    auto first = test::make_sink(opts(tmp));
    BOOST_TEST_REQUIRE(written(test::write(*first, kA)));
    auto second = test::make_sink(opts(tmp));
    const auto r = test::write(*second, kB);
    BOOST_TEST(!r.status.is_ok());
    BOOST_TEST(r.status.message().find("another process is writing to " + tmp / "out") !=
                   std::string::npos,
               r.status.message());
    BOOST_TEST(current_files(tmp / "out") == kA);
    // Once the first is gone, the second takes over.
    first.reset();
    BOOST_TEST(written(test::write(*second, kB)));
    BOOST_TEST(current_files(tmp / "out") == kB);
}

BOOST_AUTO_TEST_CASE(unwritable_directory_is_reported_with_the_component) {
    test::TempDir tmp;
    test::write_file(tmp / "file", "not a directory");
    auto sink = test::make_sink("{dir: " + tmp.path() + "/file/out}");
    const auto r = test::write(*sink, kA);
    BOOST_TEST(!r.status.is_ok());
    BOOST_TEST(r.status.message().rfind(
                   "sinks.envoy: cannot create directory " + tmp.path() + "/file/out: ", 0) == 0u,
               r.status.message());
}

BOOST_AUTO_TEST_CASE(recovers_when_the_directory_is_removed_under_it) {
    test::TempDir tmp;
    const std::string out = tmp / "out";
    auto sink = test::make_sink(opts(tmp));
    BOOST_TEST_REQUIRE(written(test::write(*sink, kA)));
    test::fs::remove_all(out);
    // Even unchanged input is written again: the output is gone.
    BOOST_TEST(written(test::write(*sink, kA)));
    BOOST_TEST(current_files(out) == kA);
    // Same when `current` was pointed elsewhere.
    test::fs::remove(out + "/current");
    test::fs::create_symlink("nowhere", out + "/current");
    BOOST_TEST(written(test::write(*sink, kA)));
    BOOST_TEST(current_files(out) == kA);
    BOOST_TEST(unchanged(test::write(*sink, kA)));
}

BOOST_AUTO_TEST_CASE(relative_dir_resolves_against_the_pipeline_file) {
    test::TempDir tmp;
    crossover::ComponentConfig config = test::make_config("{dir: out}");
    config.base_dir = tmp.path();
    std::string error;
    crossover::Component* c = crossover_plugin_entry()->create(config, error);
    BOOST_TEST_REQUIRE(c != nullptr, error);
    test::SinkPtr sink(dynamic_cast<crossover::Sink*>(c));
    BOOST_TEST_REQUIRE(written(test::write(*sink, kA)));
    BOOST_TEST(current_files(tmp / "out") == kA);
}

BOOST_AUTO_TEST_SUITE_END()
