// The consumer end of a queue.
//
// At most one consumer at a time (an OFD lock, as for the producer). Messages are read in place
// and stay valid until release(), which hands every message received so far back to the producer
// in one store. The released position lives in the file: a consumer restarted after a crash
// resumes at the first message its predecessor had not released (so delivery is at-least-once;
// sequence numbers let the application drop what it already processed).
//
// Memory ordering: the bytes of a message are fully written when the consumer sees it (an acquire
// load of the record's own commit word, paired with the producer's release store of it; the
// consumer never reads the producer's position). release() is a release store of the read
// position: the consumer's reads of released messages happen-before the producer reuses their bytes.
//
// Do not block in receive() while holding unreleased messages the producer needs the room of: the
// producer waits for room, the consumer for data, and neither moves. Room is contiguous: a message
// larger than half the ring may need the whole ring free (padding to the ring's end, then the
// record from its start), so holding even one unreleased message can block such a send. Release
// before waiting; poll() releases what it delivered.
//
// Threads: a Consumer is used by one thread at a time. Handles are move-only.
//
// fork(): a Consumer belongs to the process that opened it. The child of a fork() does not hold its
// role (its copy of the lock's descriptor is closed in the child), so the parent's death is still
// seen by the peer; the child must not use the copy, and destroying it there changes nothing.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <utility>

#include "shmq/message.hpp"
#include "shmq/options.hpp"
#include "shmq/recovery.hpp"
#include "shmq/result.hpp"
#include "shmq/watermarks.hpp"

namespace shmq {

namespace detail {
struct ConsumerImpl;
}

class Consumer {
 public:
  // Attaches to an existing queue file; errors as for Producer::open.
  static Consumer open(const std::filesystem::path& path, const OpenOptions& open = {});

  Consumer(Consumer&&) noexcept;
  Consumer& operator=(Consumer&&) noexcept;
  ~Consumer();  // detaches without releasing: unreleased messages are delivered again next time

  // try_receive: would_block when empty. receive: waits; peer_gone when the queue is empty and the
  // producer role is vacant (unless WaitOptions::return_on_peer_gone is false). receive_for: also
  // timed_out. Throws shmq::Error(peer_broke_protocol) when a record or position breaks the format.
  Result<Message> try_receive();
  Result<Message> receive();
  Result<Message> receive_for(std::chrono::nanoseconds timeout);

  // Hands every message received so far back to the producer; their views become invalid.
  void release() noexcept;

  // Delivers up to `max` messages that are available now, in order, then releases them.
  // Returns how many were delivered (0 when the queue is empty). Does not wait.
  // A template, so the callback is inlined: one library call per message, no std::function.
  template <class OnMessage>
  std::size_t poll(OnMessage&& on_message, std::size_t max = SIZE_MAX) {
    std::size_t delivered = 0;
    while (delivered < max) {
      Result<Message> m = try_receive();
      if (!m) break;
      on_message(std::as_const(*m));
      ++delivered;
    }
    if (delivered > 0) release();
    return delivered;
  }

  std::uint64_t next_sequence() const noexcept;  // the sequence number the next message will have
  std::uint64_t capacity() const noexcept;
  const std::filesystem::path& path() const noexcept;
  bool producer_attached() const;  // asks the kernel (one fcntl): not for the hot path
  // published and consumed as the file says now; durable from the newest valid checkpoint.
  Watermarks watermarks() const noexcept;
  const RecoveryReport& recovery_report() const noexcept;
  void set_wait_options(const WaitOptions& wait) noexcept;

 private:
  explicit Consumer(std::unique_ptr<detail::ConsumerImpl> impl) noexcept;
  std::unique_ptr<detail::ConsumerImpl> impl_;
};

}  // namespace shmq
