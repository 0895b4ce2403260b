// End-to-end tests of the symlink sink through the real `crossover` binary
// and the `file` source: atomicity under rapid updates, idempotence across
// runs, and crash safety under SIGKILL.
#define BOOST_TEST_MODULE sink_symlink_e2e
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "process.h"

namespace fs = std::filesystem;
using crossover::test::Process;
using crossover::test::TempDir;

namespace {

// ---- inputs: a ConfigMap whose every file carries the same version marker ----

struct InputShape {
    int files;
    std::size_t file_size;  // approximate bytes per file
};

std::string file_name(int k) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "f%03d.yaml", k);
    return buf;
}

// The exact content of file k of version v.
std::string file_content(int version, int k, std::size_t size) {
    const std::string v = std::to_string(version);
    std::string out = "# version " + v + " file " + std::to_string(k) + " begin\n";
    int line = 0;
    while (out.size() < size) {
        out += "line_" + std::to_string(line++) + ": payload of version " + v +
               " abcdefghijklmnopqrstuvwxyz0123456789\n";
    }
    out += "# version " + v + " end\n";
    return out;
}

std::string manifest(int version, const InputShape& shape) {
    std::string out =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: envoy-xds\n  namespace: test\n"
        "data:\n";
    for (int k = 0; k < shape.files; ++k) {
        out += "  " + file_name(k) + ": |\n";
        const std::string content = file_content(version, k, shape.file_size);
        std::size_t pos = 0;
        while (pos < content.size()) {
            const std::size_t nl = content.find('\n', pos);
            out += "    " + content.substr(pos, nl - pos + 1);
            pos = nl + 1;
        }
    }
    return out;
}

// Version marker of a file's content, or -1.
int version_of(const std::string& content) {
    int v = -1;
    if (std::sscanf(content.c_str(), "# version %d ", &v) != 1) {
        return -1;
    }
    return v;
}

bool read_at(int dirfd, const std::string& name, std::string& out) {
    const int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    out.clear();
    char buf[65536];
    ssize_t n = 0;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) {
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return n == 0;
}

std::vector<std::string> visible_entries(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) {
        const std::string name = e.path().filename().string();
        if (name[0] != '.') {
            out.push_back(name);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> expected_names(const InputShape& shape) {
    std::vector<std::string> out;
    for (int k = 0; k < shape.files; ++k) {
        out.push_back(file_name(k));
    }
    return out;
}

// Checks that `dir` holds exactly one complete version of the input; returns
// its version, or -1 with `why` set.
int check_complete(const std::string& dir, const InputShape& shape, std::string& why) {
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        why = dir + " does not resolve: " + std::strerror(errno);
        return -1;
    }
    int version = -1;
    for (int k = 0; k < shape.files && why.empty(); ++k) {
        std::string content;
        if (!read_at(dfd, file_name(k), content)) {
            why = "missing " + file_name(k);
            break;
        }
        const int v = version_of(content);
        if (k == 0) {
            version = v;
        }
        if (v != version || v < 0) {
            why = "two versions: " + std::to_string(version) + " and " + std::to_string(v);
        } else if (content != file_content(v, k, shape.file_size)) {
            why = "partial or wrong " + file_name(k) + " (" + std::to_string(content.size()) +
                  " bytes) of version " + std::to_string(v);
        }
    }
    ::close(dfd);
    if (why.empty() && visible_entries(dir) != expected_names(shape)) {
        why = "unexpected set of files";
    }
    return why.empty() ? version : -1;
}

std::string write_pipeline(const TempDir& tmp, bool watch, int keep) {
    const std::string path = tmp / "pipeline.yaml";
    std::ofstream out(path);
    out << "engine: {debounce: 2ms, max_delay: 20ms}\n"
           "sources:\n"
           "  cm:\n"
           "    type: file\n"
           "    paths: [manifest.yaml]\n"
           "    watch: "
        << (watch ? "true" : "false")
        << "\n"
           "sinks:\n"
           "  envoy:\n"
           "    type: symlink\n"
           "    inputs: [cm]\n"
           "    dir: out\n"
           "    keep: "
        << keep << "\n";
    return path;
}

std::vector<std::string> version_dirs(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) {
        const std::string name = e.path().filename().string();
        if (name.rfind(".v-", 0) == 0) {
            out.push_back(name);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string link_target(const std::string& path) {
    std::error_code ec;
    const auto t = fs::read_symlink(path, ec);
    return ec ? std::string() : t.string();
}

ino_t inode_of(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

class Inotify {
public:
    Inotify(const std::string& dir, std::uint32_t mask) {
        fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        BOOST_TEST_REQUIRE(fd_ >= 0);
        BOOST_TEST_REQUIRE(::inotify_add_watch(fd_, dir.c_str(), mask) >= 0);
    }
    ~Inotify() { ::close(fd_); }
    Inotify(const Inotify&) = delete;
    Inotify& operator=(const Inotify&) = delete;

    // Events (mask, name) read within `timeout` (0: what is queued now).
    std::vector<std::pair<std::uint32_t, std::string>> read(int timeout_ms = 0) {
        std::vector<std::pair<std::uint32_t, std::string>> out;
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) <= 0) {
            return out;
        }
        alignas(inotify_event) char buf[65536];
        const ssize_t n = ::read(fd_, buf, sizeof buf);
        std::size_t off = 0;
        while (n > 0 && off < static_cast<std::size_t>(n)) {
            inotify_event ev{};
            std::memcpy(&ev, buf + off, sizeof ev);
            out.emplace_back(ev.mask, ev.len > 0 ? std::string(buf + off + sizeof ev) : "");
            off += sizeof ev + ev.len;
        }
        return out;
    }

private:
    int fd_ = -1;
};

}  // namespace

// (a) A reader resolving `current` and reading every file in a loop during
// 1,000 rapid manifest updates never sees two versions, a missing file or a
// partial file.
BOOST_AUTO_TEST_CASE(atomic_swaps_under_rapid_updates) {
    TempDir tmp;
    const InputShape shape{6, 3000};
    const std::string out = tmp / "out";
    crossover::test::write_text(tmp / "manifest.yaml", manifest(0, shape));
    const std::string pipeline = write_pipeline(tmp, true, 10);
    Process proc({crossover::test::crossover_bin(), "run", pipeline, "--listen", "off"},
                 tmp.path());
    std::string why;
    BOOST_TEST_REQUIRE(crossover::test::eventually([&] {
        std::string w;
        return check_complete(out + "/current", shape, w) == 0;
    }));

    std::atomic<bool> stop{false};
    int samples = 0;
    int discarded = 0;
    std::set<int> seen;
    std::atomic<int> last_seen{-1};
    std::vector<std::string> failures;
    std::thread reader([&] {
        while (!stop.load()) {
            const int dfd = ::open((out + "/current").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd < 0) {
                failures.push_back(std::string("current does not resolve: ") +
                                   std::strerror(errno));
                if (failures.size() > 1000) {
                    break;
                }
                continue;
            }
            int version = -1;
            std::string problem;
            for (int k = 0; k < shape.files && problem.empty(); ++k) {
                std::string content;
                if (!read_at(dfd, file_name(k), content)) {
                    problem = "missing " + file_name(k);
                    break;
                }
                const int v = version_of(content);
                if (k == 0) {
                    version = v;
                }
                if (v != version || v < 0) {
                    problem = "two versions in one directory: " + std::to_string(version) +
                              " and " + std::to_string(v);
                } else if (content != file_content(v, k, shape.file_size)) {
                    problem = "partial " + file_name(k) + " of version " + std::to_string(v);
                }
            }
            struct stat st {};
            const bool pruned = ::fstat(dfd, &st) == 0 && st.st_nlink == 0;
            ::close(dfd);
            if (!problem.empty() && pruned) {
                // The version was resolved, then pruned (keep) while being read:
                // not what this test is about.
                ++discarded;
                continue;
            }
            if (!problem.empty()) {
                failures.push_back(problem);
                continue;
            }
            ++samples;
            seen.insert(version);
            last_seen.store(version);
        }
    });

    // The engine coalesces bursts, so how many versions a burst yields depends on the load.
    // Every 50 updates the writer waits until the reader has read that version, so the reader
    // sees at least 20 swaps whatever the machine is doing.
    constexpr int kUpdates = 1000;
    constexpr int kCheckpoint = 50;
    int unread = 0;
    for (int v = 1; v <= kUpdates; ++v) {
        crossover::test::write_text(tmp / "manifest.yaml", manifest(v, shape));
        std::this_thread::sleep_for(std::chrono::microseconds(500));
        if (v % kCheckpoint == 0 &&
            !crossover::test::eventually([&] { return last_seen.load() >= v; })) {
            unread = v;
            break;
        }
    }
    const bool reached_last = crossover::test::eventually([&] {
        std::string w;
        return check_complete(out + "/current", shape, w) == kUpdates;
    });
    stop = true;
    reader.join();
    proc.signal(SIGTERM);
    BOOST_TEST(proc.wait() == 0, proc.err());
    BOOST_TEST(unread == 0, "the reader never read version " << unread);
    BOOST_TEST(reached_last, proc.err());
    BOOST_TEST(failures.empty(), failures.size() << " bad reads, first: "
                                                 << (failures.empty() ? "" : failures.front()));
    BOOST_TEST(samples > 100, samples << " complete reads");
    BOOST_TEST(seen.size() > 10u, seen.size() << " distinct versions seen");
    BOOST_TEST_MESSAGE("reads: " << samples << " ok, " << discarded << " of pruned versions, "
                                 << seen.size() << " versions seen, " << version_dirs(out).size()
                                 << " kept");
}

// (b) Rerunning --onetime on identical input creates no new version and no
// rename; changed input does.
BOOST_AUTO_TEST_CASE(onetime_rerun_on_identical_input_writes_nothing) {
    TempDir tmp;
    const InputShape shape{3, 500};
    const std::string out = tmp / "out";
    crossover::test::write_text(tmp / "manifest.yaml", manifest(1, shape));
    const std::string pipeline = write_pipeline(tmp, false, 2);
    const std::vector<std::string> argv{crossover::test::crossover_bin(), "run", pipeline,
                                        "--onetime"};
    auto r = crossover::test::run(argv, tmp.path());
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    std::string why;
    BOOST_TEST_REQUIRE(check_complete(out + "/current", shape, why) == 1, why);
    const std::string target = link_target(out + "/current");
    const ino_t link_inode = inode_of(out + "/current");
    const auto versions = version_dirs(out);
    BOOST_TEST(versions.size() == 1u);

    Inotify watch(out, IN_MOVED_TO | IN_CREATE | IN_DELETE);
    for (int i = 0; i < 3; ++i) {
        r = crossover::test::run(argv, tmp.path());
        BOOST_TEST_REQUIRE(r.code == 0, r.err);
    }
    BOOST_TEST(watch.read().empty());
    BOOST_TEST(link_target(out + "/current") == target);
    BOOST_TEST(inode_of(out + "/current") == link_inode);
    BOOST_TEST(version_dirs(out) == versions);

    // A change is written: one new version, one rename of `current`.
    crossover::test::write_text(tmp / "manifest.yaml", manifest(2, shape));
    r = crossover::test::run(argv, tmp.path());
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    BOOST_TEST(check_complete(out + "/current", shape, why) == 2, why);
    int moved = 0;
    for (const auto& [mask, name] : watch.read()) {
        if ((mask & IN_MOVED_TO) != 0) {
            ++moved;
            BOOST_TEST(name == "current");
        }
    }
    BOOST_TEST(moved == 1);
    BOOST_TEST(version_dirs(out).size() == 2u);
}

// (c) SIGKILL at random moments while the binary writes; `current` is always
// complete and equal to an input, and a restart finishes the job.
BOOST_AUTO_TEST_CASE(sigkill_at_random_moments_never_leaves_current_partial) {
    TempDir tmp;
    const InputShape shape{24, 12000};
    const std::string out = tmp / "out";
    fs::create_directories(out);
    const std::string pipeline = write_pipeline(tmp, false, 2);
    const std::vector<std::string> argv{crossover::test::crossover_bin(), "run", pipeline,
                                        "--onetime"};

    // Calibrate: how long a write takes, from the version directory's
    // creation to the swap of `current`.
    crossover::test::write_text(tmp / "manifest.yaml", manifest(0, shape));
    std::chrono::microseconds write_time{0};
    {
        Inotify watch(out, IN_CREATE | IN_MOVED_TO);
        Process p(argv, tmp.path());
        std::chrono::steady_clock::time_point created{};
        for (bool done = false; !done;) {
            const auto events = watch.read(20000);
            BOOST_TEST_REQUIRE(!events.empty(), "no write seen: " << p.err());
            for (const auto& [mask, name] : events) {
                if ((mask & IN_CREATE) != 0 && name.rfind(".v-", 0) == 0) {
                    created = std::chrono::steady_clock::now();
                } else if ((mask & IN_MOVED_TO) != 0 && name == "current") {
                    write_time = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - created);
                    done = true;
                }
            }
        }
        BOOST_TEST_REQUIRE(p.wait() == 0, p.err());
    }
    write_time = std::max(write_time, std::chrono::microseconds(1000));
    BOOST_TEST_MESSAGE("one write takes about " << write_time.count() << " us");

    std::mt19937 rng(12345);
    constexpr int kTrials = 100;
    int killed_mid_write = 0;
    int current_before = 0;
    for (int trial = 1; trial <= kTrials; ++trial) {
        crossover::test::write_text(tmp / "manifest.yaml", manifest(trial, shape));
        {
            Inotify watch(out, IN_CREATE);
            Process p(argv, tmp.path());
            if (trial % 10 == 0) {
                // Now and then, anywhere from the start.
                std::this_thread::sleep_for(std::chrono::microseconds(
                    std::uniform_int_distribution<long>(0, 3 * write_time.count())(rng)));
            } else {
                // Mostly while the version directory is being filled.
                bool started = false;
                while (!started && p.running()) {
                    for (const auto& [mask, name] : watch.read(5)) {
                        started = started || name.rfind(".v-", 0) == 0;
                    }
                }
                std::this_thread::sleep_for(std::chrono::microseconds(
                    std::uniform_int_distribution<long>(0, write_time.count())(rng)));
            }
            p.signal(SIGKILL);
            p.wait();
        }
        // What Envoy would see right now.
        std::string why;
        const int seen = check_complete(out + "/current", shape, why);
        BOOST_TEST_REQUIRE(seen >= 0, "trial " << trial << ": " << why);
        BOOST_TEST_REQUIRE(seen <= trial, "trial " << trial);
        if (seen == trial - 1) {
            ++current_before;
        }
        bool leftovers = false;
        for (const auto& e : fs::directory_iterator(out)) {
            const std::string name = e.path().filename().string();
            leftovers = leftovers || name.rfind(".current.tmp-", 0) == 0;
        }
        leftovers = leftovers || version_dirs(out).size() > 2u;
        if (leftovers || seen != trial) {
            ++killed_mid_write;
        }
        // Restart: it completes, cleans up, and shows this trial's input.
        const auto r = crossover::test::run(argv, tmp.path());
        BOOST_TEST_REQUIRE(r.code == 0, "trial " << trial << ": " << r.err);
        BOOST_TEST_REQUIRE(check_complete(out + "/current", shape, why) == trial,
                           "trial " << trial << ": " << why);
        for (const auto& e : fs::directory_iterator(out)) {
            const std::string name = e.path().filename().string();
            BOOST_TEST_REQUIRE(name.rfind(".current.tmp-", 0) != 0u, name);
        }
        const auto versions = version_dirs(out);
        BOOST_TEST_REQUIRE(versions.size() <= 2u);
        for (const auto& v : versions) {
            BOOST_TEST_REQUIRE(fs::exists(out + "/" + v + "/.manifest"), v);
        }
    }
    BOOST_TEST_MESSAGE(killed_mid_write << " of " << kTrials
                                        << " kills interrupted a write; current showed the "
                                           "previous input after "
                                        << current_before);
    BOOST_TEST(killed_mid_write > 0);
}

// Mode rename through the binary, on the shared fixture: clusters are renamed
// into place before routes and listeners, and a rerun renames nothing.
BOOST_AUTO_TEST_CASE(rename_mode_orders_and_skips_identical_files) {
    TempDir tmp;
    const std::string out = tmp / "out";
    fs::create_directories(out + "/current");
    fs::copy_file(crossover::test::fixtures_dir() + "/manifests/envoy-xds.configmap.yaml",
                  tmp / "manifest.yaml");
    {
        std::ofstream p(tmp / "pipeline.yaml");
        p << "sources:\n  cm: {type: file, paths: [manifest.yaml]}\n"
             "sinks:\n  envoy: {type: symlink, inputs: [cm], dir: out, mode: rename}\n";
    }
    const std::vector<std::string> argv{crossover::test::crossover_bin(), "run",
                                        tmp / "pipeline.yaml", "--onetime"};
    Inotify watch(out + "/current", IN_MOVED_TO | IN_CREATE | IN_DELETE);
    auto r = crossover::test::run(argv, tmp.path());
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    std::vector<std::string> moved;
    for (const auto& [mask, name] : watch.read()) {
        if ((mask & IN_MOVED_TO) != 0) {
            moved.push_back(name);
        }
    }
    BOOST_TEST(moved == (std::vector<std::string>{"cds.yaml", "rds.yaml", "lds.yaml"}));
    BOOST_TEST(visible_entries(out + "/current") ==
               (std::vector<std::string>{"cds.yaml", "lds.yaml", "rds.yaml"}));
    BOOST_TEST(crossover::test::read_text(out + "/current/cds.yaml") ==
               crossover::test::read_text(crossover::test::fixtures_dir() + "/xds/cds.yaml"));
    r = crossover::test::run(argv, tmp.path());
    BOOST_TEST_REQUIRE(r.code == 0, r.err);
    BOOST_TEST(watch.read().empty());
}
