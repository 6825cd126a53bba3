// What the driver and its agents (the child processes that hold a role) say to each other.
//
// The driver sends one Command at a time over a SOCK_SEQPACKET socket and waits for the Reply.
// Independently, every agent appends Events to its own log file as it acts, one write(2) each:
// what an agent did before it was killed is in its log even when its reply never came.
#pragma once

#include <cstdint>

namespace shmq::torture {

enum class Op : std::uint32_t {
  // both roles
  open,       // a: liveness ms, b: spin ns, c: checkpoint policy (producer); text: SHMQ_FAILPOINT spec
  close,      // destroy the handle
  fork_copy,  // fork(); the child destroys its copy of the handle and exits (a == 1: it stays, blocked)
  // producer
  try_send,         // a: size, b: 1 = Publish::later
  send,             // a: size (waits for room)
  send_for,         // a: size, b: timeout ms
  send_batch,       // sizes[0..count)
  reserve_commit,   // a: reserved size, b: used size, c: 1 = Publish::later (try_reserve)
  reserve_abandon,  // a: size
  publish,
  sync,
  wait_durable,   // the newest message sent
  stage_and_die,  // sizes[0..count) with try_send(Publish::later), then SIGKILL itself before publishing
  stream,         // sends small messages until told to stop (or killed); b: 1 = no event per message
  // consumer
  try_receive,  // up to a messages, kept unreleased
  receive_for,  // a: timeout ms
  receive,      // waits (the driver sends it only when the wait must end: peer_gone or data)
  release,
  poll,    // a: max
  follow,  // receive and release every a messages until told to stop; b: 1 = no event per message
  // an administrator in a process of its own
  repair,
  create_on_full_disk,  // create a queue at `text` with posix_fallocate failing ENOSPC
};

const char* to_string(Op op);

inline constexpr std::uint32_t kMaxBatch = 64;

struct Command {
  Op op{};
  std::uint32_t count = 0;  // sizes in use
  std::uint64_t a = 0, b = 0, c = 0;
  std::uint32_t sizes[kMaxBatch] = {};
  char text[160] = {};
};

enum class Outcome : std::int32_t { ok, would_block, timed_out, peer_gone, error, not_applicable };

struct Reply {
  Outcome outcome = Outcome::ok;
  std::int32_t error_code = -1;  // shmq::ErrorCode when outcome == error
  std::uint64_t a = 0, b = 0, c = 0;
  std::int64_t elapsed_ns = 0;  // how long the call took (waits)
  char text[400] = {};
};

enum class EventKind : std::uint32_t {
  producer_opened,  // seq: next sequence; x: recovery ran; y: recovery's read sequence
  committed,        // seq, gen, x: size
  published,        // seq: every message below it is published
  durable,          // seq: every message below it was acknowledged durable
  staged_dying,     // seq: first staged, x: count; the process kills itself next, unpublished
  consumer_opened,  // seq: next sequence; x: recovery ran; y: recovery's next sequence
  received,         // seq, gen, x: digest, y: 1 intact / 0 not
  released,         // seq: the consumer's next sequence after the release
  follow_summary,   // seq: next sequence; x: messages; y: 0, or the first bad sequence + 1
  msync_failed,     // the injected EIO was returned
};

struct Event {
  EventKind kind{};
  std::uint32_t gen = 0;
  std::uint64_t seq = 0, x = 0, y = 0;
};

// Events of the disk model (disk_model.hpp), appended by every process that syncs. A process
// killed while it appends one leaves it torn (a write is cut between pages), and the next
// process appends after the torn bytes: each record carries a magic and a checksum of itself, so
// that the reader skips a torn one (that msync never finished) and finds the next.
enum class DiskEventKind : std::uint32_t { synced, failed, rewritten, power_cut };
inline constexpr std::uint32_t kDiskEventMagic = 0x444b4556;  // "VEKD"
struct DiskEventHeader {
  std::uint32_t magic = kDiskEventMagic;
  DiskEventKind kind{};
  std::uint32_t page = 0;   // failed/synced: the page whose content follows; rewritten: first page
  std::uint32_t pages = 0;  // rewritten: how many
  std::uint32_t has_content = 0;
  std::uint32_t reserved = 0;
  std::uint64_t checksum = 0;  // of the header (with this field 0) and the content
};

}  // namespace shmq::torture
