// One look at a queue file opened read-only: its identity, both roles, the positions and sequence
// numbers, the depth, and (from the format that adds them) the checkpoints. Reading it writes
// nothing. Peers may be running: the numbers are a snapshot, each read once from the mapping.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "layout.hpp"
#include "queue_file.hpp"

namespace shmq::tool {

// Opens `path` for reading only (O_RDONLY, PROT_READ) after the library has validated its header,
// and arms the SIGBUS guard for it. Throws shmq::Error naming the file.
detail::QueueFile open_read_only(const std::filesystem::path& path, bool any_owner);

struct RoleSnapshot {
  bool attached = false;            // an open file description holds the role's lock (asked the kernel)
  std::uint32_t pid = 0;            // recorded at the role's last attach: informative only (reused, namespaced)
  bool attached_flag = false;       // recorded: set at attach, cleared at a clean detach (a killed peer leaves it)
  std::uint64_t attach_count = 0;   // 0: the role was never taken
  std::uint64_t position = 0;       // the role line's position (producer: write, consumer: read)
  std::uint64_t sequence = 0;       // the role line's sequence (producer: next to publish, consumer: next to read)
  bool waiting = false;             // announced as parked on its futex (stale if it died parked)
  std::uint32_t fencing = 0;        // layout::kFencing*: how it orders publications before its wake check
  std::uint32_t fencing_errno = 0;  // why not membarrier (0: it uses it, or full fences were requested)
};

// The newest valid checkpoint of a durable queue: messages below `sequence` (ring bytes below
// `position`) survive an OS crash or power loss.
struct DurableSnapshot {
  std::uint64_t counter = 0;             // checkpoints taken so far (1: the one written at create)
  std::uint64_t position = 0;            // durable end of the published records
  std::uint64_t sequence = 0;            // durable watermark: the sequence after the last durable message
  std::uint64_t read_position = 0;       // the consumer's position at the checkpoint
  std::uint64_t checkpoint_unix_ns = 0;  // when it was taken
};

enum class DepthFrom {
  walk,      // count the records between the positions (checks each one; cost grows with the depth)
  counters,  // subtract the sequence words of the role lines; check only the positions and the
             // first live record (constant cost; for `watch`)
};

struct QueueSnapshot {
  std::filesystem::path path;
  layout::Identity identity{};
  std::uint64_t file_size = 0;
  RoleSnapshot producer;
  RoleSnapshot consumer;
  std::uint64_t read = 0;                       // consumer's released position
  std::uint64_t write = 0;                      // producer's published position
  std::uint64_t consumed = 0;                   // first sequence not released = messages consumed so far
  std::uint64_t published = 0;                  // next sequence to publish = messages published so far
  std::optional<std::uint64_t> depth_messages;  // empty when it could not be counted (see `problem`)
  std::uint64_t depth_bytes = 0;                // write - read: record headers and padding included
  std::string depth_note;                       // how the depth was found when not by a clean walk
  std::optional<std::string> problem;           // damage found in the live region
  bool durable_mode = false;                    // a durable queue (layout::kFlagDurable)
  std::optional<DurableSnapshot> durable;       // durable queues: the newest valid checkpoint, if any
  bool recovery_pending = false;                // last used in another boot: the next read-write open recovers it
  std::chrono::steady_clock::time_point taken{};
  std::uint64_t taken_unix_ns = 0;

  bool checksums() const noexcept { return (identity.flags & layout::kFlagChecksums) != 0; }
  // Published messages not covered by the checkpoint (what an OS crash would lose now).
  std::uint64_t durable_lag_messages() const noexcept {
    return durable && published > durable->sequence ? published - durable->sequence : 0;
  }
  // How old the checkpoint was when the snapshot was taken.
  std::chrono::nanoseconds checkpoint_age() const noexcept {
    return durable && taken_unix_ns > durable->checkpoint_unix_ns
               ? std::chrono::nanoseconds(taken_unix_ns - durable->checkpoint_unix_ns)
               : std::chrono::nanoseconds(0);
  }
  double fill() const noexcept { return static_cast<double>(depth_bytes) / static_cast<double>(identity.capacity); }
};

QueueSnapshot take_snapshot(const detail::QueueFile& file, DepthFrom depth_from);

}  // namespace shmq::tool
