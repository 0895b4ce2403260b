// The `symlink` sink: writes documents as files Envoy reads, swapped
// atomically (a version directory behind a `current` symlink), or renamed one
// by one into a real directory in dependency order.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "content_hash.h"
#include "crossover/sdk.h"
#include "version_remover.h"

namespace crossover::sink_symlink {

enum class Mode { Symlink, Rename };

// The sink's options, as its option table decodes them.
struct SymlinkOptions {
    std::string dir;
    std::string mode = "symlink";
    std::int64_t keep = 2;
    std::string file_mode = "0644";
    bool fsync = true;
    bool allow_empty = false;
};

// What a document holds, as far as write order is concerned. The numeric
// order is the order files are added in rename mode; removals go in reverse.
enum class DocClass { Cluster = 0, Endpoint = 1, Neutral = 2, Route = 3, Listener = 4 };

const char* doc_class_name(DocClass c) noexcept;

// Classifies a document by the `@type` of its resources (Envoy v2 and v3
// type names), falling back to hints in the file name (cds, eds, rds, lds,
// cluster, endpoint, route, listener), else Neutral.
DocClass classify(const std::string& name, const std::string& content);

// Empty when `name` is a safe file name, else why it is not.
std::string unsafe_name_reason(const std::string& name);

// 64-bit FNV-1a: names version directories; manifest format 1's content hash.
std::uint64_t fnv1a(const std::string& data, std::uint64_t seed = 14695981039346656037ull);

// Names and contents in a version directory's manifest.
struct ManifestEntry {
    std::string name;
    std::uint64_t size = 0;
    std::uint64_t hash = 0;
};
// The manifest's format: "crossover-manifest <format>" on its first line. Format 1's
// hashes are FNV-1a (fnv1a); format 2's are chunked_hash (content_hash.h), whose
// cost follows what changed. Written: kManifestFormat; read: both.
inline constexpr int kManifestFormat = 2;
std::string format_manifest(const std::vector<ManifestEntry>& entries,
                            int format = kManifestFormat);
// Returns false when the text is not a complete manifest; `format` is its format.
bool parse_manifest(const std::string& text, std::vector<ManifestEntry>& out,
                    int* format = nullptr);
// A content's hash as a manifest of `format` records it.
std::uint64_t manifest_hash(const std::string& content, int format);

// Parses a version directory name (".v-<counter>-<hash>"); false if not one.
bool parse_version_name(const std::string& name, std::uint64_t& counter);

// File names the sink uses for itself.
inline constexpr const char* kCurrent = "current";
inline constexpr const char* kManifest = ".manifest";
// Above this many files in one write, they are flushed with one syncfs(2) of
// the file system instead of one fsync(2) each (10,000 fsyncs take tens of
// seconds; one syncfs takes about as long as a few fsyncs).
inline constexpr std::size_t kSyncfsThreshold = 64;
inline constexpr const char* kLockFile = ".crossover.lock";
inline constexpr const char* kTempLinkPrefix = ".current.tmp-";
inline constexpr const char* kTempFilePrefix = ".tmp-";

class SymlinkSink final : public Sink {
public:
    SymlinkSink(const ComponentConfig& config, const SymlinkOptions& options);
    ~SymlinkSink() override;

    Status write(const Snapshot& snapshot, WriteOutcome& outcome) noexcept override;

private:
    struct Version {
        std::string name;
        std::uint64_t counter = 0;
    };

    void prepare();
    void prepare_symlink();
    void prepare_rename();
    void lock();
    bool load_version(int dirfd, const std::string& version);
    void write_version(const std::vector<DocumentPtr>& docs);
    void write_renames(const std::vector<DocumentPtr>& docs, bool& changed);
    void prune(int dirfd);
    std::vector<Version> list_versions(int dirfd) const;
    bool still_in_place() const;
    bool same_as_state(const std::vector<DocumentPtr>& docs) const;
    // Links the current version's file of an unchanged document into the new version.
    bool link_unchanged(int dirfd, int vfd, const DocumentPtr& d) const;
    // The document's chunked_hash, from what is known of the last version written.
    ChunkedHash content_hash(const DocumentPtr& d) const;
    [[noreturn]] void fail_errno(const std::string& what, const std::string& path) const;
    [[noreturn]] void fail(const std::string& message) const;

    std::string prefix_;  // "sinks.envoy: " for messages
    ComponentConfig config_;
    std::string dir_;
    Mode mode_ = Mode::Symlink;
    std::int64_t keep_ = 2;
    mode_t file_mode_ = 0644;
    bool fsync_ = true;
    bool allow_empty_ = false;

    bool prepared_ = false;
    int lock_fd_ = -1;
    std::uint64_t next_counter_ = 1;
    std::string current_version_;  // symlink mode: what `current` points to
    std::uint64_t temp_seq_ = 0;
    // What is on disk under current/, once known. Unknown (known_ false) means
    // the next write writes unconditionally.
    bool known_ = false;
    std::map<std::string, DocumentPtr> state_;
    // The documents of the last version this sink wrote, with their contents' hashes.
    struct Hashed {
        DocumentPtr doc;
        ChunkedHash hash;
    };
    std::map<std::string, Hashed> hashed_;
    std::string hashed_version_;  // the version directory hashed_'s documents were written to
    // Last member: destroyed first, finishing its removals while the rest still stands.
    VersionRemover remover_;
};

}  // namespace crossover::sink_symlink
