// Options for creating and opening a queue.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include <sys/types.h>

namespace shmq {

// How a blocking call waits: spin first, then park on a shared futex.
struct WaitOptions {
  // Spin (re-reading the peer's position with a pause instruction) this long before parking.
  // Parking and being woken costs ~20-45 us on a VM (the waker's FUTEX_WAKE plus waking a halted
  // vCPU), so spinning for about that long keeps a busy queue at busy-poll latency while costing an
  // idle queue at most one such spin per message (the classic spin-then-block bound: never worse
  // than 2x the optimal choice). 0 parks at once.
  std::chrono::nanoseconds spin = std::chrono::microseconds(50);
  // A parked waiter wakes this often to ask the kernel whether the peer still holds its role lock
  // (a peer killed with SIGKILL cannot wake anyone). This bounds how late "peer_gone" is reported.
  std::chrono::milliseconds liveness_interval{100};
  // true (the default): return Status::peer_gone once the peer role is vacant (a consumer: once the
  // queue is drained). Suits a program whose work ends with its peer: a consumer of one batch job,
  // or a producer that must report a consumer it cannot do without.
  // false: keep waiting for the next process to take the role. Suits long-running pipelines, where
  // either side may crash and be restarted: a consumer that follows a queue across producer
  // restarts (like `tail -f`), or a producer fed by a long-running program (shmq-producer --stdin
  // waits for the next consumer this way by default).
  bool return_on_peer_gone = true;
};

// When the producer of a durable queue takes checkpoints (msync of new records, then of a
// checkpoint slot). Either, both, or neither (explicit only: Producer::sync()). Whatever the
// policy, a producer that needs ring space still held by the last checkpoint takes one at once.
struct CheckpointPolicy {
  std::uint64_t bytes = 0;                 // after this many bytes are published (0: off)
  std::chrono::milliseconds interval{10};  // this often, from a thread the producer owns (0: off)
};

struct CreateOptions {
  // Ring size in bytes: a power of two from 4 KiB to 1 TiB. The file is this plus a 16 KiB header,
  // fully allocated at create. The largest message is capacity - 40 bytes (its record header, the
  // header of the next record, which the producer clears before publishing, and 8 bytes of
  // alignment), and at most 2^31 - 1.
  std::uint64_t capacity = std::uint64_t{1} << 20;
  // File mode, applied exactly (the umask does not change it).
  mode_t mode = 0600;
  // Durable mode: the producer keeps msync checkpoints so the queue survives an OS crash or power
  // loss up to its last checkpoint (a queue on a real file system; /dev/shm forgets on reboot).
  bool durable = false;
  CheckpointPolicy checkpoints{};  // the default policy of a durable queue (OpenOptions may override)
  // Every record carries an XXH3-based checksum, checked by the consumer and by recovery.
  // Default: on for durable queues (recovery needs them to find a torn tail), off otherwise.
  std::optional<bool> checksums{};
  // For tests of wrap-around arithmetic: the byte position the queue starts at (8-aligned).
  std::uint64_t initial_position = 0;
};

// How a handle orders each publication (producer) or release (consumer) before it looks whether
// the peer is parked (docs/DESIGN.md, "Waking without a fence per message").
enum class Fencing {
  // membarrier(2) where the kernel and any seccomp filter allow it: no fence per message; a peer
  // about to park pays one membarrier system call instead. Else, and with SHMQ_FENCING=full in
  // the environment, `full`. `shmq stat` shows what each side uses, and why.
  automatic,
  // One full fence per publication or release (an `mfence` on x86): no system call when parking.
  // Cheaper where most waits park: a membarrier costs tens of microseconds on some VMs.
  full,
};

struct OpenOptions {
  // Accept a queue file owned by another uid (by default only the caller's own files are opened).
  bool allow_other_owner = false;
  WaitOptions wait{};
  Fencing fencing = Fencing::automatic;
  // Durable queues: replaces the checkpoint policy stored at create, for this producer.
  std::optional<CheckpointPolicy> checkpoints{};
};

}  // namespace shmq
