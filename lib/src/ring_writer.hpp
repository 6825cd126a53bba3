// The producer's half of the SPSC ring: reserve, commit, publish. No waiting, no system calls.
//
// Local state: `head_` (end of the last committed record, staged or not), `published_` (the last
// write position stored for the consumer), and `cached_read_`, a copy of the consumer's read
// position re-read only when the cached value says the ring is full.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "checksum.hpp"
#include "failpoint.hpp"
#include "ring.hpp"

namespace shmq::detail {

// The largest payload a ring of `capacity` bytes takes: one record filling the whole ring.
inline std::uint64_t max_message_length(std::uint64_t capacity) noexcept {
  return std::min<std::uint64_t>(capacity - sizeof(layout::RecordHeader), layout::kMaxLength);
}

class RingWriter {
 public:
  RingWriter() = default;
  // `reclaim` is the position below which ring bytes may be reused: the consumer's read position,
  // or, for a durable queue, the read position of the last durable checkpoint (process-local).
  RingWriter(RingView view, std::uint64_t write_position, std::uint64_t read_position, std::uint64_t next_sequence,
             std::atomic<std::uint64_t>* reclaim = nullptr)
      : view_(std::move(view)),
        reclaim_(reclaim != nullptr ? reclaim : &view_.header->consumer.position),
        mask_(view_.capacity - 1),
        head_(write_position),
        published_(write_position),
        cached_read_(read_position),
        next_sequence_(next_sequence) {}

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
      if (!has_room(tail)) return nullptr;
      pad_to_end(tail);
      offset = 0;
    }
    if (!has_room(size)) return nullptr;
    return view_.data + offset + sizeof(layout::RecordHeader);
  }

  // Commits the record reserved last with `length` <= the reserved length. Staged until publish().
  void commit(std::uint64_t length) noexcept {
    const std::uint64_t offset = head_ & mask_;
    std::byte* at = view_.data + offset;
    const auto length_word = static_cast<std::uint32_t>(length);
    const std::uint32_t sum =
        view_.checksums ? record_checksum(head_, next_sequence_, length_word, at + sizeof(layout::RecordHeader), length)
                        : 0;
    store_record_header(at, {length_word, sum, next_sequence_});
    SHMQ_FAILPOINT("commit.after_header");
    head_ += layout::record_size(length);
    ++next_sequence_;
  }

  // Makes every staged record visible. Returns true when the consumer has announced that it is
  // parked (the caller then wakes it: see waiting.hpp).
  bool publish() noexcept {
    if (head_ == published_) return false;
    view_.header->producer.sequence.store(next_sequence_, std::memory_order_relaxed);  // ordered by the store below
    SHMQ_FAILPOINT("publish.before_store");
    // PUBLISH (release half): pairs with the consumer's acquire load of producer.position in
    // RingReader::refresh; every record byte written above is visible to it. (seq_cst half): the
    // store precedes the load of data_ready.waiting below in the single total order, so either we
    // see the consumer's announcement or its re-check sees this position (waiting.hpp, "Dekker").
    view_.header->producer.position.store(head_, std::memory_order_seq_cst);
    published_ = head_;
    SHMQ_FAILPOINT("publish.after_store");
    return view_.header->data_ready.waiting.load(std::memory_order_seq_cst) != 0;
  }

  // True when `bytes` more fit before the consumer's read position; re-reads it only if the cached
  // copy says no. `order` is seq_cst for the re-check of a parking waiter (waiting.hpp).
  bool has_room(std::uint64_t bytes, std::memory_order order = std::memory_order_acquire) {
    if ((head_ - cached_read_) + bytes <= view_.capacity) return true;
    refresh_read_position(order);
    return (head_ - cached_read_) + bytes <= view_.capacity;
  }

  // Durable queues: true when `bytes` would fit if the consumer's live read position were
  // checkpointed (the caller then takes a checkpoint instead of waiting).
  bool has_room_after_checkpoint(std::uint64_t bytes, std::memory_order order = std::memory_order_acquire) const {
    // Pairs with RingReader::release; only compared here, the reclaim load re-checks it.
    const std::uint64_t live = view_.header->consumer.position.load(order);
    return live - cached_read_ <= published_ - cached_read_ && (head_ - live) + bytes <= view_.capacity;
  }

  // Room needed to append a record of `length` bytes from the current head (padding included).
  std::uint64_t room_needed(std::uint64_t length) const noexcept {
    const std::uint64_t size = layout::record_size(length);
    const std::uint64_t tail = view_.capacity - (head_ & mask_);
    if (tail >= size) return size;
    // Padding and record cannot both fit (a record over half the ring): wait for room for the
    // padding alone; try_reserve stages it, and the record then waits for its release.
    return tail + size <= view_.capacity ? tail + size : tail;
  }

 private:
  void pad_to_end(std::uint64_t tail) noexcept {
    if (tail >= sizeof(layout::RecordHeader)) {  // shorter tails are skipped without a header
      const std::uint32_t sum =
          view_.checksums ? record_checksum(head_, next_sequence_, layout::kPaddingBit, nullptr, 0) : 0;
      store_record_header(view_.data + (head_ & mask_), {layout::kPaddingBit, sum, next_sequence_});
    }
    head_ += tail;
  }

  void refresh_read_position(std::memory_order order) {
    // RECLAIM: pairs with the consumer's release store of consumer.position in RingReader::release
    // (or the checkpointer's release store of its durable read position, itself loaded with
    // acquire from consumer.position): the consumer's reads happen-before we overwrite the bytes.
    const std::uint64_t read = reclaim_->load(order);
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
};

}  // namespace shmq::detail
