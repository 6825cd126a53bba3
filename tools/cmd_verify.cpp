// shmq verify PATH: checks the header, the checkpoint slots of a durable queue, the positions, and
// every record of the live region (with its checksum where records carry one), read-only. Exit 0 clean, 1 damaged, 2
// not a queue file or unreadable.
#include <cstddef>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "diagnostics.hpp"
#include "checkpoint.hpp"
#include "live_walk.hpp"
#include "queue_snapshot.hpp"
#include "recovery.hpp"
#include "role_lock.hpp"
#include "units.hpp"

namespace shmq::tool {

namespace {

constexpr int kAttempts = 64;  // walks that raced with a releasing consumer are repeated this often

int damaged(const std::string& path, const std::string& where_and_what) {
  std::cout << fmt::format("{}: damaged: {}\n", path, where_and_what);
  return kExitDamaged;
}

struct CheckpointCheck {
  std::optional<std::string> damage;
  std::string summary;
};

// Both checkpoint slots of a durable queue. One torn slot is normal after a crash during a
// checkpoint (the other, one checkpoint older, is used); no valid slot at all is damage, and so is
// a checkpoint ahead of the write position (checked only when no producer may be taking one now).
CheckpointCheck check_checkpoints(const detail::QueueFile& file, const WalkResult& walk, bool producer_attached) {
  const layout::Identity& id = file.identity();
  if ((id.flags & layout::kFlagDurable) == 0) return {std::nullopt, "n/a (not a durable queue)"};
  const layout::Header& h = file.header();
  std::string slots;
  std::optional<layout::Checkpoint> newest;
  for (int slot = 0; slot < 2; ++slot) {
    const layout::Checkpoint& raw = slot == 0 ? h.slot0 : h.slot1;
    const std::uint64_t counter = __atomic_load_n(&raw.counter, __ATOMIC_RELAXED);
    const std::optional<layout::Checkpoint> c = detail::read_checkpoint_slot(h, slot, id);
    slots += fmt::format(", slot {} (file offset {}): ", slot,
                         slot == 0 ? offsetof(layout::Header, slot0) : offsetof(layout::Header, slot1));
    if (c) {
      slots += fmt::format("checkpoint {}", c->counter);
      if (!newest || c->counter > newest->counter) newest = c;
    } else {
      slots += counter == 0 ? "never written" : "invalid (torn or overwritten)";
    }
  }
  if (!newest) {
    return {fmt::format("checkpoint slots: neither holds a valid checkpoint{} (a durable queue always has one)", slots),
            {}};
  }
  if (!producer_attached && detail::used_in_this_boot(h, file.path()) &&
      static_cast<std::int64_t>(newest->write_position - walk.write) > 0) {
    return {fmt::format("checkpoint {}: durable position {} is ahead of the write position {}{}", newest->counter,
                        newest->write_position, walk.write, slots),
            {}};
  }
  return {std::nullopt, fmt::format("ok: newest {} (durable sequence {}, position {}){}", newest->counter,
                                    newest->write_sequence, newest->write_position, slots)};
}

int verify(const QueueArgs& args) {
  std::optional<detail::QueueFile> opened;
  try {
    opened.emplace(open_read_only(args.path, args.any_owner));
  } catch (const Error& e) {
    // The library validated the identity block (and the file size against it) before mapping.
    if (e.code() == ErrorCode::damaged_file) {
      const std::string cause = cause_of(e);
      const bool size = e.fault() == Fault::size;  // the size disagrees with the capacity in the header
      return damaged(args.path,
                     size ? "file size: " + cause
                          : fmt::format("header (file offsets 0-{}): {}", sizeof(layout::Identity) - 1, cause));
    }
    throw;  // not a queue, another format, unreadable: exit 2 with the library's message
  }
  const detail::QueueFile& file = *opened;
  const detail::RingView view = file.ring_view();
  const layout::Identity& id = file.identity();

  const WalkResult walk = walk_until_consistent(view, kAttempts);
  if (walk.end == WalkEnd::damaged) {
    const std::string intact = walk.fault_in_positions ? ""
                                                       : fmt::format(" ({} message{} before it intact)", walk.messages,
                                                                     walk.messages == 1 ? "" : "s");
    return damaged(args.path, describe_fault(view, walk) + intact);
  }
  if (walk.end == WalkEnd::raced) {
    log().error(
        "{}: could not verify the live region: the consumer released records while they were being read "
        "({} attempts); the header is intact. Try again when the queue is quieter.",
        args.path, kAttempts);
    return kExitFailed;
  }

  // With no consumer attached, its sequence word must be one the library accepts: a consumer
  // attaching to an empty queue takes its next sequence number from there.
  const layout::Header& h = file.header();
  const bool consumer_attached = detail::role_held_by_other(file.fd(), detail::Role::consumer, file.path());
  const bool producer_attached = detail::role_held_by_other(file.fd(), detail::Role::producer, file.path());
  const std::uint64_t consumer_sequence = h.consumer.sequence.load(std::memory_order_relaxed);
  if (!consumer_attached && walk.messages > 0 &&
      !detail::consumer_sequence_is_valid(consumer_sequence, walk.first_sequence, walk.next_sequence) &&
      h.consumer.position.load(std::memory_order_acquire) == walk.read) {
    return damaged(args.path,
                   fmt::format("consumer line (file offset {}): its sequence word says {}, but the unconsumed "
                               "records from ring position {} have sequences {} to {}",
                               offsetof(layout::Header, consumer) + offsetof(layout::RoleLine, sequence),
                               consumer_sequence, walk.read, walk.first_sequence, walk.next_sequence - 1));
  }

  const CheckpointCheck checkpoints = check_checkpoints(file, walk, producer_attached);
  if (checkpoints.damage) return damaged(args.path, *checkpoints.damage);

  std::cout << fmt::format("{}: clean\n", args.path)
            << fmt::format("  header       ok: format {}, capacity {}, checksums {}\n", id.format_version,
                           format_size(id.capacity), (id.flags & layout::kFlagChecksums) != 0 ? "on" : "off")
            << fmt::format("  positions    ok: read {}, write {} ({} bytes live)\n", walk.read, walk.write,
                           walk.write - walk.read);
  if (walk.messages == 0) {
    std::cout << fmt::format("  records      none live (next sequence {})\n", walk.next_sequence);
  } else {
    std::cout << fmt::format("  records      ok: {} message{}, sequences {} to {}{}\n", walk.messages,
                             walk.messages == 1 ? "" : "s", walk.first_sequence, walk.next_sequence - 1,
                             (id.flags & layout::kFlagChecksums) != 0
                                 ? ", checksums verified"
                                 : "; payloads not checked: queue has no checksums");
  }
  std::cout << fmt::format("  checkpoints  {}\n", checkpoints.summary);
  if (!detail::used_in_this_boot(h, file.path())) {
    std::cout << "  note         last used in another boot of the machine: the next producer or consumer to open it "
                 "recovers it first\n";
  }
  const std::uint64_t producer_sequence = h.producer.sequence.load(std::memory_order_relaxed);
  if (!producer_attached && h.producer.position.load(std::memory_order_acquire) == walk.write &&
      producer_sequence != walk.next_sequence) {
    std::cout << fmt::format(
        "  note         the producer's sequence word says {}, the records say {} (informative: "
        "a producer recomputes it when it attaches)\n",
        producer_sequence, walk.next_sequence);
  }
  if (producer_attached || consumer_attached) {
    std::cout << "  note         checked while a peer is attached: a snapshot of a moving queue\n";
  }
  return kExitOk;
}

}  // namespace

Command add_verify(CLI::App& app) {
  auto o = std::make_shared<QueueArgs>();
  CLI::App* sub = app.add_subcommand("verify", "Check the header and every record of the live region (read-only)");
  add_queue_args(*sub, *o);
  sub->footer(
      "Exit code: 0 clean; 1 damaged (says where: file offset, ring position, sequence, and what); "
      "2 not a queue file, of another format, or unreadable, or no consistent view of a queue in use.");
  return {sub, [o] { return verify(*o); }};
}

}  // namespace shmq::tool
