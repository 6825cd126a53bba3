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
};

// The ring works on memory, not files: its errors carry no path. The handle that owns the file
// adds it (with_path) before the error leaves the library.
[[noreturn]] inline void throw_corrupt(const std::string& what) {
  throw Error(ErrorCode::peer_broke_protocol, {}, what);
}

inline Error with_path(const Error& e, const std::filesystem::path& path) {
  return e.path().empty() ? Error(e.code(), path, e.cause(), e.sys_errno()) : e;
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

// What can be wrong with a record (RecordFault::none: nothing).
enum class RecordFault : std::uint8_t {
  none,
  sequence,            // not the sequence number due at this position
  malformed_padding,   // a padding record with payload bits, or running past the published end
  implicit_padding,    // the bytes too short for a header run past the published end
  past_end_of_ring,    // a length that runs past the ring's end
  past_published_end,  // a length that runs past the published end
  checksum,            // the checksum does not match
};

// One record as checked: its header (read once), whether it is padding, and the ring bytes it
// occupies (header, payload, alignment; for padding, up to the ring's end).
struct CheckedRecord {
  RecordFault fault = RecordFault::none;
  bool padding = false;
  std::uint64_t size = 0;
  layout::RecordHeader header{};
};

// The one place the rules of a valid record live, used by the consumer's reader, by recovery's and
// repair's scan, by the producer's walk at attach and by the tools. Checks the record at ring
// `position`, expecting sequence `expected`, with `available` bytes published past `position`.
// Reads the header exactly once and never reads outside the ring.
inline CheckedRecord check_record(const RingView& view, std::uint64_t position, std::uint64_t expected,
                                  std::uint64_t available) noexcept {
  CheckedRecord r;
  const std::uint64_t offset = position & (view.capacity - 1);
  const std::uint64_t tail = view.capacity - offset;
  if (tail < sizeof(layout::RecordHeader)) {  // implicit padding: too short for a header
    r.padding = true;
    r.size = tail;
    if (tail > available) r.fault = RecordFault::implicit_padding;
    return r;
  }
  const std::byte* at = view.data + offset;
  r.header = load_record_header(at);
  const layout::RecordHeader& h = r.header;
  if (h.sequence != expected) {
    r.fault = RecordFault::sequence;
    return r;
  }
  r.padding = (h.length & layout::kPaddingBit) != 0;
  if (r.padding) {
    r.size = tail;
    if (h.length != layout::kPaddingBit || tail > available) {
      r.fault = RecordFault::malformed_padding;
      return r;
    }
  } else {
    r.size = layout::record_size(h.length);
    if (r.size > tail)
      r.fault = RecordFault::past_end_of_ring;
    else if (r.size > available)
      r.fault = RecordFault::past_published_end;
    if (r.fault != RecordFault::none) return r;
  }
  const std::uint64_t payload = r.padding ? 0 : h.length;
  if (view.checksums &&
      h.checksum != record_checksum(position, h.sequence, h.length, at + sizeof(layout::RecordHeader), payload)) {
    r.fault = RecordFault::checksum;
  }
  return r;
}

// What is wrong with a record, in words ("sequence 7 where 5 was due").
inline std::string describe(const CheckedRecord& r, std::uint64_t expected) {
  switch (r.fault) {
    case RecordFault::none:
      return "valid";
    case RecordFault::sequence:
      return "sequence " + std::to_string(r.header.sequence) + " where " + std::to_string(expected) + " was due";
    case RecordFault::malformed_padding:
      return "malformed padding record";
    case RecordFault::implicit_padding:
      return "implicit padding runs past the write position";
    case RecordFault::past_end_of_ring:
      return "record length " + std::to_string(r.header.length) + " runs past the end of the ring";
    case RecordFault::past_published_end:
      return "record length " + std::to_string(r.header.length) + " runs past the write position";
    case RecordFault::checksum:
      return "checksum mismatch";
  }
  return "unknown fault";
}

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
  Scan s{from, sequence, 0, {}};
  while (s.end != limit) {
    const CheckedRecord r = check_record(view, s.end, s.next_sequence, limit - s.end);
    if (r.fault != RecordFault::none) {
      s.stopped = describe(r, s.next_sequence) + " at position " + std::to_string(s.end);
      return s;
    }
    s.end += r.size;
    if (!r.padding) {
      ++s.next_sequence;
      ++s.messages;
    }
  }
  return s;
}

}  // namespace shmq::detail
