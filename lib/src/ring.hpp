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

// Reads a record header exactly once: the commit word first, with acquire (it pairs with the
// producer's release store in store_commit_word: a committed header's other fields and payload are
// visible), then the rest. Atomic loads: the peer may be rewriting it, and the compiler must not
// re-read it after we validated our copy.
inline layout::RecordHeader load_record_header(const std::byte* at) noexcept {
  const auto* words = reinterpret_cast<const std::uint64_t*>(at);
  const std::uint64_t commit = __atomic_load_n(words + 1, __ATOMIC_ACQUIRE);
  const std::uint64_t first = __atomic_load_n(words, __ATOMIC_RELAXED);
  return {static_cast<std::uint32_t>(first), static_cast<std::uint32_t>(first >> 32), commit};
}

// The commit word alone (0: nothing published at `at` yet), with acquire like load_record_header.
inline std::uint64_t load_commit_word(const std::byte* at) noexcept {
  return __atomic_load_n(reinterpret_cast<const std::uint64_t*>(at + layout::kCommitOffset), __ATOMIC_ACQUIRE);
}

// Writes length and checksum; the record stays unpublished until store_commit_word.
inline void store_record_body(std::byte* at, std::uint32_t length, std::uint32_t checksum) noexcept {
  __atomic_store_n(reinterpret_cast<std::uint64_t*>(at), std::uint64_t{length} | (std::uint64_t{checksum} << 32),
                   __ATOMIC_RELAXED);
}

// PUBLISH: pairs with the acquire load in load_record_header / load_commit_word: the record's body
// and payload, and the zeroed commit word of the record after it, are visible before this word.
inline void store_commit_word(std::byte* at, std::uint64_t sequence) noexcept {
  __atomic_store_n(reinterpret_cast<std::uint64_t*>(at + layout::kCommitOffset), layout::kCommitted | sequence,
                   __ATOMIC_RELEASE);
}

// Marks the record slot at `at` as not yet published. Relaxed: a later store_commit_word (release)
// of the record before it orders it.
inline void clear_commit_word(std::byte* at) noexcept {
  __atomic_store_n(reinterpret_cast<std::uint64_t*>(at + layout::kCommitOffset), std::uint64_t{0}, __ATOMIC_RELAXED);
}

// A whole header at once (body, then commit word): for tests and tools that build records.
inline void store_record_header(std::byte* at, std::uint32_t length, std::uint32_t checksum,
                                std::uint64_t sequence) noexcept {
  store_record_body(at, length, checksum);
  store_commit_word(at, sequence);
}

// The sequence number a committed commit word carries.
constexpr std::uint64_t sequence_of(std::uint64_t commit) noexcept { return commit & ~layout::kCommitted; }

// Where the record after one that ends at `end` starts: `end`, or the next lap's start when the
// ring's tail there is too short for a header (implicit padding).
constexpr std::uint64_t next_record_position(std::uint64_t end, std::uint64_t capacity) noexcept {
  const std::uint64_t tail = capacity - (end & (capacity - 1));
  return tail < sizeof(layout::RecordHeader) ? end + tail : end;
}
static_assert(std::endian::native == std::endian::little, "record headers are stored little-endian");

}  // namespace shmq::detail

#include "checksum.hpp"

namespace shmq::detail {

// What can be wrong with a record (RecordFault::none: nothing).
enum class RecordFault : std::uint8_t {
  none,
  not_published,       // commit word 0: nothing published here yet (the normal end of the records)
  sequence,            // not the sequence number due at this position (or not a commit word)
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
  if (h.commit != (layout::kCommitted | expected)) {
    r.fault = h.commit == 0 ? RecordFault::not_published : RecordFault::sequence;
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
      h.checksum != record_checksum(position, expected, h.length, at + sizeof(layout::RecordHeader), payload)) {
    r.fault = RecordFault::checksum;
  }
  return r;
}

// What is wrong with a record, in words ("sequence 7 where 5 was due").
inline std::string describe(const CheckedRecord& r, std::uint64_t expected) {
  switch (r.fault) {
    case RecordFault::none:
      return "valid";
    case RecordFault::not_published:
      return "no record published";
    case RecordFault::sequence:
      if ((r.header.commit & layout::kCommitted) == 0)
        return "commit word " + std::to_string(r.header.commit) + " without its commit bit where sequence " +
               std::to_string(expected) + " was due";
      return "sequence " + std::to_string(sequence_of(r.header.commit)) + " where " + std::to_string(expected) +
             " was due";
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
  std::uint64_t end = 0;                  // position after the last valid record (or padding)
  std::uint64_t next_sequence = 0;        // sequence the next message would have
  std::uint64_t messages = 0;             // messages walked
  std::string stopped;                    // empty: reached the limit; else why the walk stopped at `end`
  RecordFault fault = RecordFault::none;  // what stopped it (not_published: the records simply end)
};

// Walks and checks every record in [from, limit) (limit - from <= capacity), expecting sequence
// `sequence` first. Stops at the first record that is not valid; never reads outside the ring.
inline Scan scan_records(const RingView& view, std::uint64_t from, std::uint64_t limit, std::uint64_t sequence) {
  Scan s{from, sequence, 0, {}};
  while (s.end != limit) {
    const CheckedRecord r = check_record(view, s.end, s.next_sequence, limit - s.end);
    if (r.fault != RecordFault::none) {
      s.stopped = describe(r, s.next_sequence) + " at position " + std::to_string(s.end);
      s.fault = r.fault;
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
