// The producer's half of the SPSC ring: reserve, commit, publish. No waiting, no system calls.
//
// Local state: `head_` (where the next record starts, after the last committed one, staged or
// not), `published_` (the end of the last published record), and `cached_read_`, a copy of the
// consumer's read position re-read only when the cached value says the ring is full.
//
// A record is published by the release store of its commit word (ring.hpp); a batch is published
// by the commit word of its first record alone, every later one being written complete before it.
// Before a record is published, the commit word where the next record will start is zeroed, so the
// consumer, which reads at most up to that word, never finds stale bytes there: only 0 or a record
// of ours (docs/DESIGN.md, "Readiness in the record"). The producer's RoleLine::position follows
// each publication with a release store to a line only the producer writes: the tools, recovery
// and reclaim read it, the consumer's hot path never does.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "checksum.hpp"
#include "failpoint.hpp"
#include "ring.hpp"
#include "waiting.hpp"

namespace shmq::detail {

// The largest payload a ring of `capacity` bytes takes: capacity - 40, its record's header, the
// header of the record after it (whose commit word the producer clears before publishing) and 8
// bytes of alignment. A record of at most capacity - 24 bytes fits at every offset of an empty
// ring, either at once or (over the ring's end) after padding that fits too: never a livelock.
inline std::uint64_t max_message_length(std::uint64_t capacity) noexcept {
  return std::min<std::uint64_t>(capacity - 2 * sizeof(layout::RecordHeader) - layout::kRecordAlign,
                                 layout::kMaxLength);
}

class RingWriter {
 public:
  RingWriter() = default;
  // `write_position` is where the next record starts (its commit word is 0). `reclaim` is the
  // position below which ring bytes may be reused: the consumer's read position, or, for a durable
  // queue, the read position of the last durable checkpoint (process-local).
  RingWriter(RingView view, std::uint64_t write_position, std::uint64_t read_position, std::uint64_t next_sequence,
             std::atomic<std::uint64_t>* reclaim = nullptr)
      : view_(std::move(view)),
        reclaim_(reclaim != nullptr ? reclaim : &view_.header->consumer.position),
        mask_(view_.capacity - 1),
        head_(next_record_position(write_position, view_.capacity)),
        published_(head_),
        cached_read_(read_position),
        next_sequence_(next_sequence) {}

  // Set once at attach, before the first publication: this producer's RoleLine::fencing.
  void use_membarrier(bool membarrier) noexcept { membarrier_ = membarrier; }

  std::uint64_t max_length() const noexcept { return max_message_length(view_.capacity); }
  std::uint64_t next_sequence() const noexcept { return next_sequence_; }
  std::uint64_t published_position() const noexcept { return published_; }
  bool has_staged() const noexcept { return head_ != published_; }
  const RingView& view() const noexcept { return view_; }

  // Reserves room for a record of `length` payload bytes (length <= max_length()) and returns where
  // its payload goes, or nullptr when the ring has no room now. A record that would straddle the
  // end of the ring is preceded by padding up to the end; the padding is staged even when the
  // record then does not fit, so that publishing it lets the consumer free the space.
  std::byte* try_reserve(std::uint64_t length) {
    const std::uint64_t size = layout::record_size(length);
    std::uint64_t offset = head_ & mask_;
    const std::uint64_t tail = view_.capacity - offset;
    if (tail < size) {
      if (!has_room(tail + kNextCommitWord)) return nullptr;
      pad_to_end(tail);
      offset = 0;
    }
    if (!has_room(footprint(size))) return nullptr;
    return view_.data + offset + sizeof(layout::RecordHeader);
  }

  // Commits the record reserved last with `length` <= the reserved length. Staged until publish().
  void commit(std::uint64_t length) noexcept {
    std::byte* at = view_.data + (head_ & mask_);
    const auto length_word = static_cast<std::uint32_t>(length);
    const std::uint32_t sum =
        view_.checksums ? record_checksum(head_, next_sequence_, length_word, at + sizeof(layout::RecordHeader), length)
                        : 0;
    stage(at, length_word, sum, head_ + layout::record_size(length));
    SHMQ_FAILPOINT("commit.after_header");
    ++next_sequence_;
  }

  // Makes every staged record visible: one release store, of the first staged record's commit
  // word. Returns true when the consumer has announced that it is parked (the caller then wakes
  // it: see waiting.hpp).
  bool publish() noexcept {
    if (head_ == published_) return false;
    SHMQ_FAILPOINT("publish.before_store");
    store_commit_word(view_.data + (published_ & mask_), first_staged_sequence_);  // PUBLISH (ring.hpp)
    published_ = head_;
    SHMQ_FAILPOINT("publish.after_store");
    // For the tools, recovery and the attach walk: a line only we write, so no transfer per message.
    view_.header->producer.sequence.store(next_sequence_, std::memory_order_relaxed);  // ordered by the store below
    // Pairs with read_live_positions' acquire: every record before the position is published.
    view_.header->producer.position.store(head_, std::memory_order_release);
    fence_before_waiting_check(membarrier_);  // the wake protocol (waiting.hpp)
    return view_.header->data_ready.waiting.load(std::memory_order_relaxed) != 0;
  }

  // True when `bytes` more fit before the consumer's read position; re-reads it only if the cached
  // copy says no.
  bool has_room(std::uint64_t bytes) {
    if ((head_ - cached_read_) + bytes <= view_.capacity) return true;
    refresh_read_position();
    return (head_ - cached_read_) + bytes <= view_.capacity;
  }

  // Durable queues: true when `bytes` would fit if the consumer's live read position were
  // checkpointed (the caller then takes a checkpoint instead of waiting).
  bool has_room_after_checkpoint(std::uint64_t bytes) const {
    // Pairs with RingReader::release; only compared here, the reclaim load re-checks it.
    const std::uint64_t live = view_.header->consumer.position.load(std::memory_order_acquire);
    return live - cached_read_ <= published_ - cached_read_ && (head_ - live) + bytes <= view_.capacity;
  }

  // Room needed to append a record of `length` bytes from the current head (padding included).
  std::uint64_t room_needed(std::uint64_t length) const noexcept {
    const std::uint64_t size = layout::record_size(length);
    const std::uint64_t tail = view_.capacity - (head_ & mask_);
    if (tail >= size) return footprint(size);
    // Padding and record cannot both fit (a record over half the ring): wait for room for the
    // padding alone; try_reserve stages it, and the record then waits for its release.
    const std::uint64_t both = tail + next_record_position(size, view_.capacity) + kNextCommitWord;
    return both <= view_.capacity ? both : tail + kNextCommitWord;
  }

 private:
  // Bytes past a record's end that the producer writes before publishing it: the next record's
  // header up to the end of its commit word.
  static constexpr std::uint64_t kNextCommitWord = sizeof(layout::RecordHeader);

  // Ring bytes a record of `size` bytes at head_ needs, with the tail it leaves too short for a
  // header and the next record's commit word.
  std::uint64_t footprint(std::uint64_t size) const noexcept {
    return next_record_position(head_ + size, view_.capacity) - head_ + kNextCommitWord;
  }

  // Writes the header of the record at head_ (ending at `end`) and moves head_ past it. The next
  // record's commit word is cleared first; the commit word of this record is stored now if an
  // earlier staged record will publish it, else by publish().
  void stage(std::byte* at, std::uint32_t length_word, std::uint32_t sum, std::uint64_t end) noexcept {
    const std::uint64_t next = next_record_position(end, view_.capacity);
    clear_commit_word(view_.data + (next & mask_));
    store_record_body(at, length_word, sum);
    if (head_ == published_)
      first_staged_sequence_ = next_sequence_;
    else
      store_commit_word(at, next_sequence_);  // visible only after the first staged record's
    head_ = next;
  }

  void pad_to_end(std::uint64_t tail) noexcept {
    const std::uint32_t sum =
        view_.checksums ? record_checksum(head_, next_sequence_, layout::kPaddingBit, nullptr, 0) : 0;
    stage(view_.data + (head_ & mask_), layout::kPaddingBit, sum, head_ + tail);
  }

  void refresh_read_position() {
    // RECLAIM: pairs with the consumer's release store of consumer.position in RingReader::release
    // (or the checkpointer's release store of its durable read position, itself loaded with
    // acquire from consumer.position): the consumer's reads happen-before we overwrite the bytes.
    const std::uint64_t read = reclaim_->load(std::memory_order_acquire);
    // Untrusted: the read position only moves forward, never past what we published.
    if (read % layout::kRecordAlign != 0 || read - cached_read_ > published_ - cached_read_) {
      throw_corrupt("consumer read position " + std::to_string(read) + " is impossible (last seen " +
                    std::to_string(cached_read_) + ", published " + std::to_string(published_) + ")");
    }
    cached_read_ = read;
  }

  RingView view_;
  std::atomic<std::uint64_t>* reclaim_ = nullptr;
  std::uint64_t mask_ = 0;
  std::uint64_t head_ = 0;
  std::uint64_t published_ = 0;
  std::uint64_t cached_read_ = 0;
  std::uint64_t next_sequence_ = 0;
  std::uint64_t first_staged_sequence_ = 0;  // sequence (or padding's) of the record at published_
  bool membarrier_ = false;
};

}  // namespace shmq::detail
