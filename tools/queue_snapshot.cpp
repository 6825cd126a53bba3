#include "queue_snapshot.hpp"

#include <algorithm>
#include <atomic>
#include <optional>
#include <string>
#include <utility>

#include "checkpoint.hpp"
#include "diagnostics.hpp"
#include "live_walk.hpp"
#include "recovery.hpp"
#include "role_lock.hpp"
#include "sigbus_guard.hpp"

namespace shmq::tool {

namespace {

// Every field is read once, relaxed, except the position (acquire: pairs with the role's release
// store, so a walk that follows sees the bytes it covers). The values are informative: the
// liveness comes from the kernel's lock table, not from the file.
RoleSnapshot read_role(const detail::QueueFile& file, detail::Role role) {
  layout::Header& h = file.header();
  const layout::RoleLine& line = role == detail::Role::producer ? h.producer : h.consumer;
  const layout::WaitLine& wait = role == detail::Role::producer ? h.space_ready : h.data_ready;
  RoleSnapshot r;
  r.position = line.position.load(std::memory_order_acquire);
  r.sequence = line.sequence.load(std::memory_order_relaxed);
  r.attach_count = line.attach_count.load(std::memory_order_relaxed);
  r.fencing = line.fencing.load(std::memory_order_relaxed);
  r.fencing_errno = line.fencing_errno.load(std::memory_order_relaxed);
  r.pid = line.pid.load(std::memory_order_relaxed);
  r.attached_flag = line.attached.load(std::memory_order_relaxed) != 0;
  r.waiting = wait.waiting.load(std::memory_order_relaxed) != 0;
  r.attached = detail::role_held_by_other(file.fd(), role, file.path());
  return r;
}

// watch's check of a snapshot, at a constant cost per refresh (it never walks the whole live region):
// the positions and the first live record, checked by the walk stat uses, stopped after one record.
// Empty when nothing is wrong.
std::optional<std::string> check_live_start(const detail::RingView& view) {
  const WalkResult w = walk_until_consistent(view, 32, [](const LiveRecord&) { return false; });
  if (w.end == WalkEnd::damaged) return describe_fault(view, w);
  return std::nullopt;
}

// Whether the sequence words (watch's depth) can be subtracted: every message in [consumed,
// published) is in the ring at once, each record at least record_size(0) bytes. Not damage (stat and
// verify count from the records; a producer recomputes its word when it attaches), but a depth
// from such words would mean nothing. The consumer's word is read before the producer's and again
// now: only when it did not move in between are the two words one instant's, and the bound sure.
std::optional<std::string> impossible_sequence_words(const detail::RingView& view, const QueueSnapshot& s) {
  if (view.header->consumer.sequence.load(std::memory_order_relaxed) != s.consumer.sequence) return std::nullopt;
  const std::uint64_t most = view.capacity / layout::record_size(0);
  if (s.published >= s.consumed && s.published - s.consumed <= most) return std::nullopt;
  return "not counted: the sequence words of the role lines say published " + std::to_string(s.published) +
         ", consumed " + std::to_string(s.consumed) + ", but a ring of " + std::to_string(view.capacity) +
         " bytes holds at most " + std::to_string(most) + " messages";
}

}  // namespace

detail::QueueFile open_read_only(const std::filesystem::path& path, bool any_owner) {
  OpenOptions options;
  options.allow_other_owner = any_owner;
  install_sigbus_guard(path);
  try {
    return detail::QueueFile::open(path, detail::Access::read_only, options);
  } catch (const Error& e) {
    if (e.fault() != Fault::owner) throw;
    // The library names its option; the tool's user needs the flag.
    throw Error(ErrorCode::foreign_owner, path,
                "owned by uid " + std::to_string(e.found()) + ", not by you (uid " + std::to_string(e.expected()) +
                    "); use --any-owner to inspect it",
                0, Fault::owner, e.found(), e.expected());
  }
}

QueueSnapshot take_snapshot(const detail::QueueFile& file, DepthFrom depth_from) {
  QueueSnapshot s;
  s.path = file.path();
  s.identity = file.identity();
  s.file_size = layout::kHeaderSize + s.identity.capacity;
  s.taken = std::chrono::steady_clock::now();
  s.taken_unix_ns = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  // The consumer first: the write position read after it is never behind it.
  s.consumer = read_role(file, detail::Role::consumer);
  s.producer = read_role(file, detail::Role::producer);
  s.durable_mode = (s.identity.flags & layout::kFlagDurable) != 0;
  if (s.durable_mode) {
    if (const std::optional<layout::Checkpoint> c = detail::newest_checkpoint(file.header(), s.identity)) {
      s.durable = DurableSnapshot{c->counter, c->write_position, c->write_sequence, c->read_position, c->unix_ns};
    }
  }
  s.recovery_pending = !detail::used_in_this_boot(file.header(), file.path());

  const detail::RingView view = file.ring_view();
  if (depth_from == DepthFrom::walk) {
    const WalkResult w = walk_until_consistent(view);
    if (w.end == WalkEnd::complete) {
      s.read = w.read;
      s.write = w.write;
      s.consumed = w.first_sequence;
      s.published = w.next_sequence;
      s.depth_messages = w.messages;
      s.depth_bytes = w.write - w.read;
      return s;
    }
    if (w.end == WalkEnd::damaged) {
      s.problem = describe_fault(view, w);
      s.depth_note = "not counted: the live region is damaged";
    } else {
      s.depth_note = "from the sequence words: the consumer moved during every walk";
    }
  } else {
    s.depth_note = "from the sequence words of the role lines";
  }
  s.read = s.consumer.position;
  // The producer's words lag its commit words by one publication when it was stopped or killed
  // between the two stores, and the consumer may have released past them (published_lower_bound).
  s.write =
      detail::published_lower_bound(s.read, s.producer.position, s.identity.capacity).value_or(s.producer.position);
  s.consumed = s.consumer.sequence;
  s.published = s.write != s.producer.position ? std::max(s.producer.sequence, s.consumed) : s.producer.sequence;
  s.depth_bytes = std::min(s.write - s.read, s.identity.capacity);
  if (depth_from == DepthFrom::counters) {
    s.problem = check_live_start(view);
    if (s.problem) {
      s.depth_note = "not counted: the live region is damaged";
      return s;
    }
    if (std::optional<std::string> impossible = impossible_sequence_words(view, s)) {
      s.depth_note = std::move(*impossible);
      return s;
    }
  }
  if (!s.problem && s.published >= s.consumed) s.depth_messages = s.published - s.consumed;
  return s;
}

}  // namespace shmq::tool
