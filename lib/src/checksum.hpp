// Record and header checksums (XXH3 from libxxhash, compiled inline).
#pragma once

#include <cstddef>
#include <cstdint>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace shmq::detail {

// The checksum stored in a record header: keyed with the record's 64-bit position, sequence and
// length word, so a stale record from an earlier lap of the ring (or a record moved elsewhere)
// never validates, and a changed length or sequence does not either.
inline std::uint32_t record_checksum(std::uint64_t position, std::uint64_t sequence, std::uint32_t length_word,
                                     const std::byte* payload, std::size_t size) noexcept {
  const std::uint64_t seed = position ^ (sequence * 0x9E3779B97F4A7C15ull) ^ (std::uint64_t{length_word} << 29);
  return static_cast<std::uint32_t>(XXH3_64bits_withSeed(payload, size, seed));
}

inline std::uint64_t bytes_checksum(const void* data, std::size_t size) noexcept { return XXH3_64bits(data, size); }

}  // namespace shmq::detail
