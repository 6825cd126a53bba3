// Durable checkpoints, LMDB-style: make the ring's new records durable (msync), then write the
// checkpoint into slot counter % 2 and sync that page. A torn slot write fails its checksum and
// leaves the other slot, one checkpoint older, valid.
//
// The producer owns checkpointing: a background thread runs the time/bytes policy, and sync()
// runs one in the caller's thread. A failed msync is sticky and fatal (fsyncgate: Linux reports a
// writeback error once, then marks the pages clean, so a retry can "succeed" over lost data):
// after it nothing more is acknowledged as durable and every producer call throws the error.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>

#include "layout.hpp"
#include "ring.hpp"
#include "shmq/error.hpp"
#include "shmq/options.hpp"

namespace shmq::detail {

// Reads slot 0 or 1 (each 8-byte word once, relaxed) and checks it. nullopt: never written, torn,
// from another file, or impossible.
std::optional<layout::Checkpoint> read_checkpoint_slot(const layout::Header& header, int slot,
                                                       const layout::Identity& identity);
// The valid slot with the higher counter.
std::optional<layout::Checkpoint> newest_checkpoint(const layout::Header& header, const layout::Identity& identity);
// Fills in the checksum and writes slot counter % 2 (word by word, relaxed). Does not sync.
void write_checkpoint_slot(layout::Header& header, layout::Checkpoint checkpoint);
// Syncs the page of slot counter % 2. Returns 0 or the errno.
int sync_checkpoint_slot(layout::Header& header, std::uint64_t counter);

class Checkpointer {
 public:
  // `last` is the newest valid checkpoint of the file; `published` the producer's write position.
  Checkpointer(RingView view, CheckpointPolicy policy, const layout::Checkpoint& last, std::uint64_t instance_id,
               std::uint64_t published);
  ~Checkpointer();  // stops the thread (no final checkpoint: call sync() first for that)
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Producer thread, after each publication: records how far the producer published (the
  // checkpoint covers that, never the shared write position, which any peer can overwrite), and
  // asks the thread for a checkpoint every policy.bytes.
  void published(std::uint64_t write_position) noexcept {
    published_.store(write_position, std::memory_order_release);  // pairs with take_checkpoint's acquire: the records are written
    if (policy_.bytes != 0 && write_position - requested_at_ >= policy_.bytes) {
      requested_at_ = write_position;
      request();
    }
  }
  // Takes a checkpoint in the calling thread now (unless nothing changed) and returns the
  // sequence number below which every message is durable. Throws the sticky error.
  std::uint64_t checkpoint_now();

  std::uint64_t durable_sequence() const noexcept { return durable_sequence_.load(std::memory_order_acquire); }
  // The consumer position of the last durable checkpoint: the producer must not overwrite ring
  // bytes at or after it (recovery would start there after a power loss).
  std::atomic<std::uint64_t>& durable_read_position() noexcept { return durable_read_; }
  bool failed() const noexcept { return failed_.load(std::memory_order_acquire); }
  Error failure() const;  // precondition: failed()

 private:
  void request() noexcept;
  void thread_main();
  void take_checkpoint();  // holds run_mutex_
  void fail(const std::string& what, int err);

  RingView view_;
  CheckpointPolicy policy_;
  std::uint64_t instance_id_;
  std::uint64_t requested_at_ = 0;  // producer thread only

  std::mutex run_mutex_;            // one checkpoint at a time; guards last_ and error_
  layout::Checkpoint last_{};
  std::optional<Error> error_;
  std::atomic<bool> failed_{false};  // set once error_ is (release); read without the lock (acquire)
  std::atomic<std::uint64_t> published_{0};  // the producer's own published position
  std::atomic<std::uint64_t> durable_sequence_{0};
  std::atomic<std::uint64_t> durable_read_{0};

  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool requested_ = false;  // guarded by wake_mutex_
  bool stopping_ = false;   // guarded by wake_mutex_
  std::thread thread_;
};

}  // namespace shmq::detail
