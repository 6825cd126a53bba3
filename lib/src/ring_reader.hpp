// The consumer's half of the SPSC ring: read in place, release in batches. No waiting, no syscalls.
//
// Local state: `cursor_` (end of the last record read), `released_` (the last read position stored
// for the producer) and `cached_write_`, a copy of the producer's write position re-read only when
// the cursor has caught up with it. Every header read from the ring is read once and checked
// against these local values before use: a broken or hostile producer gets a corrupt error, never
// an out-of-bounds read.
#pragma once

#include <cstdint>
#include <span>

#include "checksum.hpp"
#include "failpoint.hpp"
#include "ring.hpp"
#include "shmq/message.hpp"

namespace shmq::detail {

class RingReader {
 public:
  RingReader() = default;
  RingReader(RingView view, std::uint64_t read_position, std::uint64_t write_position, std::uint64_t next_sequence)
      : view_(std::move(view)),
        mask_(view_.capacity - 1),
        cursor_(read_position),
        released_(read_position),
        cached_write_(write_position),
        next_sequence_(next_sequence) {}

  std::uint64_t next_sequence() const noexcept { return next_sequence_; }
  std::uint64_t cursor() const noexcept { return cursor_; }
  const RingView& view() const noexcept { return view_; }

  // Reads the next message into `out`; false when nothing is published past the cursor.
  bool try_read(Message& out) {
    for (;;) {
      if (cursor_ == cached_write_ && !refresh(std::memory_order_acquire)) return false;
      const CheckedRecord r = check_record(view_, cursor_, next_sequence_, cached_write_ - cursor_);
      if (r.fault != RecordFault::none) [[unlikely]]
        corrupt(describe(r, next_sequence_));
      const std::uint64_t at = cursor_;
      cursor_ += r.size;
      if (r.padding) continue;
      out.bytes = std::span<const std::byte>(view_.data + (at & mask_) + sizeof(layout::RecordHeader), r.header.length);
      out.sequence = r.header.sequence;
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
    // RELEASE (release half): pairs with the producer's acquire load of consumer.position in
    // RingWriter::refresh_read_position: our reads of these bytes happen-before it reuses them.
    // (seq_cst half): precedes the load of space_ready.waiting below (waiting.hpp, "Dekker").
    view_.header->consumer.position.store(cursor_, std::memory_order_seq_cst);
    released_ = cursor_;
    SHMQ_FAILPOINT("release.after_store");
    return view_.header->space_ready.waiting.load(std::memory_order_seq_cst) != 0;
  }

  // When the cursor moved past padding only (no message delivered since the last release), hands
  // that padding back at once: the producer may be waiting for exactly that space. Returns what
  // release() returns.
  bool release_skipped_padding() noexcept { return holds_messages_ ? false : release(); }

  // Re-reads the producer's write position; true when there is something past the cursor.
  // `order` is seq_cst for the re-check of a parking waiter (waiting.hpp).
  bool refresh(std::memory_order order) {
    // CONSUME: pairs with the producer's release store of producer.position in RingWriter::publish:
    // every record before that position is fully written.
    const std::uint64_t write = view_.header->producer.position.load(order);
    // Untrusted: the write position only moves forward, and never more than a ring ahead of what we released.
    if (write % layout::kRecordAlign != 0 || write - cached_write_ > view_.capacity - (cached_write_ - released_)) {
      corrupt("producer write position " + std::to_string(write) + " is impossible (last seen " +
              std::to_string(cached_write_) + ", released " + std::to_string(released_) + ")");
    }
    cached_write_ = write;
    return cursor_ != write;
  }

 private:
  [[noreturn]] void corrupt(const std::string& what) const {
    throw_corrupt(what + " at position " + std::to_string(cursor_));
  }

  RingView view_;
  std::uint64_t mask_ = 0;
  std::uint64_t cursor_ = 0;
  std::uint64_t released_ = 0;
  std::uint64_t cached_write_ = 0;
  std::uint64_t next_sequence_ = 0;
  bool holds_messages_ = false;  // a message was delivered since the last release
};

}  // namespace shmq::detail
