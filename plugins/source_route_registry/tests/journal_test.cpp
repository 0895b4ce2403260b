// The file store: framing, recovery after a torn write, corruption, group
// commit and compaction.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "process.h"
#include "registry.h"

using namespace crossover::route_registry;
using crossover::test::TempDir;

namespace {

struct Logs {
    std::vector<std::string> lines;
    std::mutex mutex;
    Journal::LogFn fn() {
        return [this](crossover::LogLevel, std::string_view m) {
            const std::lock_guard<std::mutex> lock(mutex);
            lines.emplace_back(m);
        };
    }
    bool contains(const std::string& text) {
        const std::lock_guard<std::mutex> lock(mutex);
        for (const auto& l : lines) {
            if (l.find(text) != std::string::npos) {
                return true;
            }
        }
        return false;
    }
};

Route route(const std::string& name, const std::string& domain, int port = 8080) {
    return parse_route(R"({"domains": [")" + domain +
                           R"("], "endpoints": [{"address": "10.0.0.1", "port": )" +
                           std::to_string(port) + "}]}",
                       name);
}

std::string journal_bytes(const TempDir& t) {
    return crossover::test::read_text(t / "state/journal");
}

void append_raw(const TempDir& t, const std::string& bytes) {
    std::ofstream out(t / "state/journal", std::ios::binary | std::ios::app);
    out << bytes;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(journal)

BOOST_AUTO_TEST_CASE(records_frame_and_read_back) {
    const std::string bytes = frame_record("one") + frame_record("two");
    const ReadRecords r = read_records(bytes);
    BOOST_REQUIRE_EQUAL(r.records.size(), 2U);
    BOOST_CHECK_EQUAL(r.records[1], "two");
    BOOST_CHECK(!r.torn);
    BOOST_CHECK_EQUAL(r.good_bytes, bytes.size());
    // Every cut inside the last record is a torn tail, never corruption.
    for (std::size_t cut = frame_record("one").size() + 1; cut < bytes.size(); ++cut) {
        const ReadRecords c = read_records(bytes.substr(0, cut));
        BOOST_CHECK_EQUAL(c.records.size(), 1U);
        BOOST_CHECK(c.torn);
        BOOST_CHECK(c.corruption.empty());
    }
    // A flipped byte in a record that is not the last is corruption.
    std::string bad = bytes;
    bad[9] = static_cast<char>(bad[9] ^ 1);
    BOOST_CHECK(!read_records(bad).corruption.empty());
    // A zero-filled tail is torn.
    BOOST_CHECK(read_records(frame_record("one") + std::string(100, '\0')).torn);
}

BOOST_AUTO_TEST_CASE(state_survives_a_restart) {
    TempDir t;
    Logs logs;
    {
        Registry r({t / "state", 1000}, logs.fn());
        r.put(route("a", "a.org"), {});
        r.put(route("b", "b.org"), {});
        r.put(route("a", "a.org", 9090), {});
        r.remove("b", {});
    }
    Registry r({t / "state", 1000}, logs.fn());
    const View v = r.view();
    BOOST_CHECK_EQUAL(v.version, 4U);
    BOOST_REQUIRE_EQUAL(v.routes.size(), 1U);
    BOOST_CHECK_EQUAL(v.routes.at("a")->route.endpoints[0].port, 9090U);
    BOOST_CHECK_EQUAL(v.routes.at("a")->version, 3U);
}

BOOST_AUTO_TEST_CASE(a_second_process_cannot_share_the_directory) {
    TempDir t;
    Logs logs;
    Registry r({t / "state", 1000}, logs.fn());
    BOOST_CHECK_EXCEPTION(Registry({t / "state", 1000}, logs.fn()), crossover::Error,
                          [](const crossover::Error& e) {
                              return std::string(e.what()).find("in use") != std::string::npos;
                          });
}

BOOST_AUTO_TEST_CASE(a_torn_last_record_is_dropped_with_a_warning) {
    TempDir t;
    Logs logs;
    {
        Registry r({t / "state", 1000}, logs.fn());
        r.put(route("a", "a.org"), {});
    }
    const std::string whole = journal_bytes(t);
    // Half of a second record, as a crash in the middle of write(2) leaves it.
    const std::string next = frame_record(R"({"op":"delete","seq":2,"name":"a"})");
    append_raw(t, next.substr(0, next.size() / 2));
    {
        Registry r({t / "state", 1000}, logs.fn());
        BOOST_CHECK(logs.contains("dropped a torn last record"));
        BOOST_CHECK_EQUAL(r.view().routes.size(), 1U);
        // The file is cut back, and new writes follow the whole records.
        BOOST_CHECK_EQUAL(journal_bytes(t), whole);
        r.put(route("b", "b.org"), {});
    }
    Registry r({t / "state", 1000}, logs.fn());
    BOOST_CHECK_EQUAL(r.view().routes.size(), 2U);
}

BOOST_AUTO_TEST_CASE(corruption_in_the_middle_refuses_to_start) {
    TempDir t;
    Logs logs;
    {
        Registry r({t / "state", 1000}, logs.fn());
        r.put(route("a", "a.org"), {});
        r.put(route("b", "b.org"), {});
    }
    std::string bytes = journal_bytes(t);
    bytes[12] = static_cast<char>(bytes[12] ^ 0x20);
    crossover::test::write_text(t / "state/journal", bytes);
    BOOST_CHECK_EXCEPTION(Registry({t / "state", 1000}, logs.fn()), crossover::Error,
                          [](const crossover::Error& e) {
                              return std::string(e.what()).find("corrupt") != std::string::npos;
                          });
    // Nothing was thrown away.
    BOOST_CHECK_EQUAL(journal_bytes(t), bytes);
}

BOOST_AUTO_TEST_CASE(compaction_writes_a_snapshot_and_empties_the_journal) {
    TempDir t;
    Logs logs;
    {
        Registry r({t / "state", 5}, logs.fn());
        for (int i = 0; i < 12; ++i) {
            r.put(route("r" + std::to_string(i), "r" + std::to_string(i) + ".org"), {});
        }
        r.remove("r3", {});
    }
    BOOST_CHECK(std::filesystem::exists(t / "state/snapshot.json"));
    BOOST_CHECK_LT(std::filesystem::file_size(t / "state/journal"), 2000U);
    Registry r({t / "state", 5}, logs.fn());
    const View v = r.view();
    BOOST_CHECK_EQUAL(v.version, 13U);
    BOOST_CHECK_EQUAL(v.routes.size(), 11U);
    BOOST_CHECK(v.routes.count("r3") == 0);
}

BOOST_AUTO_TEST_CASE(records_already_in_the_snapshot_are_skipped) {
    // A crash between the snapshot's rename and the journal's truncation.
    TempDir t;
    Logs logs;
    std::string journal;
    {
        Registry r({t / "state", 1000}, logs.fn());
        r.put(route("a", "a.org"), {});
        r.put(route("b", "b.org"), {});
        journal = journal_bytes(t);
    }
    {
        Registry r({t / "state", 1}, logs.fn());
        r.put(route("c", "c.org"), {});  // compacts
    }
    append_raw(t, journal);  // the old records again, below the snapshot's version
    Registry r({t / "state", 1000}, logs.fn());
    BOOST_CHECK_EQUAL(r.view().routes.size(), 3U);
    BOOST_CHECK_EQUAL(r.view().version, 3U);
}

BOOST_AUTO_TEST_CASE(records_queued_together_share_one_fsync) {
    TempDir t;
    Logs logs;
    Recovered recovered;
    Journal j(t / "state", logs.fn(), recovered);
    for (std::uint64_t seq = 1; seq <= 10; ++seq) {
        j.append(seq, "record " + std::to_string(seq));
    }
    j.wait_durable(3);  // the leader takes every queued record
    BOOST_CHECK_EQUAL(j.fsync_count(), 1U);
    j.wait_durable(10);
    BOOST_CHECK_EQUAL(j.fsync_count(), 1U);
    BOOST_CHECK_EQUAL(read_records(journal_bytes(t)).records.size(), 10U);
}

BOOST_AUTO_TEST_CASE(concurrent_writers_share_fsyncs) {
    TempDir t;
    Logs logs;
    Registry r({t / "state", 100000}, logs.fn());
    constexpr int kThreads = 16;
    constexpr int kEach = 25;
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&, i] {
            for (int j = 0; j < kEach; ++j) {
                const std::string n = "t" + std::to_string(i) + "-" + std::to_string(j);
                r.put(route(n, n + ".org"), {});
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    BOOST_CHECK_EQUAL(r.view().routes.size(), static_cast<std::size_t>(kThreads * kEach));
    // Never more fsyncs than writes; with 16 writers at once, some are shared.
    BOOST_CHECK_LE(r.fsync_count(), static_cast<std::uint64_t>(kThreads * kEach));
    BOOST_TEST_MESSAGE("fsyncs for " << kThreads * kEach << " writes: " << r.fsync_count());
}

BOOST_AUTO_TEST_SUITE_END()
