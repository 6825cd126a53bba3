// What the ring writer and reader share: a view of the header and the data ring, the corruption
// error, and single reads of shared record headers.
//
// The ring algorithm lives in ring_writer.hpp and ring_reader.hpp and works on any memory (the
// unit tests run it on the heap); the file, the mapping and the waiting live elsewhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "layout.hpp"
#include "shmq/error.hpp"

namespace shmq::detail {

struct RingView {
  layout::Header* header = nullptr;
  std::byte* data = nullptr;       // capacity bytes, right after the header in a queue file
  std::uint64_t capacity = 0;      // power of two
  bool checksums = false;
  std::filesystem::path path;      // for error messages
};

[[noreturn]] inline void throw_corrupt(const std::filesystem::path& path, const std::string& what) {
  throw Error(ErrorCode::corrupt, path, what);
}

// Reads a record header exactly once, field by field, with relaxed atomic loads: the peer may be
// rewriting it, and the compiler must not re-read it after we validated our copy.
inline layout::RecordHeader load_record_header(const std::byte* at) noexcept {
  const auto* words = reinterpret_cast<const std::uint64_t*>(at);
  const std::uint64_t first = __atomic_load_n(words, __ATOMIC_RELAXED);
  const std::uint64_t second = __atomic_load_n(words + 1, __ATOMIC_RELAXED);
  return {static_cast<std::uint32_t>(first), static_cast<std::uint32_t>(first >> 32), second};
}

inline void store_record_header(std::byte* at, const layout::RecordHeader& h) noexcept {
  auto* words = reinterpret_cast<std::uint64_t*>(at);
  __atomic_store_n(words, std::uint64_t{h.length} | (std::uint64_t{h.checksum} << 32), __ATOMIC_RELAXED);
  __atomic_store_n(words + 1, h.sequence, __ATOMIC_RELAXED);
}
static_assert(std::endian::native == std::endian::little, "record headers are stored little-endian");

}  // namespace shmq::detail
