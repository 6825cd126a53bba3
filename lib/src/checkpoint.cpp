#include "checkpoint.hpp"

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "checksum.hpp"
#include "failpoint.hpp"
#include "shmq/log.hpp"
#include "system.hpp"

namespace shmq::detail {
namespace {

constexpr std::size_t kWords = sizeof(layout::Checkpoint) / 8;

layout::Checkpoint& slot_of(layout::Header& h, std::uint64_t counter) { return counter % 2 == 0 ? h.slot0 : h.slot1; }

std::uint64_t slot_checksum(const layout::Checkpoint& c) {
  return bytes_checksum(&c, offsetof(layout::Checkpoint, checksum));
}

std::uint64_t now_unix_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

}  // namespace

std::optional<layout::Checkpoint> read_checkpoint_slot(const layout::Header& header, int slot,
                                                       const layout::Identity& identity) {
  // The producer may be rewriting the slot: read each word once (relaxed) and let the checksum
  // reject a torn copy.
  const auto* words = reinterpret_cast<const std::uint64_t*>(slot == 0 ? &header.slot0 : &header.slot1);
  std::uint64_t copy[kWords];
  for (std::size_t i = 0; i < kWords; ++i) copy[i] = __atomic_load_n(words + i, __ATOMIC_RELAXED);
  layout::Checkpoint c{};
  std::memcpy(&c, copy, sizeof c);
  if (c.counter == 0 || static_cast<int>(c.counter % 2) != slot) return std::nullopt;
  if (c.checksum != slot_checksum(c) || c.instance_id != identity.instance_id) return std::nullopt;
  if (c.write_position % layout::kRecordAlign != 0 || c.read_position % layout::kRecordAlign != 0 ||
      c.write_position - c.read_position > identity.capacity) {
    return std::nullopt;
  }
  return c;
}

std::optional<layout::Checkpoint> newest_checkpoint(const layout::Header& header, const layout::Identity& identity) {
  const auto a = read_checkpoint_slot(header, 0, identity);
  const auto b = read_checkpoint_slot(header, 1, identity);
  if (a && b) return a->counter > b->counter ? a : b;
  return a ? a : b;
}

void write_checkpoint_slot(layout::Header& header, layout::Checkpoint checkpoint) {
  checkpoint.checksum = slot_checksum(checkpoint);
  std::uint64_t words[kWords];
  std::memcpy(words, &checkpoint, sizeof words);
  auto* out = reinterpret_cast<std::uint64_t*>(&slot_of(header, checkpoint.counter));
  for (std::size_t i = 0; i < kWords; ++i) __atomic_store_n(out + i, words[i], __ATOMIC_RELAXED);
}

int sync_checkpoint_slot(layout::Header& header, std::uint64_t counter) {
  return sync_range(&slot_of(header, counter), sizeof(layout::Checkpoint));
}

namespace {

// Rewrites file bytes [offset, offset + length) with the mapping's own copy of them, then syncs them.
int rewrite_and_sync(int fd, const std::byte* mapped, std::uint64_t length, std::uint64_t offset) {
  if (length == 0) return 0;
  if (const int rc = sys().pwrite(fd, mapped, length, static_cast<off_t>(offset)); rc != 0) return rc;
  return sync_range(mapped, length);
}

}  // namespace

int rewrite_and_sync_ring(int fd, const RingView& view, std::uint64_t from, std::uint64_t to) {
  const std::uint64_t first = from & (view.capacity - 1);
  const std::uint64_t length = to - from;
  const std::uint64_t head = std::min(length, view.capacity - first);
  const int rc = rewrite_and_sync(fd, view.data + first, head, layout::kHeaderSize + first);
  return rc != 0 ? rc : rewrite_and_sync(fd, view.data, length - head, layout::kHeaderSize);
}

int make_durable_again(int fd, const RingView& view, const layout::Checkpoint& last, std::uint64_t write) {
  if (const int rc = rewrite_and_sync_ring(fd, view, last.read_position, write); rc != 0) return rc;
  SHMQ_FAILPOINT("reconfirm.after_ring_sync");
  const auto* slot = reinterpret_cast<const std::byte*>(&slot_of(*view.header, last.counter));
  const auto slot_offset = static_cast<std::uint64_t>(slot - reinterpret_cast<const std::byte*>(view.header));
  return rewrite_and_sync(fd, slot, sizeof(layout::Checkpoint), slot_offset);
}

int clear_unpublished_commit_words(const RingView& view, std::uint64_t from, std::uint64_t to,
                                   std::uint64_t next_sequence) {
  const std::uint64_t mask = view.capacity - 1;
  const std::uint64_t no_page = ~std::uint64_t{0};
  std::uint64_t dirty_first = no_page;  // a run of consecutive dirty pages, synced as one range
  std::uint64_t dirty_end = 0;
  auto sync_run = [&]() -> int {
    if (dirty_first == no_page) return 0;
    const int rc =
        sync_range(view.data + dirty_first * layout::kPageSize, (dirty_end - dirty_first) * layout::kPageSize);
    dirty_first = no_page;
    return rc;
  };
  for (std::uint64_t position = from; position != to; position += 8) {
    const std::uint64_t offset = position & mask;
    if (offset == 0) {  // the ring wraps: the run of dirty pages ends
      if (const int rc = sync_run(); rc != 0) return rc;
    }
    auto* word = reinterpret_cast<std::uint64_t*>(view.data + offset);
    // Relaxed: no peer reads these bytes now (no consumer reads past the first commit word that is
    // 0, at `from`); atomic because a consumer may read its own words nearby.
    const std::uint64_t value = __atomic_load_n(word, __ATOMIC_RELAXED);
    if ((value & layout::kCommitted) == 0 || sequence_of(value) < next_sequence) continue;
    __atomic_store_n(word, std::uint64_t{0}, __ATOMIC_RELAXED);
    const std::uint64_t page = offset / layout::kPageSize;
    if (dirty_first != no_page && page > dirty_end) {
      if (const int rc = sync_run(); rc != 0) return rc;
    }
    if (dirty_first == no_page) dirty_first = page;
    dirty_end = page + 1;
  }
  return sync_run();
}

Checkpointer::Checkpointer(RingView view, std::filesystem::path path, CheckpointPolicy policy,
                           const layout::Checkpoint& last, std::uint64_t instance_id, std::uint64_t published,
                           std::uint64_t next_sequence)
    : view_(std::move(view)),
      path_(std::move(path)),
      policy_(policy),
      instance_id_(instance_id),
      requested_at_(last.write_position),
      last_(last) {
  // condition_variable::wait_for adds the interval to now(): keep the sum from overflowing.
  policy_.interval = std::min<std::chrono::milliseconds>(policy_.interval, std::chrono::hours(24 * 365));
  published_.store(published, next_sequence);
  const bool background = policy_.bytes != 0 || policy_.interval.count() > 0;
  request_every_ = !background          ? ~std::uint64_t{0}
                   : policy_.bytes == 0 ? view_.capacity / 2
                                        : std::min<std::uint64_t>(policy_.bytes, view_.capacity / 2);
  durable_sequence_.store(last.write_sequence, std::memory_order_relaxed);
  durable_read_.store(last.read_position, std::memory_order_relaxed);
  if (background) thread_ = std::thread([this] { thread_main(); });
}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard lock(wake_mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Checkpointer::request() noexcept {
  {
    std::lock_guard lock(wake_mutex_);
    requested_ = true;
  }
  wake_.notify_one();
}

void Checkpointer::thread_main() {
  std::unique_lock lock(wake_mutex_);
  while (!stopping_) {
    auto woken = [&] { return stopping_ || requested_; };
    if (policy_.interval.count() > 0) {
      wake_.wait_for(lock, policy_.interval, woken);
    } else {
      wake_.wait(lock, woken);
    }
    if (stopping_) break;
    requested_ = false;
    lock.unlock();
    take_checkpoint();
    lock.lock();
  }
}

std::uint64_t Checkpointer::checkpoint_now() {
  take_checkpoint();
  if (failed()) throw failure();
  return durable_sequence();
}

Error Checkpointer::failure() const {
  std::lock_guard lock(const_cast<std::mutex&>(run_mutex_));
  return *error_;
}

void Checkpointer::fail(const std::string& what, int err) {
  if (!error_) {
    error_ = Error(err == 0 ? ErrorCode::peer_broke_protocol : ErrorCode::io, path_,
                   what + "; nothing more is acknowledged as durable", err);
    // Often in the checkpoint thread: the next producer call throws it, the log says it now.
    logger()->error("{}", error_->what());
    failed_.store(true, std::memory_order_release);  // pairs with the acquire in failed(): error_ is set
  }
}

void Checkpointer::take_checkpoint() {
  std::lock_guard lock(run_mutex_);
  if (error_) return;
  const layout::Header& h = *view_.header;
  // What this producer published (never the shared write position: any peer can write that).
  const PublishedMark::Pair published = published_.load();
  const std::uint64_t write = published.position;
  std::uint64_t read = h.consumer.position.load(std::memory_order_acquire);  // pairs with RingReader::release
  if (read % layout::kRecordAlign != 0)
    return fail("consumer read position " + std::to_string(read) + " is not aligned", 0);
  // The consumer may already be past `write` (we loaded it first); then `write` is a record
  // boundary it has released, which is all a checkpoint needs. Out of range (a broken consumer):
  // the same, as the consumer can release anything anyway.
  if (read - last_.read_position > write - last_.read_position) read = write;
  if (write == last_.write_position && read == last_.read_position) return;

  // 1. The records, then 2. the slot. A crash between the two leaves the older slot in force.
  // Only the records not yet released need to reach the disk: recovery starts at `read`, and the
  // records in [read, last write position) were synced by earlier checkpoints and not reused since
  // (the producer reuses only what the last checkpoint's read position frees). Released records
  // are never read again, so a consumer that keeps up leaves a checkpoint little or nothing to write.
  const std::uint64_t from = read - last_.write_position <= write - last_.write_position ? read : last_.write_position;
  const std::uint64_t mask = view_.capacity - 1;
  const std::uint64_t first = from & mask;
  const std::uint64_t length = write - from;
  int rc = 0;
  if (first + length <= view_.capacity) {
    rc = length == 0 ? 0 : sync_range(view_.data + first, length);
  } else {
    rc = sync_range(view_.data + first, view_.capacity - first);
    if (rc == 0) rc = sync_range(view_.data, first + length - view_.capacity);
  }
  if (rc != 0) return fail("msync of the ring failed", rc);
  SHMQ_FAILPOINT("checkpoint.after_ring_sync");

  layout::Checkpoint next{};
  next.counter = last_.counter + 1;
  next.write_position = write;
  next.write_sequence = published.sequence;
  next.read_position = read;
  next.unix_ns = now_unix_ns();
  next.instance_id = instance_id_;
  write_checkpoint_slot(*view_.header, next);
  SHMQ_FAILPOINT("checkpoint.after_slot_write");
  if ((rc = sync_checkpoint_slot(*view_.header, next.counter)) != 0) return fail("msync of the checkpoint failed", rc);
  SHMQ_FAILPOINT("checkpoint.after_slot_sync");
  last_ = next;
  durable_sequence_.store(next.write_sequence, std::memory_order_release);  // pairs with wait_durable's acquire
  durable_read_.store(next.read_position, std::memory_order_release);       // pairs with the writer's reclaim load
}

}  // namespace shmq::detail
