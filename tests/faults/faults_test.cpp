// The fault suite: the real crossover binary against the test Kubernetes API
// server over TLS, attacked the way production does. Every case ends with the
// check that the output directory is complete, valid and equal to the last good
// input, and prints "case: trials, failures, lost updates". See README.md.
#define BOOST_TEST_MODULE crossover_faults
#include <sys/statvfs.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <csignal>
#include <random>
#include <string>
#include <thread>

#include "fault_rig.h"

using crossover::faults::Files;
using crossover::faults::kDeadline;
using crossover::faults::Rig;
using crossover::faults::RigOptions;
using crossover::faults::Summary;
using crossover::faults::xds_update;
namespace test = crossover::test;
using namespace std::chrono_literals;

namespace {

// Starts crossover on update 1 and waits for its first output.
void start_on_first_update(Rig& rig) {
    rig.apply(xds_update(1));
    rig.start();
    BOOST_REQUIRE_MESSAGE(rig.converges(), "first output not written: " << rig.mismatch() << "\n"
                                                                        << rig.stderr_tail());
}

// Records the end of a trial: `ok` false is a failure; an output that does not
// reach the last good input within the deadline is a lost update (and a failure).
void end_trial(Rig& rig, Summary& s, bool ok, const std::string& what) {
    ++s.trials;
    const bool arrived = rig.converges();
    if (!arrived) {
        ++s.lost;
    }
    if (!ok || !arrived) {
        ++s.failures;
        BOOST_ERROR(s.name << " trial " << s.trials << ": " << what << ": " << rig.mismatch()
                           << "\n"
                           << rig.stderr_tail());
    }
}

void finish(Rig& rig, Summary& s) {
    const std::string why = rig.mismatch();
    BOOST_CHECK_MESSAGE(why.empty(), s.name << ": final output: " << why);
    if (!why.empty()) {
        ++s.failures;
    }
    s.publish();
    BOOST_CHECK_EQUAL(s.failures, 0);
    BOOST_CHECK_EQUAL(s.lost, 0);
}

}  // namespace

// The API server is killed (SIGKILL) while crossover watches, and started again
// on the same port with the same state; half the updates are made just before
// the kill (maybe never sent on the stream), half after the restart.
BOOST_AUTO_TEST_CASE(apiserver_restart) {
    RigOptions o;
    o.persist_api_state = true;
    Rig rig(o);
    Summary s{"apiserver_restart"};
    start_on_first_update(rig);
    for (int i = 0; i < 20; ++i) {
        const int n = 2 + i;
        if (i % 2 == 0) {
            rig.apply(xds_update(n));
            rig.api().kill();
            rig.api().restart();
        } else {
            rig.api().kill();
            rig.api().restart();
            rig.apply(xds_update(n));
        }
        end_trial(rig, s, rig.running(), "after an API server restart");
    }
    finish(rig, s);
}

// The watch gets 410 Gone: as an ERROR event in an open stream, and, when it
// resumes from a compacted resourceVersion, as an HTTP 410 or an ERROR event.
BOOST_AUTO_TEST_CASE(gone_410) {
    Rig rig;
    Summary s{"gone_410"};
    start_on_first_update(rig);
    const long lists_before = rig.api().list_count("/configmaps");
    for (int i = 0; i < 20; ++i) {
        const int n = 2 + i;
        const bool watching =
            test::eventually([&] { return rig.api().open_watches() >= 1; }, kDeadline);
        if (i % 3 == 0) {
            rig.api().stream_error(410);
            rig.apply(xds_update(n));
        } else {
            // The stream misses the update, history is compacted, the stream breaks:
            // resuming from the last resourceVersion seen gets 410.
            rig.api().set_gone_mode(i % 3 == 1 ? "http" : "event");
            rig.api().stall_streams(true);
            rig.apply(xds_update(n));
            rig.api().compact();
            rig.api().drop_streams();
        }
        end_trial(rig, s, watching && rig.running(), "after 410 Gone");
    }
    const long relists = rig.api().list_count("/configmaps") - lists_before;
    s.note = std::to_string(relists) + " relists";
    BOOST_CHECK_MESSAGE(relists >= 20, "every 410 must relist; saw " << relists);
    finish(rig, s);
}

// The token file is rotated and the old token revoked; the watch is then broken
// so that the next request carries the old token and gets 401.
BOOST_AUTO_TEST_CASE(token_rotation) {
    Rig rig;
    Summary s{"token_rotation"};
    start_on_first_update(rig);
    for (int i = 0; i < 5; ++i) {
        rig.api().rotate_token("rotated-token-" + std::to_string(i), /*revoke_old=*/true);
        rig.api().drop_streams();
        rig.apply(xds_update(2 + i));
        end_trial(rig, s, rig.running(), "after a token rotation");
    }
    finish(rig, s);
}

// Every ConfigMap request fails with 500 for a while (30 s by default,
// $CROSSOVER_FAULTS_500_SECONDS); an update made during it arrives afterwards.
BOOST_AUTO_TEST_CASE(errors_500) {
    Rig rig;
    Summary s{"errors_500"};
    start_on_first_update(rig);
    const int seconds = std::stoi(test::env_or("CROSSOVER_FAULTS_500_SECONDS", "30"));
    rig.api().fail_next(-1, 500, "/configmaps");
    rig.api().reset_counts();
    rig.api().drop_streams();
    rig.apply(xds_update(2));
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    const long requests = rig.api().request_count("GET", "/configmaps");
    const bool unchanged = crossover::faults::output_mismatch(rig.out(), xds_update(1)).empty();
    rig.api().clear_failures();
    s.note = std::to_string(seconds) + " s, " + std::to_string(requests) + " requests";
    BOOST_CHECK_MESSAGE(unchanged, "the output changed while the API server failed");
    // Backoff, not a spin: with backoff_max 500ms, at most a few per second.
    BOOST_CHECK_MESSAGE(requests <= 10L * seconds + 20,
                        requests << " requests in " << seconds << " s of 500s");
    end_trial(rig, s, rig.running() && unchanged, "after 500s");
    finish(rig, s);
}

// The watch stream stalls without closing (nothing sent, connection kept): the
// read timeout must drop it and the update made meanwhile must arrive.
BOOST_AUTO_TEST_CASE(stalled_stream) {
    RigOptions o;
    o.read_timeout = "2s";
    Rig rig(o);
    Summary s{"stalled_stream"};
    start_on_first_update(rig);
    double worst = 0;
    for (int i = 0; i < 3; ++i) {
        BOOST_REQUIRE(test::eventually([&] { return rig.api().open_watches() >= 1; }, kDeadline));
        const long watches = rig.api().watch_count("/configmaps");
        const auto t0 = std::chrono::steady_clock::now();
        rig.api().stall_streams(true, /*new_streams=*/false);
        rig.apply(xds_update(2 + i));
        const bool resumed = test::eventually(
            [&] { return rig.api().watch_count("/configmaps") > watches; }, kDeadline);
        worst = std::max(
            worst, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        rig.api().stall_streams(false);
        end_trial(rig, s, resumed && rig.running(), "after a stalled stream");
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "read_timeout 2 s, detected within %.1f s", worst);
    s.note = buf;
    finish(rig, s);
}

// Bad ConfigMaps are refused with an error while the last good output stays;
// a good update after each one arrives.
BOOST_AUTO_TEST_CASE(bad_configmaps) {
    Rig rig;
    Summary s{"bad_configmaps"};
    start_on_first_update(rig);
    const Files base = xds_update(1);
    auto with = [&](const std::string& key, const std::string& value) {
        Files f = base;
        f[key] = value;
        return f;
    };
    auto replace = [&](const std::string& key, const std::string& from, const std::string& to) {
        Files f = xds_update(0);  // weights 100 and 0
        const auto at = f[key].find(from);
        BOOST_REQUIRE(at != std::string::npos);
        f[key].replace(at, from.size(), to);
        return f;
    };
    const std::vector<std::pair<std::string, Files>> bad = {
        {"invalid YAML", with("rds.yaml", "version_info: \"9\"\nresources: [ {unclosed\n")},
        {"invalid YAML (tab indent)", with("cds.yaml", "resources:\n\t- x: 1\n")},
        {"negative weight", replace("rds.yaml", "weight: 100", "weight: -100")},
        {"non-numeric weight", replace("rds.yaml", "weight: 100", "weight: heavy")},
        {"weight out of range", replace("rds.yaml", "weight: 100", "weight: 4294967296")},
        {"unknown field", replace("rds.yaml", "weighted_clusters:", "weighted_cluster:")},
        {"unknown @type",
         replace("cds.yaml", "envoy.config.cluster.v3.Cluster", "envoy.config.cluster.v3.Clustr")},
        {"unsafe file name ..", with("..", "x")},
        {"unsafe file name .hidden", with(".manifest", "crossover-manifest 1\nend 0\n")},
        {"unsafe file name with /", with("a/b.yaml", "x: 1\n")},
        {"file name too long", with(std::string(300, 'a'), "x: 1\n")},
    };
    int n = 2;
    for (const auto& [what, files] : bad) {
        const int errors = rig.error_count();
        rig.apply(files, /*good=*/false);
        const bool refused = rig.new_error(errors);
        const std::string why = rig.mismatch();
        const bool kept = why.empty();
        if (!refused || !kept) {
            BOOST_ERROR(what << ": " << (refused ? "" : "no error logged; ") << why);
        }
        rig.apply(xds_update(n++));
        end_trial(rig, s, refused && kept, "good update after " + what);
    }
    finish(rig, s);
}

// Large inputs are written completely: a 5 MiB value and 10,000 keys.
BOOST_AUTO_TEST_CASE(large_configmaps) {
    // On a tmpfs when root: the write path is the same (syncfs included), but
    // deleting 20,000 flushed files afterwards takes most of a minute on a busy disk.
    test::TempDir mnt;
    std::unique_ptr<crossover::faults::Tmpfs> tmpfs;
    RigOptions o;
    if (::geteuid() == 0) {
        tmpfs = std::make_unique<crossover::faults::Tmpfs>(mnt / "out", "256m");
        if (tmpfs->mounted()) {
            o.out_dir = mnt / "out";
        }
    }
    Rig rig(o);
    Summary s{"large_configmaps"};
    start_on_first_update(rig);
    std::string big;
    big.reserve(5U << 20U);
    while (big.size() < (5U << 20U)) {
        big += "# filler line of a large value, not a document anybody transforms .....\n";
    }
    std::string timings;
    auto step = [&](const Files& files, const std::string& what) {
        const auto t0 = std::chrono::steady_clock::now();
        rig.apply(files);
        end_trial(rig, s, rig.running(), what);
        char buf[32];
        std::snprintf(buf, sizeof buf, " %.1f s",
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        timings += (timings.empty() ? "" : ", ") + what + buf;
    };
    Files f = xds_update(2);
    f["big.txt"] = big;
    step(f, "5 MiB value");
    Files many = xds_update(3);
    for (int i = 0; i < 10000; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "key-%05d.txt", i);
        many[name] = "value " + std::to_string(i) + "\n";
    }
    step(many, "10,000 keys");
    many.erase("key-00000.txt");
    many["key-09999.txt"] = "changed\n";
    step(many, "one removed, one changed");
    step(xds_update(4), "back to 3 keys");
    s.note = timings;
    finish(rig, s);
}

// The output directory becomes read-only: the write fails, the output stays,
// and once writable again the pending update arrives.
BOOST_AUTO_TEST_CASE(output_read_only) {
    Summary s{"output_read_only"};
    if (::geteuid() != 0) {
        s.note = "skipped: needs root to mount a tmpfs";
        std::printf("output_read_only: skipped (not root: cannot mount a tmpfs)\n");
        s.publish();
        return;
    }
    test::TempDir mnt;
    crossover::faults::Tmpfs tmpfs(mnt / "out", "16m");
    BOOST_REQUIRE_MESSAGE(tmpfs.mounted(), "cannot mount a tmpfs");
    RigOptions o;
    o.out_dir = mnt / "out";
    Rig rig(o);
    start_on_first_update(rig);
    for (int i = 0; i < 3; ++i) {
        BOOST_REQUIRE(tmpfs.set_read_only(true));
        const int errors = rig.error_count();
        const Files before = rig.last_good();
        rig.apply(xds_update(2 + i));
        const bool refused = rig.new_error(errors);
        const bool kept = crossover::faults::output_mismatch(rig.out(), before).empty();
        BOOST_REQUIRE(tmpfs.set_read_only(false));
        end_trial(rig, s, refused && kept && rig.running(), "read-only output");
    }
    finish(rig, s);
}

// The output file system is full: the write fails cleanly (nothing partial is
// left taking the space), the output stays, and a smaller update then arrives.
BOOST_AUTO_TEST_CASE(output_full) {
    Summary s{"output_full"};
    if (::geteuid() != 0) {
        s.note = "skipped: needs root to mount a tmpfs";
        std::printf("output_full: skipped (not root: cannot mount a tmpfs)\n");
        s.publish();
        return;
    }
    test::TempDir mnt;
    crossover::faults::Tmpfs tmpfs(mnt / "out", "1m");
    BOOST_REQUIRE_MESSAGE(tmpfs.mounted(), "cannot mount a tmpfs");
    RigOptions o;
    o.out_dir = mnt / "out";
    Rig rig(o);
    start_on_first_update(rig);
    for (int i = 0; i < 3; ++i) {
        Files huge = xds_update(100 + i);
        huge["huge.txt"] = std::string(2U << 20U, 'x');
        const int errors = rig.error_count();
        rig.apply(huge, /*good=*/false);
        const bool refused = rig.new_error(errors);
        const bool kept = rig.mismatch().empty();
        rig.apply(xds_update(2 + i));
        end_trial(rig, s, refused && kept && rig.running(), "update after a full disk");
    }
    finish(rig, s);
}

namespace {

// Signals crossover at a random moment after an update, `trials` times; each
// time the output must be complete (the previous or the new input) and, after a
// restart, the new input.
void signal_trials(int sig, const std::string& name, int trials) {
    RigOptions o;
    o.validate = false;  // about writes; a faster start allows more trials
    Rig rig(o);
    Summary s{name};
    start_on_first_update(rig);
    std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int> delay_us(0, 60000);
    // Many files, so that the signal often lands inside a write.
    auto update = [](int n) {
        Files f = xds_update(n);
        for (int k = 0; k < 40; ++k) {
            f["extra-" + std::to_string(k) + ".txt"] =
                "update " + std::to_string(n) + " file " + std::to_string(k) + "\n";
        }
        return f;
    };
    rig.apply(update(2));
    BOOST_REQUIRE(rig.converges());
    int bad_exits = 0;
    for (int i = 0; i < trials; ++i) {
        const Files before = rig.last_good();
        const Files next = update(3 + i);
        rig.apply(next);
        std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));
        const int code = rig.stop(sig);
        const std::string m_before = crossover::faults::output_mismatch(rig.out(), before);
        const std::string m_next = crossover::faults::output_mismatch(rig.out(), next);
        const bool complete = m_before.empty() || m_next.empty();
        const bool clean = sig == SIGKILL ? code == 128 + SIGKILL : code == 0;
        if (!clean) {
            ++bad_exits;
            BOOST_ERROR(name << " trial " << i << ": exit code " << code << "\n"
                             << rig.stderr_tail());
        }
        if (!complete) {
            BOOST_ERROR(name << " trial " << i << ": output after the signal: " << m_next);
        }
        // Restarted, crossover is ready for the next signal once its watch is open
        // (the output may already be the new input, written before the exit).
        const long watches = rig.api().watch_count("/configmaps");
        rig.start();
        const bool watching = test::eventually(
            [&] { return rig.api().watch_count("/configmaps") > watches; }, kDeadline);
        end_trial(rig, s, complete && clean && watching, "after restarting crossover");
    }
    s.note = std::to_string(bad_exits) + " unexpected exit codes";
    BOOST_CHECK_EQUAL(bad_exits, 0);
    finish(rig, s);
}

}  // namespace

BOOST_AUTO_TEST_CASE(sigterm) {
    signal_trials(SIGTERM, "sigterm", 100);
}

BOOST_AUTO_TEST_CASE(sigkill) {
    signal_trials(SIGKILL, "sigkill", 100);
}
