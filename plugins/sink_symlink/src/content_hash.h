// The content hash of manifest format 2: a hash whose cost follows the change
// between two versions of a file, not the file's size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace crossover::sink_symlink {

// Chunks are cut after a newline whose line ends in a kCutWindow-byte window
// whose hash picks it (one in kCutOdds, at random for varied text): the cut
// depends only on those bytes, not on offsets or earlier cuts. So an edit that
// changes a length (a weight from 5 to 10) shifts the chunks after it without
// changing them, and their hashes are reused; chunks cut at fixed offsets
// would all change after the first inserted byte. A content without newlines is
// one chunk.
inline constexpr std::size_t kCutWindow = 16;
inline constexpr std::uint64_t kCutOdds = 64;

// 64-bit hash of a byte string, eight bytes a step (little-endian words).
std::uint64_t word_hash(std::string_view data) noexcept;

struct ChunkedHash {
    std::uint64_t hash = 0;
    // Each chunk's end offset (the next one's start; the last is the size) and word_hash.
    std::vector<std::size_t> ends;
    std::vector<std::uint64_t> hashes;
    // Bytes hashed to compute this (the rest came from the earlier version).
    std::size_t rehashed = 0;
};

// The hash of `content` (the manifest's format 2 hash): its size and its
// chunks' hashes, folded in order. Given an earlier version of the content and
// its ChunkedHash, the chunks before the first changed byte and those after
// the last are taken from the earlier one; only the chunks between are hashed.
ChunkedHash chunked_hash(const std::string& content, const std::string* earlier = nullptr,
                         const ChunkedHash* earlier_hash = nullptr);

}  // namespace crossover::sink_symlink
