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
#include <bit>

#include "layout.hpp"
#include "shmq/error.hpp"

namespace shmq::detail {

struct RingView {
  layout::Header* header = nullptr;
  std::byte* data = nullptr;   // capacity bytes, right after the header in a queue file
  std::uint64_t capacity = 0;  // power of two
  bool checksums = false;
  std::filesystem::path path;  // for error messages
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

#include "checksum.hpp"

namespace shmq::detail {

// The outcome of walking records from one position towards a limit.
struct Scan {
  std::uint64_t end = 0;            // position after the last valid record (or padding)
  std::uint64_t next_sequence = 0;  // sequence the next message would have
  std::uint64_t messages = 0;       // messages walked
  std::string stopped;              // empty: reached the limit; else why the walk stopped at `end`
};

// Walks and checks every record in [from, limit) (limit - from <= capacity), expecting sequence
// `sequence` first. Stops at the first record that is not valid; never reads outside the ring.
inline Scan scan_records(const RingView& view, std::uint64_t from, std::uint64_t limit, std::uint64_t sequence) {
  const std::uint64_t mask = view.capacity - 1;
  Scan s{from, sequence, 0, {}};
  auto stop = [&](const std::string& why) {
    s.stopped = why + " at position " + std::to_string(s.end);
    return s;
  };
  while (s.end != limit) {
    const std::uint64_t offset = s.end & mask;
    const std::uint64_t tail = view.capacity - offset;
    const std::uint64_t available = limit - s.end;
    if (tail < sizeof(layout::RecordHeader)) {
      if (tail > available) return stop("implicit padding runs past the limit");
      s.end += tail;
      continue;
    }
    const std::byte* at = view.data + offset;
    const layout::RecordHeader h = load_record_header(at);
    if (h.sequence != s.next_sequence) {
      return stop("sequence " + std::to_string(h.sequence) + " where " + std::to_string(s.next_sequence) + " was due");
    }
    const bool padding = (h.length & layout::kPaddingBit) != 0;
    if (padding && h.length != layout::kPaddingBit) return stop("malformed padding record");
    const std::uint64_t size = padding ? tail : layout::record_size(h.length);
    if (size > tail || size > available)
      return stop("record length " + std::to_string(h.length) + " runs past the end");
    const std::uint64_t payload = padding ? 0 : h.length;
    if (view.checksums &&
        h.checksum != record_checksum(s.end, h.sequence, h.length, at + sizeof(layout::RecordHeader), payload)) {
      return stop("checksum mismatch");
    }
    s.end += size;
    if (!padding) {
      ++s.next_sequence;
      ++s.messages;
    }
  }
  return s;
}

}  // namespace shmq::detail
