// The consumer's half of the SPSC ring: read in place, release in batches. No waiting, no syscalls.
//
// Local state: `cursor_` (where the next record starts) and `released_` (the last read position
// stored for the producer). The consumer learns that the next record is published from that
// record's own commit word (ring.hpp), never from the producer's position: one cache line per
// message when it keeps up. Every header is read once and checked against these local values
// before use: a broken or hostile producer gets a corrupt error, never an out-of-bounds read.
#pragma once

#include <cstdint>
#include <span>

#include "checksum.hpp"
#include "failpoint.hpp"
#include "ring.hpp"
#include "shmq/message.hpp"
#include "waiting.hpp"

namespace shmq::detail {

class RingReader {
 public:
  RingReader() = default;
  // `membarrier`: this consumer's RoleLine::fencing is kFencingMembarrier (waiting.hpp).
  RingReader(RingView view, std::uint64_t read_position, std::uint64_t next_sequence, bool membarrier = false)
      : view_(std::move(view)),
        mask_(view_.capacity - 1),
        cursor_(read_position),
        released_(read_position),
        next_sequence_(next_sequence),
        membarrier_(membarrier) {}

  std::uint64_t next_sequence() const noexcept { return next_sequence_; }
  std::uint64_t cursor() const noexcept { return cursor_; }
  std::uint64_t last_record_position() const noexcept { return last_record_; }  // of the last message read
  const RingView& view() const noexcept { return view_; }

  // Reads the next message into `out`; false when none is published at the cursor.
  bool try_read(Message& out) {
    for (;;) {
      // Nothing published yet: one load of the commit word, and nothing else touched.
      if (!ready()) return false;
      // Untrusted: a record may extend at most one ring past what we released.
      const CheckedRecord r = check_record(view_, cursor_, next_sequence_, released_ + view_.capacity - cursor_);
      if (r.fault != RecordFault::none) [[unlikely]] {
        if (r.fault == RecordFault::not_published) return false;
        corrupt(describe(r, next_sequence_));
      }
      const std::uint64_t at = cursor_;
      cursor_ = next_record_position(cursor_ + r.size, view_.capacity);
      if (r.padding) continue;
      out.bytes = std::span<const std::byte>(view_.data + (at & mask_) + sizeof(layout::RecordHeader), r.header.length);
      out.sequence = next_sequence_;
      last_record_ = at;
      ++next_sequence_;
      holds_messages_ = true;
      return true;
    }
  }

  // Hands every record read so far back to the producer. Returns true when the producer has
  // announced that it is parked waiting for room (the caller then wakes it).
  bool release() noexcept {
    holds_messages_ = false;
    if (cursor_ == released_) return false;
    view_.header->consumer.sequence.store(next_sequence_, std::memory_order_relaxed);  // ordered by the store below
    SHMQ_FAILPOINT("release.before_store");
    // RELEASE: pairs with the producer's acquire load of consumer.position in
    // RingWriter::refresh_read_position: our reads of these bytes happen-before it reuses them.
    view_.header->consumer.position.store(cursor_, std::memory_order_release);
    released_ = cursor_;
    SHMQ_FAILPOINT("release.after_store");
    fence_before_waiting_check(membarrier_);  // the wake protocol (waiting.hpp)
    return view_.header->space_ready.waiting.load(std::memory_order_relaxed) != 0;
  }

  // When the cursor moved past padding only (no message delivered since the last release), hands
  // that padding back at once: the producer may be waiting for exactly that space. Returns what
  // release() returns.
  bool release_skipped_padding() noexcept { return holds_messages_ ? false : release(); }

  // True when something is published at the cursor (the waiting loop's re-check).
  bool ready() const noexcept {
    const std::uint64_t at = next_record_position(cursor_, view_.capacity);
    // Pairs with the producer's store_commit_word (release).
    return load_commit_word(view_.data + (at & mask_)) != 0;
  }

 private:
  [[noreturn]] void corrupt(const std::string& what) const {
    throw_corrupt(what + " at position " + std::to_string(cursor_));
  }

  RingView view_;
  std::uint64_t mask_ = 0;
  std::uint64_t cursor_ = 0;
  std::uint64_t released_ = 0;
  std::uint64_t next_sequence_ = 0;
  std::uint64_t last_record_ = 0;
  bool membarrier_ = false;
  bool holds_messages_ = false;  // a message was delivered since the last release
};

}  // namespace shmq::detail
