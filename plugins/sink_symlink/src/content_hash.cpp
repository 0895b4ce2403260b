#include "content_hash.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace crossover::sink_symlink {

namespace {

// Odd multipliers with well-spread bits (2^64 divided by the golden ratio, and
// the two of MurmurHash3's 64-bit finalizer).
constexpr std::uint64_t kGolden = 0x9e3779b97f4a7c15ULL;
constexpr std::uint64_t kFmix1 = 0xff51afd7ed558ccdULL;
constexpr std::uint64_t kFmix2 = 0xc4ceb9fe1a85ec53ULL;

// Up to eight bytes as a little-endian word (zero above them), on any host.
std::uint64_t load_word(const char* p, std::size_t n) noexcept {
    std::uint64_t w = 0;
    std::memcpy(&w, p, n);
    if constexpr (std::endian::native == std::endian::big) {
        w = __builtin_bswap64(w);
    }
    return w;
}

// One step: the word's product does not depend on the state, so the chain
// between steps is an xor, a rotation and a multiply (about a cycle a byte
// less than byte-at-a-time FNV-1a's four).
std::uint64_t step(std::uint64_t h, std::uint64_t w) noexcept {
    return std::rotl(h ^ (w * kFmix1), 29) * kGolden;
}

std::uint64_t finish(std::uint64_t h) noexcept {
    h ^= h >> 33U;
    h *= kFmix1;
    h ^= h >> 33U;
    h *= kFmix2;
    h ^= h >> 33U;
    return h;
}

// Whether a chunk ends at `p` (just after a '\n'): a hash of the kCutWindow bytes before p.
bool is_cut(const char* data, std::size_t p) noexcept {
    static_assert(kCutWindow == 16 && (kCutOdds & (kCutOdds - 1)) == 0);
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    if (p >= kCutWindow) {
        a = load_word(data + p - 16, 8);
        b = load_word(data + p - 8, 8);
    } else {
        a = load_word(data, std::min<std::size_t>(p, 8));
        b = p > 8 ? load_word(data + 8, p - 8) : 0;
    }
    const std::uint64_t h = ((a * kFmix1) ^ std::rotl(b * kFmix2, 31)) * kGolden;
    return h < (~std::uint64_t{0} / kCutOdds);
}

// Where the chunk starting at `start` ends: the first cut after it, or the end.
std::size_t chunk_end(const std::string& content, std::size_t start) noexcept {
    const char* data = content.data();
    std::size_t at = start;
    while (at < content.size()) {
        const std::size_t nl = content.find('\n', at);
        if (nl == std::string::npos) {
            break;
        }
        at = nl + 1;
        if (is_cut(data, at)) {
            return at;
        }
    }
    return content.size();
}

// How many bytes at the ends of `a` and `b` are equal, at most `limit`.
std::size_t common_suffix(const std::string& a, const std::string& b, std::size_t limit) noexcept {
    constexpr std::size_t kBlock = 4096;
    std::size_t same = 0;
    // Whole blocks with memcmp, then the last differing block byte by byte.
    while (same + kBlock <= limit &&
           std::memcmp(a.data() + a.size() - same - kBlock, b.data() + b.size() - same - kBlock,
                       kBlock) == 0) {
        same += kBlock;
    }
    while (same < limit && a[a.size() - same - 1] == b[b.size() - same - 1]) {
        ++same;
    }
    return same;
}

}  // namespace

std::uint64_t word_hash(std::string_view data) noexcept {
    std::uint64_t h = kFmix2 ^ (data.size() * kGolden);
    std::size_t i = 0;
    for (; i + 8 <= data.size(); i += 8) {
        h = step(h, load_word(data.data() + i, 8));
    }
    if (i < data.size()) {
        h = step(h, load_word(data.data() + i, data.size() - i));
    }
    return finish(h);
}

ChunkedHash chunked_hash(const std::string& content, const std::string* earlier,
                         const ChunkedHash* earlier_hash) {
    ChunkedHash out;
    const std::size_t n = content.size();
    const bool incremental = earlier != nullptr && earlier_hash != nullptr;
    std::size_t start = 0;
    std::size_t suffix = 0;
    if (incremental) {
        const std::string& old = *earlier;
        const std::size_t m = old.size();
        const auto& ends = earlier_hash->ends;
        out.ends.reserve(ends.size() + 1);
        out.hashes.reserve(ends.size() + 1);
        // Leading chunks with the same bytes are the same chunks: a chunk that ended
        // before the content's end ended at a cut, which depends only on bytes before it.
        for (std::size_t k = 0; k < ends.size(); ++k) {
            const std::size_t end = ends[k];
            if (end > n || (end == m && n != m) ||
                std::memcmp(content.data() + start, old.data() + start, end - start) != 0) {
                break;
            }
            out.ends.push_back(end);
            out.hashes.push_back(earlier_hash->hashes[k]);
            start = end;
        }
        if (start < n) {
            suffix = common_suffix(content, old, std::min(n, m) - std::min(start, std::min(n, m)));
        }
    }
    while (start < n) {
        const std::size_t end = chunk_end(content, start);
        out.ends.push_back(end);
        out.hashes.push_back(word_hash(std::string_view(content).substr(start, end - start)));
        out.rehashed += end - start;
        start = end;
        // Once a cut lands in the unchanged tail with its window, every later cut
        // decides on unchanged bytes: the earlier version made the same cuts from
        // there, and the rest are its chunks, shifted.
        if (incremental && start < n && start >= n - suffix + kCutWindow) {
            const auto& ends = earlier_hash->ends;
            const std::size_t old_at = start + earlier->size() - n;
            const auto it = std::lower_bound(ends.begin(), ends.end(), old_at);
            if (it != ends.end() && *it == old_at) {
                for (auto k = static_cast<std::size_t>(it - ends.begin()) + 1; k < ends.size();
                     ++k) {
                    out.ends.push_back(ends[k] + n - earlier->size());
                    out.hashes.push_back(earlier_hash->hashes[k]);
                }
                start = n;
            }
        }
    }
    std::uint64_t h = kGolden ^ (n * kFmix2);
    for (const std::uint64_t c : out.hashes) {
        h = step(h, c);
    }
    out.hash = finish(h);
    return out;
}

}  // namespace crossover::sink_symlink
