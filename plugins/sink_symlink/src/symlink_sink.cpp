#include "symlink_sink.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <utility>

#include "crossover_envoy/xds.h"

namespace crossover::sink_symlink {

namespace {

// ---- small POSIX helpers ---------------------------------------------------

class Fd {
public:
    explicit Fd(int fd = -1) noexcept : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    [[nodiscard]] int get() const noexcept { return fd_; }
    [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
    int release() noexcept { return std::exchange(fd_, -1); }
    void reset() noexcept {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

private:
    int fd_;
};

std::string errno_text(int err) {
    return std::strerror(err);
}

std::string join(const std::string& a, const std::string& b) {
    if (a.empty()) {
        return b;
    }
    if (a.back() == '/') {
        return a + b;
    }
    return a + "/" + b;
}

bool starts_with(const std::string& s, const char* prefix) {
    return s.rfind(prefix, 0) == 0;
}

// Entries of a directory (without "." and ".."), by name.
std::vector<std::string> list_dir(int dirfd, int& err) {
    std::vector<std::string> names;
    err = 0;
    const int dup_fd = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0) {
        err = errno;
        return names;
    }
    DIR* d = ::fdopendir(dup_fd);
    if (d == nullptr) {
        err = errno;
        ::close(dup_fd);
        return names;
    }
    ::rewinddir(d);
    for (;;) {
        errno = 0;
        const dirent* e = ::readdir(d);
        if (e == nullptr) {
            err = errno;
            break;
        }
        const std::string name = e->d_name;
        if (name != "." && name != "..") {
            names.push_back(name);
        }
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
}

std::string to_hex(std::uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

bool from_hex(const std::string& s, std::uint64_t& out) {
    if (s.empty() || s.size() > 16) {
        return false;
    }
    std::uint64_t v = 0;
    for (const char c : s) {
        unsigned d = 0;
        if (c >= '0' && c <= '9') {
            d = static_cast<unsigned>(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            d = static_cast<unsigned>(c - 'a' + 10);
        } else {
            return false;
        }
        v = (v << 4u) | d;
    }
    out = v;
    return true;
}

bool from_dec(const std::string& s, std::uint64_t& out) {
    if (s.empty() || s.size() > 19) {
        return false;
    }
    std::uint64_t v = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    out = v;
    return true;
}

// Percent-encodes bytes that would break the one-line manifest format.
std::string escape_name(const std::string& name) {
    std::string out;
    for (const char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f || c == '%') {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02x", u);
            out += buf;
        } else {
            out += c;
        }
    }
    return out;
}

bool unescape_name(const std::string& text, std::string& out) {
    out.clear();
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        std::uint64_t v = 0;
        if (i + 2 >= text.size()) {
            return false;
        }
        if (!from_hex(text.substr(i + 1, 2), v)) {
            return false;
        }
        out += static_cast<char>(static_cast<unsigned char>(v));
        i += 2;
    }
    return true;
}

// Reads a whole file relative to dirfd. Returns false with errno set.
bool read_file_at(int dirfd, const std::string& name, std::string& out) {
    Fd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) {
        return false;
    }
    out.clear();
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        if (n == 0) {
            break;
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
    return true;
}

bool is_dir_at(int dirfd, const std::string& name) {
    struct stat st {};
    return ::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

// The version directory's hash: names, sizes and the contents' hashes (each
// content is hashed once, for the manifest).
std::uint64_t docs_hash(const std::vector<DocumentPtr>& docs,
                        const std::vector<std::uint64_t>& content_hashes) {
    std::uint64_t h = 14695981039346656037ull;
    for (std::size_t i = 0; i < docs.size(); ++i) {
        h = fnv1a(docs[i]->name, h);
        h = fnv1a(std::string(1, '\0'), h);
        h = fnv1a(std::to_string(docs[i]->content.size()), h);
        h = fnv1a(std::string(1, '\0'), h);
        h = fnv1a(to_hex(content_hashes[i]), h);
    }
    return h;
}

std::vector<std::string> name_tokens(const std::string& name) {
    std::vector<std::string> tokens;
    std::string cur;
    for (const char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) != 0) {
            cur += static_cast<char>(std::tolower(u));
        } else if (!cur.empty()) {
            tokens.push_back(cur);
            cur.clear();
        }
    }
    if (!cur.empty()) {
        tokens.push_back(cur);
    }
    return tokens;
}

}  // namespace

// ---- free functions ----------------------------------------------------------

const char* doc_class_name(DocClass c) noexcept {
    switch (c) {
        case DocClass::Cluster: return "clusters";
        case DocClass::Endpoint: return "endpoints";
        case DocClass::Neutral: return "other";
        case DocClass::Route: return "routes";
        case DocClass::Listener: return "listeners";
    }
    return "other";
}

std::uint64_t fnv1a(const std::string& data, std::uint64_t seed) {
    std::uint64_t h = seed;
    for (const char c : data) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ull;
    }
    return h;
}

DocClass classify(const std::string& name, const std::string& content) {
    bool cluster = false;
    bool endpoint = false;
    bool route = false;
    bool listener = false;
    std::size_t pos = 0;
    while ((pos = content.find("@type", pos)) != std::string::npos) {
        pos += 5;
        std::size_t i = pos;
        while (i < content.size() && (content[i] == '"' || content[i] == '\'')) {
            ++i;
        }
        while (i < content.size() && (content[i] == ' ' || content[i] == '\t')) {
            ++i;
        }
        if (i >= content.size() || content[i] != ':') {
            continue;
        }
        ++i;
        while (i < content.size() && (content[i] == ' ' || content[i] == '\t' ||
                                      content[i] == '"' || content[i] == '\'')) {
            ++i;
        }
        std::size_t end = i;
        while (end < content.size() && std::strchr(" \t\r\n\"',}]#", content[end]) == nullptr) {
            ++end;
        }
        switch (xds::type_info(std::string_view(content).substr(i, end - i)).kind) {
            case xds::ResourceKind::Cluster: cluster = true; break;
            case xds::ResourceKind::ClusterLoadAssignment: endpoint = true; break;
            case xds::ResourceKind::Listener: listener = true; break;
            case xds::ResourceKind::RouteConfiguration:
            case xds::ResourceKind::ScopedRouteConfiguration:
            case xds::ResourceKind::VirtualHost: route = true; break;
            case xds::ResourceKind::Secret:
            case xds::ResourceKind::Runtime:
            case xds::ResourceKind::Unknown: break;
        }
        pos = end;
    }
    const bool early = cluster || endpoint;
    const bool late = route || listener;
    if (early && !late) {
        return cluster ? DocClass::Cluster : DocClass::Endpoint;
    }
    if (late && !early) {
        return listener ? DocClass::Listener : DocClass::Route;
    }
    for (const auto& t : name_tokens(name)) {
        if (t == "cds" || t == "cluster" || t == "clusters") {
            return DocClass::Cluster;
        }
        if (t == "eds" || t == "endpoint" || t == "endpoints") {
            return DocClass::Endpoint;
        }
        if (t == "rds" || t == "route" || t == "routes") {
            return DocClass::Route;
        }
        if (t == "lds" || t == "listener" || t == "listeners") {
            return DocClass::Listener;
        }
    }
    return DocClass::Neutral;
}

std::string unsafe_name_reason(const std::string& name) {
    if (name.empty()) {
        return "the name is empty";
    }
    if (name == "." || name == "..") {
        return "'" + name + "' names a directory";
    }
    if (name.find('\0') != std::string::npos) {
        return "the name contains a NUL byte";
    }
    if (name.find('/') != std::string::npos) {
        return "the name contains '/'";
    }
    if (name[0] == '.') {
        return "the name starts with '.' (reserved for the sink's own files)";
    }
    if (name.size() > 255) {
        return "the name is longer than 255 bytes";
    }
    return {};
}

std::uint64_t manifest_hash(const std::string& content, int format) {
    return format == 1 ? fnv1a(content) : chunked_hash(content).hash;
}

std::string format_manifest(const std::vector<ManifestEntry>& entries, int format) {
    std::string out = "crossover-manifest " + std::to_string(format) + "\n";
    for (const auto& e : entries) {
        out += std::to_string(e.size);
        out += ' ';
        out += to_hex(e.hash);
        out += ' ';
        out += escape_name(e.name);
        out += '\n';
    }
    out += "end " + std::to_string(entries.size()) + "\n";
    return out;
}

bool parse_manifest(const std::string& text, std::vector<ManifestEntry>& out, int* format) {
    out.clear();
    std::size_t pos = 0;
    bool first = true;
    while (pos < text.size()) {
        const std::size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) {
            return false;  // every line, the last included, ends with a newline
        }
        const std::string line = text.substr(pos, nl - pos);
        pos = nl + 1;
        if (first) {
            // Format 1 as the releases before format 2 wrote it, so that their output
            // directories are picked up on upgrade.
            if (line != "crossover-manifest 1" && line != "crossover-manifest 2") {
                return false;
            }
            if (format != nullptr) {
                *format = line.back() - '0';
            }
            first = false;
            continue;
        }
        if (starts_with(line, "end ")) {
            std::uint64_t count = 0;
            return from_dec(line.substr(4), count) && count == out.size() && pos == text.size();
        }
        const std::size_t s1 = line.find(' ');
        const std::size_t s2 = s1 == std::string::npos ? s1 : line.find(' ', s1 + 1);
        if (s2 == std::string::npos) {
            return false;
        }
        ManifestEntry e;
        if (!from_dec(line.substr(0, s1), e.size) ||
            !from_hex(line.substr(s1 + 1, s2 - s1 - 1), e.hash) ||
            !unescape_name(line.substr(s2 + 1), e.name) || !unsafe_name_reason(e.name).empty()) {
            return false;
        }
        out.push_back(std::move(e));
    }
    return false;
}

bool parse_version_name(const std::string& name, std::uint64_t& counter) {
    // .v-<decimal counter>-<16 hex digits>
    if (!starts_with(name, ".v-")) {
        return false;
    }
    const std::size_t dash = name.find('-', 3);
    if (dash == std::string::npos) {
        return false;
    }
    std::uint64_t hash = 0;
    const std::string hex = name.substr(dash + 1);
    return hex.size() == 16 && from_hex(hex, hash) && from_dec(name.substr(3, dash - 3), counter);
}

// ---- the sink ----------------------------------------------------------------

SymlinkSink::SymlinkSink(const ComponentConfig& config, const SymlinkOptions& options)
    : prefix_((config.path.empty() ? config.name : config.path) + ": "),
      config_(config),
      dir_(options.dir),
      mode_(options.mode == "rename" ? Mode::Rename : Mode::Symlink),
      keep_(options.keep),
      file_mode_(static_cast<mode_t>(checks::parse_octal_mode(options.file_mode))),
      fsync_(options.fsync),
      allow_empty_(options.allow_empty),
      remover_([this](const std::string& warning) { config_.log(LogLevel::Warn, warning); }) {
    while (dir_.size() > 1 && dir_.back() == '/') {
        dir_.pop_back();
    }
}

SymlinkSink::~SymlinkSink() {
    // Old versions are removed under the lock, so that the next writer finds them gone.
    remover_.wait_idle();
    if (lock_fd_ >= 0) {
        ::close(lock_fd_);
    }
}

void SymlinkSink::fail(const std::string& message) const {
    throw Error(prefix_ + message);
}

void SymlinkSink::fail_errno(const std::string& what, const std::string& path) const {
    const int err = errno;
    throw Error(prefix_ + "cannot " + what + " " + path + ": " + errno_text(err));
}

namespace {

// Returns 0 or an errno value.
int write_all(int fd, const std::string& content) {
    const char* p = content.data();
    std::size_t left = content.size();
    while (left > 0) {
        const ssize_t n = ::write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    return 0;
}

// Creates `name` in dirfd (which must not exist) with exactly `content`;
// returns 0 or an errno value.
int create_file_at(int dirfd, const std::string& name, const std::string& content, mode_t mode,
                   bool sync) {
    Fd fd(
        ::openat(dirfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
    if (!fd.valid()) {
        return errno;
    }
    if (::fchmod(fd.get(), mode) != 0) {
        return errno;
    }
    if (const int err = write_all(fd.get(), content); err != 0) {
        return err;
    }
    if (sync && ::fsync(fd.get()) != 0) {
        return errno;
    }
    if (::close(fd.release()) != 0) {
        return errno;
    }
    return 0;
}

}  // namespace

void SymlinkSink::lock() {
    const std::string path = join(dir_, kLockFile);
    if (lock_fd_ >= 0) {
        // Still the lock file in DIR (and not one removed with it)?
        struct stat held {};
        struct stat now {};
        if (::fstat(lock_fd_, &held) == 0 && ::stat(path.c_str(), &now) == 0 &&
            held.st_dev == now.st_dev && held.st_ino == now.st_ino) {
            return;
        }
        ::close(lock_fd_);
        lock_fd_ = -1;
    }
    // Read-only: flock() needs no write access, and a file held open for writing
    // would keep the output file system from being remounted read-only (EBUSY).
    Fd fd(::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!fd.valid()) {
        fail_errno("open lock file", path);
    }
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            fail("another process is writing to " + dir_ + " (it holds the lock " + path + ")");
        }
        fail_errno("lock", path);
    }
    lock_fd_ = fd.release();
}

void SymlinkSink::prepare() {
    // The directory is looked at afresh: nothing may be half removed meanwhile.
    remover_.wait_idle();
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) {
        fail("cannot create directory " + dir_ + ": " + ec.message());
    }
    lock();
    if (mode_ == Mode::Symlink) {
        prepare_symlink();
    } else {
        prepare_rename();
    }
    prepared_ = true;
}

std::vector<SymlinkSink::Version> SymlinkSink::list_versions(int dirfd) const {
    int err = 0;
    std::vector<Version> out;
    for (const auto& name : list_dir(dirfd, err)) {
        Version v;
        if (parse_version_name(name, v.counter) && !remover_.retiring(name) &&
            is_dir_at(dirfd, name)) {
            v.name = name;
            out.push_back(std::move(v));
        }
    }
    if (err != 0) {
        errno = err;
        fail_errno("list", dir_);
    }
    std::sort(out.begin(), out.end(),
              [](const Version& a, const Version& b) { return a.counter < b.counter; });
    return out;
}

// Loads a version directory into state_ when it is complete (manifest
// present and every file matching it). Returns false otherwise.
bool SymlinkSink::load_version(int dirfd, const std::string& version) {
    Fd vfd(::openat(dirfd, version.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!vfd.valid()) {
        return false;
    }
    std::string text;
    std::vector<ManifestEntry> entries;
    int format = 0;
    if (!read_file_at(vfd.get(), kManifest, text) || !parse_manifest(text, entries, &format)) {
        return false;
    }
    std::map<std::string, DocumentPtr> loaded;
    for (const auto& e : entries) {
        auto doc = std::make_shared<Document>();
        doc->name = e.name;
        doc->origin = ObjectRef{"File", "", join(join(dir_, version), e.name), ""};
        if (!read_file_at(vfd.get(), e.name, doc->content) || doc->content.size() != e.size ||
            manifest_hash(doc->content, format) != e.hash) {
            return false;
        }
        loaded[e.name] = std::move(doc);
    }
    state_ = std::move(loaded);
    return true;
}

void SymlinkSink::prepare_symlink() {
    Fd dirfd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dirfd.valid()) {
        fail_errno("open directory", dir_);
    }
    int err = 0;
    const auto names = list_dir(dirfd.get(), err);
    if (err != 0) {
        errno = err;
        fail_errno("list", dir_);
    }
    // Temporary symlinks of an interrupted swap.
    for (const auto& name : names) {
        if (starts_with(name, kTempLinkPrefix)) {
            if (::unlinkat(dirfd.get(), name.c_str(), 0) != 0 && errno != ENOENT) {
                fail_errno("remove leftover", join(dir_, name));
            }
            config_.log(LogLevel::Info, "removed leftover " + join(dir_, name));
        }
    }
    // What `current` points to, if it is a complete version.
    const std::string current_path = join(dir_, kCurrent);
    struct stat st {};
    current_version_.clear();
    known_ = false;
    state_.clear();
    if (::fstatat(dirfd.get(), kCurrent, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (!S_ISLNK(st.st_mode)) {
            fail(current_path +
                 " exists and is not a symlink (written with mode: rename?); remove it or use "
                 "mode: rename");
        }
        char buf[4096];
        const ssize_t n = ::readlinkat(dirfd.get(), kCurrent, buf, sizeof buf - 1);
        if (n < 0) {
            fail_errno("read symlink", current_path);
        }
        const std::string target(buf, static_cast<std::size_t>(n));
        std::uint64_t counter = 0;
        if (parse_version_name(target, counter) && load_version(dirfd.get(), target)) {
            current_version_ = target;
            known_ = true;
        } else {
            state_.clear();
            config_.log(LogLevel::Warn,
                        current_path + " points to '" + target +
                            "', not a complete version: the next write replaces it");
        }
    } else if (errno != ENOENT) {
        fail_errno("inspect", current_path);
    }
    // Incomplete versions (an interrupted write) are removed; complete ones
    // are kept for pruning.
    std::uint64_t max_counter = 0;
    for (const auto& v : list_versions(dirfd.get())) {
        max_counter = std::max(max_counter, v.counter);
        if (v.name == current_version_) {
            continue;
        }
        Fd vfd(::openat(dirfd.get(), v.name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        std::string text;
        std::vector<ManifestEntry> entries;
        if (vfd.valid() && read_file_at(vfd.get(), kManifest, text) &&
            parse_manifest(text, entries)) {
            continue;
        }
        std::error_code ec;
        std::filesystem::remove_all(join(dir_, v.name), ec);
        if (ec) {
            fail("cannot remove incomplete version " + join(dir_, v.name) + ": " + ec.message());
        }
        config_.log(LogLevel::Info, "removed incomplete version " + join(dir_, v.name));
    }
    next_counter_ = max_counter + 1;
    prune(dirfd.get());
}

void SymlinkSink::prepare_rename() {
    const std::string current_path = join(dir_, kCurrent);
    struct stat st {};
    if (::lstat(current_path.c_str(), &st) == 0) {
        if (S_ISLNK(st.st_mode)) {
            fail(current_path +
                 " is a symlink (written with mode: symlink?); remove it or use mode: symlink");
        }
        if (!S_ISDIR(st.st_mode)) {
            fail(current_path + " exists and is not a directory");
        }
    } else if (errno == ENOENT) {
        if (::mkdir(current_path.c_str(), 0755) != 0 && errno != EEXIST) {
            fail_errno("create directory", current_path);
        }
        if (fsync_) {
            Fd dirfd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
            if (!dirfd.valid() || ::fsync(dirfd.get()) != 0) {
                fail_errno("flush directory", dir_);
            }
        }
    } else {
        fail_errno("inspect", current_path);
    }
    Fd curfd(::open(current_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!curfd.valid()) {
        fail_errno("open directory", current_path);
    }
    int err = 0;
    const auto names = list_dir(curfd.get(), err);
    if (err != 0) {
        errno = err;
        fail_errno("list", current_path);
    }
    state_.clear();
    for (const auto& name : names) {
        const std::string path = join(current_path, name);
        if (starts_with(name, kTempFilePrefix)) {
            if (::unlinkat(curfd.get(), name.c_str(), 0) != 0 && errno != ENOENT) {
                fail_errno("remove leftover", path);
            }
            config_.log(LogLevel::Info, "removed leftover " + path);
            continue;
        }
        if (name[0] == '.') {
            continue;
        }
        if (::fstatat(curfd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            fail_errno("inspect", path);
        }
        if (!S_ISREG(st.st_mode)) {
            continue;
        }
        auto doc = std::make_shared<Document>();
        doc->name = name;
        doc->origin = ObjectRef{"File", "", path, ""};
        if (!read_file_at(curfd.get(), name, doc->content)) {
            fail_errno("read", path);
        }
        state_[name] = std::move(doc);
    }
    known_ = true;
}

// Cheap check that the output was not removed or replaced behind our back
// since the last write (then the directory is scanned again).
bool SymlinkSink::still_in_place() const {
    const std::string current_path = join(dir_, kCurrent);
    if (mode_ == Mode::Rename) {
        struct stat st {};
        return ::lstat(current_path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    }
    if (current_version_.empty()) {
        return true;
    }
    char buf[4096];
    const ssize_t n = ::readlink(current_path.c_str(), buf, sizeof buf);
    return n >= 0 && std::string(buf, static_cast<std::size_t>(n)) == current_version_ &&
           ::access(join(join(dir_, current_version_), kManifest).c_str(), F_OK) == 0;
}

ChunkedHash SymlinkSink::content_hash(const DocumentPtr& d) const {
    // A canary step rewrites a few bytes of one document: the others are the very objects
    // (or the same bytes) written last time, and in the changed one only the chunks around
    // the change are hashed again.
    const auto it = hashed_.find(d->name);
    if (it == hashed_.end()) {
        return chunked_hash(d->content);
    }
    if (it->second.doc == d || it->second.doc->content == d->content) {
        return it->second.hash;
    }
    return chunked_hash(d->content, &it->second.doc->content, &it->second.hash);
}

bool SymlinkSink::same_as_state(const std::vector<DocumentPtr>& docs) const {
    if (!known_ || docs.size() != state_.size()) {
        return false;
    }
    for (const auto& d : docs) {
        const auto it = state_.find(d->name);
        if (it == state_.end()) {
            return false;
        }
        if (it->second != d && it->second->content != d->content) {
            return false;
        }
    }
    return true;
}

void SymlinkSink::prune(int dirfd) {
    // Keep the current version and the newest others up to `keep` in all.
    std::int64_t others = current_version_.empty() ? keep_ : keep_ - 1;
    const auto versions = list_versions(dirfd);
    for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
        if (it->name == current_version_) {
            continue;
        }
        if (others > 0) {
            --others;
            continue;
        }
        // Off the write path: `current` no longer points there (see VersionRemover).
        remover_.remove(dir_, it->name);
    }
}

// A file is never changed once its version is complete, so a version whose document is the
// same as in the current one can share the current one's file (a hard link) instead of a
// copy: no new inode, no data written, and removing the older version only drops a link.
// Only for files this process wrote into the current version (same bytes, same mode); a size
// that is not the document's (the file was changed behind the sink's back) writes a copy.
bool SymlinkSink::link_unchanged(int dirfd, int vfd, const DocumentPtr& d) const {
    if (current_version_.empty() || hashed_version_ != current_version_) {
        return false;
    }
    const auto it = hashed_.find(d->name);
    if (it == hashed_.end() || (it->second.doc != d && it->second.doc->content != d->content)) {
        return false;
    }
    const std::string from = current_version_ + "/" + d->name;
    struct stat st {};
    if (::fstatat(dirfd, from.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
        static_cast<std::uint64_t>(st.st_size) != d->content.size()) {
        return false;
    }
    return ::linkat(dirfd, from.c_str(), vfd, d->name.c_str(), 0) == 0;
}

void SymlinkSink::write_version(const std::vector<DocumentPtr>& docs) {
    Fd dirfd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dirfd.valid()) {
        fail_errno("open directory", dir_);
    }
    const std::uint64_t counter = next_counter_++;
    std::vector<ChunkedHash> chunked;
    std::vector<std::uint64_t> hashes;
    chunked.reserve(docs.size());
    hashes.reserve(docs.size());
    for (const auto& d : docs) {
        chunked.push_back(content_hash(d));
        hashes.push_back(chunked.back().hash);
    }
    char vbuf[64];
    std::snprintf(vbuf, sizeof vbuf, ".v-%08llu-", static_cast<unsigned long long>(counter));
    const std::string version = std::string(vbuf) + to_hex(docs_hash(docs, hashes));
    const std::string vpath = join(dir_, version);
    const std::string tmp_link =
        std::string(kTempLinkPrefix) + std::to_string(::getpid()) + "-" + std::to_string(counter);

    auto cleanup = [&]() {
        std::error_code ec;
        std::filesystem::remove_all(vpath, ec);
        ::unlinkat(dirfd.get(), tmp_link.c_str(), 0);
    };
    try {
        if (::mkdirat(dirfd.get(), version.c_str(), 0755) != 0) {
            fail_errno("create directory", vpath);
        }
        Fd vfd(::openat(dirfd.get(), version.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!vfd.valid()) {
            fail_errno("open directory", vpath);
        }
        std::vector<ManifestEntry> entries;
        const bool batch = fsync_ && docs.size() > kSyncfsThreshold;
        for (std::size_t i = 0; i < docs.size(); ++i) {
            const DocumentPtr& d = docs[i];
            int err = 0;
            if (link_unchanged(dirfd.get(), vfd.get(), d)) {
                // Its data is on disk since its first version; the link count is flushed
                // with the file (or by the batch's syncfs).
                if (fsync_ && !batch) {
                    const Fd linked(
                        ::openat(vfd.get(), d->name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
                    if (!linked.valid() || ::fsync(linked.get()) != 0) {
                        err = errno;
                    }
                }
            } else {
                err = create_file_at(vfd.get(), d->name, d->content, file_mode_, fsync_ && !batch);
            }
            if (err != 0) {
                errno = err;
                fail_errno("write " + d->origin.describe() + " document '" + d->name + "' to",
                           join(vpath, d->name));
            }
            entries.push_back(ManifestEntry{d->name, d->content.size(), hashes[i]});
        }
        // Every file is on disk before the manifest that declares them complete.
        if (batch && ::syncfs(vfd.get()) != 0) {
            fail_errno("flush the file system of", vpath);
        }
        // The manifest, written last, marks the version complete.
        const int err =
            create_file_at(vfd.get(), kManifest, format_manifest(entries), 0644, fsync_);
        if (err != 0) {
            errno = err;
            fail_errno("write", join(vpath, kManifest));
        }
        if (fsync_ && ::fsync(vfd.get()) != 0) {
            fail_errno("flush directory", vpath);
        }
        if (fsync_ && ::fsync(dirfd.get()) != 0) {
            fail_errno("flush directory", dir_);
        }
        // A leftover of the same name (another process with this pid and counter, which
        // prepare() did not see) is removed only when it is there: one call less per version.
        if (::symlinkat(version.c_str(), dirfd.get(), tmp_link.c_str()) != 0 &&
            (errno != EEXIST || ::unlinkat(dirfd.get(), tmp_link.c_str(), 0) != 0 ||
             ::symlinkat(version.c_str(), dirfd.get(), tmp_link.c_str()) != 0)) {
            fail_errno("create symlink", join(dir_, tmp_link));
        }
        if (::renameat(dirfd.get(), tmp_link.c_str(), dirfd.get(), kCurrent) != 0) {
            fail_errno("rename " + join(dir_, tmp_link) + " to", join(dir_, kCurrent));
        }
    } catch (...) {
        cleanup();
        throw;
    }
    // `current` now points to the new version.
    current_version_ = version;
    state_.clear();
    hashed_.clear();
    hashed_version_ = version;
    for (std::size_t i = 0; i < docs.size(); ++i) {
        state_[docs[i]->name] = docs[i];
        hashed_[docs[i]->name] = Hashed{docs[i], std::move(chunked[i])};
    }
    known_ = true;
    if (fsync_ && ::fsync(dirfd.get()) != 0) {
        fail_errno("flush directory", dir_);
    }
    config_.log(LogLevel::Info,
                "wrote " + std::to_string(docs.size()) + " files to " + vpath + " (now current)");
    try {
        prune(dirfd.get());
    } catch (const std::exception& e) {
        config_.log(LogLevel::Warn, e.what());
    }
}

void SymlinkSink::write_renames(const std::vector<DocumentPtr>& docs, bool& changed) {
    changed = false;
    const std::string current_path = join(dir_, kCurrent);
    struct Change {
        DocClass cls;
        DocumentPtr doc;
        std::string temp;
    };
    std::vector<Change> writes;
    std::vector<Change> removals;
    std::set<std::string> wanted;
    for (const auto& d : docs) {
        wanted.insert(d->name);
        const auto it = state_.find(d->name);
        if (it != state_.end() && (it->second == d || it->second->content == d->content)) {
            continue;
        }
        writes.push_back(Change{classify(d->name, d->content), d, {}});
    }
    for (const auto& [name, doc] : state_) {
        if (wanted.count(name) == 0) {
            removals.push_back(Change{classify(name, doc->content), doc, {}});
        }
    }
    if (writes.empty() && removals.empty()) {
        return;
    }
    // Clusters and endpoints before routes and listeners when adding; the
    // reverse when removing.
    std::stable_sort(writes.begin(), writes.end(), [](const Change& a, const Change& b) {
        return a.cls != b.cls ? a.cls < b.cls : a.doc->name < b.doc->name;
    });
    std::stable_sort(removals.begin(), removals.end(), [](const Change& a, const Change& b) {
        return a.cls != b.cls ? a.cls > b.cls : a.doc->name < b.doc->name;
    });

    Fd curfd(::open(current_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!curfd.valid()) {
        fail_errno("open directory", current_path);
    }
    // Phase 1: every new content into a temporary file beside its final name.
    // A failure here leaves the previous output untouched.
    std::size_t next = 0;
    const bool batch = fsync_ && writes.size() > kSyncfsThreshold;
    try {
        for (auto& w : writes) {
            w.temp = std::string(kTempFilePrefix) + std::to_string(::getpid()) + "-" +
                     std::to_string(++temp_seq_);
            ::unlinkat(curfd.get(), w.temp.c_str(), 0);
            const int err =
                create_file_at(curfd.get(), w.temp, w.doc->content, file_mode_, fsync_ && !batch);
            if (err != 0) {
                errno = err;
                fail_errno(
                    "write " + w.doc->origin.describe() + " document '" + w.doc->name + "' to",
                    join(current_path, w.temp));
            }
        }
        if (batch && ::syncfs(curfd.get()) != 0) {
            fail_errno("flush the file system of", current_path);
        }
        // Phase 2: rename each onto its name, in order.
        for (; next < writes.size(); ++next) {
            const auto& w = writes[next];
            if (::renameat(curfd.get(), w.temp.c_str(), curfd.get(), w.doc->name.c_str()) != 0) {
                fail_errno("rename " + join(current_path, w.temp) + " to",
                           join(current_path, w.doc->name));
            }
            state_[w.doc->name] = w.doc;
            changed = true;
        }
    } catch (...) {
        for (std::size_t i = next; i < writes.size(); ++i) {
            if (!writes[i].temp.empty()) {
                ::unlinkat(curfd.get(), writes[i].temp.c_str(), 0);
            }
        }
        throw;
    }
    // Phase 3: files no longer in the input.
    for (const auto& r : removals) {
        if (::unlinkat(curfd.get(), r.doc->name.c_str(), 0) != 0 && errno != ENOENT) {
            fail_errno("remove", join(current_path, r.doc->name));
        }
        state_.erase(r.doc->name);
        changed = true;
    }
    if (fsync_ && ::fsync(curfd.get()) != 0) {
        fail_errno("flush directory", current_path);
    }
    config_.log(LogLevel::Info, "renamed " + std::to_string(writes.size()) + " and removed " +
                                    std::to_string(removals.size()) + " files in " + current_path);
}

Status SymlinkSink::write(const Snapshot& snapshot, WriteOutcome& outcome) noexcept {
    outcome = WriteOutcome::Unchanged;
    return guard([&]() -> Status {
        if (!snapshot.complete) {
            std::string why;
            for (const auto& m : snapshot.missing) {
                why += why.empty() ? "" : "; ";
                why += m;
            }
            fail("input is incomplete" + (why.empty() ? std::string() : " (" + why + ")") +
                 "; nothing written, previous output left in place");
        }
        std::vector<DocumentPtr> docs;
        docs.reserve(snapshot.documents.size());
        for (const auto& d : snapshot.documents) {
            if (!d) {
                continue;
            }
            const std::string reason = unsafe_name_reason(d->name);
            if (!reason.empty()) {
                std::string shown = d->name;
                std::replace(shown.begin(), shown.end(), '\0', '?');
                fail("document '" + shown + "' from " + d->origin.describe() +
                     " is not a safe file name: " + reason + "; nothing written");
            }
            docs.push_back(d);
        }
        if (docs.empty() && !allow_empty_) {
            // Envoy would lose every listener, route and cluster at once: an
            // emptied input (a deleted file, a half-saved manifest) is never
            // what the user meant.
            fail(
                "the output is empty (no documents); nothing written, previous output left in "
                "place (set allow_empty: true to write an empty output)");
        }
        std::sort(docs.begin(), docs.end(),
                  [](const DocumentPtr& a, const DocumentPtr& b) { return a->name < b->name; });
        for (std::size_t i = 1; i < docs.size(); ++i) {
            if (docs[i]->name == docs[i - 1]->name) {
                fail("document '" + docs[i]->name + "' comes from both " +
                     docs[i - 1]->origin.describe() + " and " + docs[i]->origin.describe() +
                     "; nothing written");
            }
        }
        bool changed = false;
        try {
            if (!prepared_ || !still_in_place()) {
                prepare();
            }
            if (mode_ == Mode::Symlink) {
                if (!same_as_state(docs)) {
                    write_version(docs);
                    changed = true;
                }
            } else {
                write_renames(docs, changed);
            }
        } catch (...) {
            // Look at the directory afresh next time: someone may have
            // removed or changed it under us.
            prepared_ = false;
            if (changed) {
                outcome = WriteOutcome::Written;
            }
            throw;
        }
        if (changed) {
            outcome = WriteOutcome::Written;
        }
        return Status::ok();
    });
}

// ---- plugin descriptor ---------------------------------------------------------

namespace {
const OptionTable<SymlinkOptions> kOptions{
    option("dir", &SymlinkOptions::dir,
           "Output directory (created if missing); Envoy reads DIR/current/<file>.")
        .required()
        .path()
        .check(checks::not_empty),
    option("mode", &SymlinkOptions::mode,
           "symlink: swap a complete version directory in via the DIR/current symlink; rename: "
           "rename each file into the real directory DIR/current.")
        .choices({"symlink", "rename"}),
    option("keep", &SymlinkOptions::keep,
           "Symlink mode: how many version directories to keep, the current one included.")
        .at_least(1),
    option("file_mode", &SymlinkOptions::file_mode, "Permissions of the written files, in octal.")
        .check(checks::octal_mode),
    option("fsync", &SymlinkOptions::fsync,
           "Flush files and directories to stable storage before swapping (turn off only on "
           "tmpfs)."),
    option("allow_empty", &SymlinkOptions::allow_empty,
           "Write an output of no documents; refused by default, as an emptied input is a "
           "mistake."),
};
}  // namespace

}  // namespace crossover::sink_symlink

CROSSOVER_PLUGIN(crossover::Kind::Sink, crossover::sink_symlink::SymlinkSink, "symlink",
                 "Writes the documents as files under a directory Envoy watches and swaps them in "
                 "atomically: a complete version directory behind the DIR/current symlink (mode "
                 "symlink), or one rename(2) per file in dependency order (mode rename).",
                 crossover::sink_symlink::kOptions)
