// The producer end of a queue.
//
// A queue file has at most one producer at a time. Attaching takes an OFD lock on the file that the
// kernel drops when the process dies, so a producer restarted after a crash attaches at once and
// continues the sequence numbers from where the file says the queue stands.
//
// Durability: see sync(). Visibility: a message is visible to the consumer once it is published. send()/try_send()
// publish at once; commit(Publish::later) stages a message, and publish() makes every staged message visible with a
// single store. Staged messages are also published before the producer waits for space and when it is destroyed. What
// is visible is in the page cache, so it survives the death of either process; surviving an OS crash is the job of
// checkpoints (docs/DESIGN.md).
//
// Memory ordering: everything written into a message before it is published happens-before the
// consumer's reading of it (a release store of the record's commit word, or for a batch of its
// first record's, paired with the consumer's acquire load of that word). The write position in
// the file follows each publication; it is for tools and restarts, and may lag the commit words.
//
// Threads: a Producer is used by one thread at a time. Handles are move-only.
//
// fork(): a Producer belongs to the process that opened it. The child of a fork() does not hold its
// role (its copy of the lock's descriptor is closed in the child), so the parent's death is still
// seen by the peer; the child must not use the copy, and destroying it there changes nothing.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string_view>

#include "shmq/options.hpp"
#include "shmq/recovery.hpp"
#include "shmq/watermarks.hpp"
#include "shmq/result.hpp"

namespace shmq {

enum class Publish : std::uint8_t { now, later };

namespace detail {
struct ProducerImpl;
}

// Room for one message, reserved in the ring: write the payload into bytes(), then commit().
// Destroying a Reservation that was not committed abandons it: nothing becomes visible.
// While a Reservation is outstanding its Producer accepts no other send or reservation.
// A Reservation stays valid when its Producer is moved. If the Producer is destroyed first, the
// Reservation is orphaned: bytes() must no longer be touched (the ring is unmapped) and commit()
// throws Error(usage). A default-constructed or moved-from Reservation is empty.
class Reservation {
 public:
  Reservation() = default;
  Reservation(Reservation&& other) noexcept;
  Reservation& operator=(Reservation&& other) noexcept;
  ~Reservation();

  std::span<std::byte> bytes() const noexcept { return bytes_; }
  std::uint64_t sequence() const noexcept { return sequence_; }  // the number the message will get

  // Commits the first `used` bytes (default: all) as one message and returns its sequence number.
  std::uint64_t commit(Publish publish = Publish::now);
  std::uint64_t commit(std::size_t used, Publish publish = Publish::now);
  void abandon() noexcept;

 private:
  friend class Producer;
  friend struct detail::ProducerImpl;
  Reservation(detail::ProducerImpl* owner, std::span<std::byte> bytes, std::uint64_t sequence) noexcept;
  void take_from(Reservation& other) noexcept;
  detail::ProducerImpl* owner_ = nullptr;  // heap-allocated: stays put when the Producer moves
  std::span<std::byte> bytes_{};
  std::uint64_t sequence_ = 0;
  bool orphaned_ = false;  // the Producer was destroyed while this was outstanding
};

class Producer {
 public:
  // Creates a new queue file at `path` (exclusively; see create_queue in queue.hpp) and attaches to it.
  static Producer create(const std::filesystem::path& path, const CreateOptions& create = {},
                         const OpenOptions& open = {});
  // Attaches to an existing queue file. Throws shmq::Error: role_taken when another process is the
  // producer (its pid, as recorded in the file, is in the message), not_a_queue / incompatible /
  // damaged_file when the file cannot be trusted (it is left unchanged), io when a system call fails
  // (a durable queue: also when the last checkpoint cannot be made durable again; see DESIGN.md).
  static Producer open(const std::filesystem::path& path, const OpenOptions& open = {});

  Producer(Producer&&) noexcept;
  Producer& operator=(Producer&&) noexcept;
  ~Producer();  // publishes staged messages, then detaches (the consumer sees peer_gone once drained)

  // Copying send. Returns the message's sequence number.
  // try_send: would_block when the ring has no room now; staged messages (and padding) are then
  // published, since the consumer can free only what it sees. send: waits for room; peer_gone when the
  // consumer role became vacant while the ring is full. send_for: also timed_out.
  // Throws shmq::Error(invalid_argument) when the message exceeds max_message_size(),
  // and shmq::Error(peer_broke_protocol) when the consumer's position is impossible.
  Result<std::uint64_t> try_send(std::span<const std::byte> message, Publish publish = Publish::now);
  Result<std::uint64_t> send(std::span<const std::byte> message);
  Result<std::uint64_t> send_for(std::span<const std::byte> message, std::chrono::nanoseconds timeout);
  Result<std::uint64_t> try_send(std::string_view text, Publish publish = Publish::now) {
    return try_send(as_bytes(text), publish);
  }
  Result<std::uint64_t> send(std::string_view text) { return send(as_bytes(text)); }
  Result<std::uint64_t> send_for(std::string_view text, std::chrono::nanoseconds timeout) {
    return send_for(as_bytes(text), timeout);
  }

  // Sends every message; returns the sequence number of the first. The rule (the Python module's
  // send_batch follows it too): every message is checked before anything is staged (one too
  // large: Error(invalid_argument), nothing sent); a batch that fits now is published with one
  // store, all or nothing; one that must wait for room publishes what is staged before each wait
  // (as send() does). When it returns a status (peer_gone) or throws, nothing is left staged, and
  // exactly next_sequence() minus its value before the call messages were published, the first
  // ones of the batch: a retry sends the rest.
  Result<std::uint64_t> send_batch(std::span<const std::span<const std::byte>> messages);

  // Zero-copy: reserve room for a message of up to `size` bytes and write it in place.
  Result<Reservation> try_reserve(std::size_t size);
  Result<Reservation> reserve(std::size_t size);
  Result<Reservation> reserve_for(std::size_t size, std::chrono::nanoseconds timeout);

  // Makes every staged message visible and wakes the consumer if it is parked.
  void publish() noexcept;

  // Durable queues (CreateOptions::durable). sync() publishes, then returns once a checkpoint
  // covers every message sent before it: the returned sequence number S means messages 0..S-1
  // survive an OS crash or power loss. wait_durable(seq) returns once message `seq` is durable
  // (taking a checkpoint if needed). A failed msync is sticky and fatal for this producer: the
  // Error(io) is thrown from then on by every call, and nothing more is acknowledged as durable.
  // Both throw Error(usage) on a queue created without durability.
  std::uint64_t sync();
  void wait_durable(std::uint64_t sequence);
  Watermarks watermarks() const noexcept;
  // What opening the queue had to recover after the machine lost its page cache.
  const RecoveryReport& recovery_report() const noexcept;

  std::uint64_t next_sequence() const noexcept;  // the number the next message will get
  std::size_t max_message_size() const noexcept;
  std::uint64_t capacity() const noexcept;
  const std::filesystem::path& path() const noexcept;
  bool consumer_attached() const;  // asks the kernel (one fcntl): not for the hot path
  void set_wait_options(const WaitOptions& wait) noexcept;

 private:
  explicit Producer(std::unique_ptr<detail::ProducerImpl> impl) noexcept;
  static std::span<const std::byte> as_bytes(std::string_view s) noexcept {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
  }
  std::unique_ptr<detail::ProducerImpl> impl_;
};
}  // namespace shmq
