#include "tokens.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include <Poco/SHA2Engine.h>

#include "crossover/status.h"

namespace crossover::route_registry {

namespace {

constexpr std::size_t kMinTokenLength = 16;

bool stat_file(const std::string& path, ino_t& inode, off_t& size, timespec& mtime) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return false;
    }
    inode = st.st_ino;
    size = st.st_size;
    mtime = st.st_mtim;
    return true;
}

}  // namespace

std::array<unsigned char, 32> sha256(std::string_view data) {
    Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
    engine.update(data.data(), static_cast<unsigned>(data.size()));
    const Poco::DigestEngine::Digest& d = engine.digest();
    std::array<unsigned char, 32> out{};
    for (std::size_t i = 0; i < out.size() && i < d.size(); ++i) {
        out[i] = d[i];
    }
    return out;
}

TokenFile::TokenFile(std::string path, LogFn log) : path_(std::move(path)), log_(std::move(log)) {
    if (!stat_file(path_, stamp_.inode, stamp_.size, stamp_.mtime)) {
        throw Error("token_file " + path_ + ": cannot read it");
    }
    std::ifstream in(path_, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    entries_ = parse(text.str());
}

std::vector<TokenFile::Entry> TokenFile::parse(const std::string& text) const {
    std::vector<Entry> out;
    std::istringstream lines(text);
    std::string line;
    int number = 0;
    while (std::getline(lines, line)) {
        ++number;
        const std::string where = "token_file " + path_ + ":" + std::to_string(number) + ": ";
        std::istringstream fields(line);
        std::string token;
        std::string who;
        std::string access;
        std::string extra;
        if (!(fields >> token) || token[0] == '#') {
            continue;
        }
        if (!(fields >> who)) {
            throw Error(where + "expected 'TOKEN NAME [read|write]'");
        }
        fields >> access;
        if (fields >> extra) {
            throw Error(where + "unexpected '" + extra + "' after the access");
        }
        if (token.size() < kMinTokenLength) {
            throw Error(where + "token of " + who + " is shorter than " +
                        std::to_string(kMinTokenLength) + " characters");
        }
        Entry e;
        e.digest = sha256(token);
        e.caller.who = who;
        if (access.empty() || access == "write") {
            e.caller.access = Access::Write;
        } else if (access == "read") {
            e.caller.access = Access::Read;
        } else {
            throw Error(where + "access '" + access + "': expected read or write");
        }
        out.push_back(std::move(e));
    }
    if (out.empty()) {
        throw Error("token_file " + path_ + ": no token");
    }
    return out;
}

void TokenFile::reload_if_changed() {
    Stamp now;
    if (!stat_file(path_, now.inode, now.size, now.mtime)) {
        if (stamp_.size != -2) {
            log_(LogLevel::Error,
                 "token_file " + path_ + ": cannot read it; keeping the last tokens");
            stamp_.size = -2;
        }
        return;
    }
    if (now == stamp_) {
        return;
    }
    stamp_ = now;
    std::ifstream in(path_, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    try {
        entries_ = parse(text.str());
        log_(LogLevel::Info,
             "token_file " + path_ + ": loaded " + std::to_string(entries_.size()) + " tokens");
    } catch (const Error& e) {
        log_(LogLevel::Error, std::string(e.what()) + "; keeping the last tokens");
    }
}

std::optional<Caller> TokenFile::authenticate(std::string_view token) {
    const std::lock_guard<std::mutex> lock(mutex_);
    reload_if_changed();
    if (token.empty()) {
        return std::nullopt;
    }
    const auto digest = sha256(token);
    const Entry* found = nullptr;
    for (const auto& e : entries_) {
        unsigned char diff = 0;
        for (std::size_t i = 0; i < digest.size(); ++i) {
            diff = static_cast<unsigned char>(diff | (digest[i] ^ e.digest[i]));
        }
        // No early exit: every entry is compared.
        if (diff == 0 && found == nullptr) {
            found = &e;
        }
    }
    if (found == nullptr) {
        return std::nullopt;
    }
    return found->caller;
}

}  // namespace crossover::route_registry
