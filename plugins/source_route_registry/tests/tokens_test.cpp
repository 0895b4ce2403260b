// Bearer tokens: parsing, access, and re-reading the file when it changes.
#include <boost/test/unit_test.hpp>

#include "crossover/status.h"
#include "process.h"
#include "tokens.h"

using namespace crossover::route_registry;
using crossover::test::TempDir;
using crossover::test::write_text;

namespace {

TokenFile::LogFn quiet() {
    return [](crossover::LogLevel, std::string_view) {};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tokens)

BOOST_AUTO_TEST_CASE(tokens_give_their_caller_and_access) {
    TempDir t;
    write_text(t / "tokens",
               "# comment\n\n0123456789abcdef0 pod-manager write\n"
               "fedcba98765432100 dashboard read\n"
               "aaaaaaaaaaaaaaaaa defaulted\n");
    TokenFile f(t / "tokens", quiet());
    const auto writer = f.authenticate("0123456789abcdef0");
    BOOST_REQUIRE(writer);
    BOOST_CHECK_EQUAL(writer->who, "pod-manager");
    BOOST_CHECK(writer->access == Access::Write);
    BOOST_CHECK(f.authenticate("fedcba98765432100")->access == Access::Read);
    BOOST_CHECK(f.authenticate("aaaaaaaaaaaaaaaaa")->access == Access::Write);
    BOOST_CHECK(!f.authenticate("0123456789abcdef"));  // a prefix
    BOOST_CHECK(!f.authenticate("0123456789abcdef00"));
    BOOST_CHECK(!f.authenticate(""));
}

BOOST_AUTO_TEST_CASE(bad_files_are_refused_naming_the_line) {
    TempDir t;
    const auto refused = [&](const std::string& text, const std::string& part) {
        write_text(t / "tokens", text);
        try {
            TokenFile f(t / "tokens", quiet());
            BOOST_ERROR("accepted: " + text);
        } catch (const crossover::Error& e) {
            BOOST_CHECK_MESSAGE(std::string(e.what()).find(part) != std::string::npos, e.what());
        }
    };
    refused("short who\n", ":1: token of who is shorter than 16");
    refused("# only a comment\n", "no token");
    refused("0123456789abcdef0\n", ":1: expected 'TOKEN NAME [read|write]'");
    refused("\n0123456789abcdef0 who admin\n", ":2: access 'admin'");
    BOOST_CHECK_THROW(TokenFile(t / "missing", quiet()), crossover::Error);
}

BOOST_AUTO_TEST_CASE(the_file_is_reread_when_it_changes) {
    TempDir t;
    write_text(t / "tokens", "0123456789abcdef0 first\n");
    TokenFile f(t / "tokens", quiet());
    BOOST_CHECK(f.authenticate("0123456789abcdef0"));
    write_text(t / "tokens", "1123456789abcdef0 second\n");  // by rename: a new inode
    BOOST_CHECK(!f.authenticate("0123456789abcdef0"));
    BOOST_CHECK_EQUAL(f.authenticate("1123456789abcdef0")->who, "second");
    // An invalid file keeps the last good tokens.
    write_text(t / "tokens", "bad\n");
    BOOST_CHECK_EQUAL(f.authenticate("1123456789abcdef0")->who, "second");
}

BOOST_AUTO_TEST_SUITE_END()
