// Walking the live region of a queue, from the read position to the end of the published records,
// through a read-only mapping while the producer and the consumer may be running.
//
// The walk uses the library's RingReader, so every record is checked exactly as the consumer
// checks it (sequence, length, padding, checksum), and never calls release(): nothing is written.
//
// Racing with live peers. The producer only writes past the write position, into bytes the
// consumer has released; the consumer only moves the read position forward. So the bytes of the
// region read at the start stay put as long as the consumer's position does not move: a record at
// position p can be overwritten only once the read position has passed p. A walk that fails while
// the read position stayed where it was found real damage; one during which it moved may have read
// bytes being overwritten, and reports `raced` instead (the caller retries or stops).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "queue_file.hpp"

namespace shmq::tool {

struct LiveRecord {
  std::span<const std::byte> bytes;  // in the mapping: copy, then check still_unreleased()
  std::uint64_t sequence = 0;
  std::uint64_t position = 0;  // ring position of the record header
};

enum class WalkEnd {
  complete,  // every published message was visited (to the first commit word that is 0)
  stopped,   // the visitor returned false
  raced,     // the consumer moved while the walk read bytes it may have released: not trustworthy
  damaged,   // a position or record breaks the format (see `fault`)
};

struct WalkResult {
  WalkEnd end = WalkEnd::complete;
  std::uint64_t read = 0;            // the read position the walk started from
  std::uint64_t write = 0;           // where the published records end (complete, stopped: as the walk found it)
  std::uint64_t first_sequence = 0;  // sequence of the first message at or after `read`
  std::uint64_t messages = 0;        // messages visited
  std::uint64_t next_sequence = 0;   // sequence after the last message visited
  // damaged: the ring position being read (the record at fault, or the read position when the
  // positions themselves are impossible) and what is wrong, in the library's words
  // (without the path, which the caller prints).
  std::uint64_t fault_position = 0;
  bool fault_in_positions = false;  // the fault is in the header's positions, not in a record
  std::string fault;
};

// Calls `visit` for each message in order; `visit` may be empty (just count). One attempt.
WalkResult walk_live_region(const detail::RingView& view, const std::function<bool(const LiveRecord&)>& visit = {});

// Repeats walk_live_region while it races, at most `attempts` times; returns the last result.
// Only for visitors that can start over (they see the same messages again on a retry).
WalkResult walk_until_consistent(const detail::RingView& view, int attempts = 32,
                                 const std::function<bool(const LiveRecord&)>& visit = {});

// After copying a record's bytes out of the mapping: true when the consumer had not yet released
// the record at `position`, so the copy is what the producer wrote (a seqlock-style re-check).
bool still_unreleased(const detail::RingView& view, std::uint64_t position);

// File offset of a ring position: the header, then the ring.
std::uint64_t file_offset(const detail::RingView& view, std::uint64_t position);

// "record at ring position P (file offset O): <cause>", or for impossible positions
// "positions in the header (file offsets 128 and 256): <cause>", for a damaged WalkResult.
std::string describe_fault(const detail::RingView& view, const WalkResult& result);

}  // namespace shmq::tool
