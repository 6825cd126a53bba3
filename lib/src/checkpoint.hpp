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

// Rewrites the ring bytes of positions [from, to) (to - from <= capacity) with the mapping's own
// copy (pwrite through `fd`, which dirties every page again, whatever an earlier failed writeback
// left: fsyncgate) and syncs them. Returns 0 or the errno.
int rewrite_and_sync_ring(int fd, const RingView& view, std::uint64_t from, std::uint64_t to);

// Makes checkpoint `last` durable again, with every record from its read position up to `write`
// (the published end, write - last.read_position <= capacity), whatever an earlier producer's
// syncs did: it may have been killed between writing the slot and syncing it, or its msync may
// have failed, and after a failed writeback Linux marks the pages clean, so a later msync skips
// them and "succeeds" (fsyncgate). pwrite of the same bytes through `fd` dirties each page again,
// then msync writes it: records first, then the slot. Returns 0 or the errno.
int make_durable_again(int fd, const RingView& view, const layout::Checkpoint& last, std::uint64_t write);

// Clears every 8-byte word of ring positions [from, to) (to - from <= capacity) that could be read
// as the commit word of a record with sequence `next_sequence` or later (bit 63 set, sequence at
// least that), then syncs the pages it changed. For a producer attaching to a durable queue,
// before it writes anything: [from, to) is the ring its predecessor could have staged records in.
// A predecessor killed with a staged batch leaves commit words in its later records (a batch is
// published by its first record's word alone). In the page cache they are unreachable, but the
// disk keeps any version of each page: after a power loss, a header page whose write position
// covers the new records and a ring page that still holds the staged one would let that record
// validate, keyed by the same position and sequence as the new record written there. Words of
// earlier laps carry lower sequences and never validate; payload words that merely look like
// commit words are in free space. Returns 0 or the errno of the failed msync.
int clear_unpublished_commit_words(const RingView& view, std::uint64_t from, std::uint64_t to,
                                   std::uint64_t next_sequence);

// The producer's published position and the sequence after it, stored by the producer thread and
// loaded as one consistent pair by a checkpoint in another thread (a seqlock without fences: the
// values are stored with release and loaded with acquire, so seeing a value of round k+1 implies
// seeing round k+1's odd version on the re-check).
class PublishedMark {
 public:
  void store(std::uint64_t position, std::uint64_t sequence) noexcept {
    const std::uint64_t v = version_.load(std::memory_order_relaxed);  // only this thread stores it
    version_.store(v + 1, std::memory_order_relaxed);                  // ordered before the values by their release
    position_.store(position, std::memory_order_release);  // pairs with load(): the odd version, the records
    sequence_.store(sequence, std::memory_order_release);  // pairs with load(): the odd version
    version_.store(v + 2, std::memory_order_release);      // pairs with load()'s first acquire: the pair
  }
  struct Pair {
    std::uint64_t position;
    std::uint64_t sequence;
  };
  Pair load() const noexcept {
    for (;;) {
      const std::uint64_t before = version_.load(std::memory_order_acquire);  // pairs with store()'s last release
      const Pair pair{position_.load(std::memory_order_acquire),              // pairs with store()'s release
                      sequence_.load(std::memory_order_acquire)};             // pairs with store()'s release
      if (before % 2 == 0 && version_.load(std::memory_order_acquire) == before)
        return pair;              // acquire: not hoisted above the values
      std::this_thread::yield();  // the producer is between its stores (perhaps preempted): let it finish
    }
  }

 private:
  std::atomic<std::uint64_t> version_{0};
  std::atomic<std::uint64_t> position_{0};
  std::atomic<std::uint64_t> sequence_{0};
};

class Checkpointer {
 public:
  // `last` is the newest valid checkpoint of the file; `published` the producer's write position
  // and `next_sequence` the sequence number after it.
  Checkpointer(RingView view, std::filesystem::path path, CheckpointPolicy policy, const layout::Checkpoint& last,
               std::uint64_t instance_id, std::uint64_t published, std::uint64_t next_sequence);
  ~Checkpointer();  // stops the thread (no final checkpoint: call sync() first for that)
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Producer thread, after each publication: records how far the producer published and the
  // sequence number after it (a checkpoint covers that, never the shared write position, which
  // any peer can overwrite). Asks the thread for a checkpoint every policy.bytes, and each time
  // half the ring has been written since the last request, so that the checkpointed consumer
  // position (the reclaim point) keeps up and the producer seldom waits for a checkpoint inline.
  void published(std::uint64_t write_position, std::uint64_t next_sequence) noexcept {
    published_.store(write_position, next_sequence);
    if (write_position - requested_at_ >= request_every_) {
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
  std::filesystem::path path_;  // for the error
  CheckpointPolicy policy_;
  std::uint64_t instance_id_;
  std::uint64_t request_every_ = 0;  // bytes between requests to the thread (never: no thread)
  std::uint64_t requested_at_ = 0;   // producer thread only

  std::mutex run_mutex_;  // one checkpoint at a time; guards last_ and error_
  layout::Checkpoint last_{};
  std::optional<Error> error_;
  std::atomic<bool> failed_{false};  // set once error_ is (release); read without the lock (acquire)
  PublishedMark published_;          // the producer's own published position and sequence
  std::atomic<std::uint64_t> durable_sequence_{0};
  std::atomic<std::uint64_t> durable_read_{0};

  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool requested_ = false;  // guarded by wake_mutex_
  bool stopping_ = false;   // guarded by wake_mutex_
  std::thread thread_;
};

}  // namespace shmq::detail
