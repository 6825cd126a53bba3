#include "recovery.hpp"

#include <chrono>
#include <cstring>

#include <spdlog/spdlog.h>

#include "checkpoint.hpp"
#include "failpoint.hpp"
#include "attachment.hpp"
#include "role_lock.hpp"
#include "shmq/error.hpp"
#include "shmq/log.hpp"
#include "shmq/queue.hpp"
#include "system.hpp"

namespace shmq::detail {
namespace {

[[noreturn]] void refuse(const std::filesystem::path& path, const std::string& why) {
  throw Error(ErrorCode::damaged_file, path, why + " (the file was left untouched)");
}

void adopt_boot(layout::Header& h, const std::filesystem::path& path) {
  const BootId boot = current_boot_id(path);
  std::memcpy(h.boot.boot_id, boot.data(), boot.size());
}

// Sequence of the message whose commit word is at the first record position at or after
// `position`, if one is committed there (0 there: nothing published; other words: damage).
std::optional<std::uint64_t> committed_sequence_at(const RingView& view, std::uint64_t position) {
  const std::uint64_t at = next_record_position(position, view.capacity);
  const std::uint64_t commit = load_commit_word(view.data + (at & (view.capacity - 1)));
  if ((commit & layout::kCommitted) == 0) return std::nullopt;
  return sequence_of(commit);
}

// Zeroes the ring bytes of positions [from, to) (to - from <= capacity) and syncs them.
int clear_ring(const RingView& view, std::uint64_t from, std::uint64_t to) {
  const std::uint64_t first = from & (view.capacity - 1);
  const std::uint64_t length = to - from;
  if (length == 0) return 0;
  const std::uint64_t head = std::min(length, view.capacity - first);
  std::memset(view.data + first, 0, head);
  int rc = sync_range(view.data + first, head);
  if (rc == 0 && head < length) {
    std::memset(view.data, 0, length - head);
    rc = sync_range(view.data, length - head);
  }
  return rc;
}

// Installs the state found by a scan from `read`: clears the ring after the last valid record,
// sets both positions and sequences, syncs the records kept and then writes and syncs checkpoint
// `counter` (durable queues), and records this boot. Each step is safe to crash in: until the new checkpoint is synced
// the old one is in force, and recovery (or repair) runs again with the same result.
void install_state(QueueFile& file, const RingView& view, std::uint64_t read, std::uint64_t read_sequence,
                   const Scan& scan, std::uint64_t counter, RecoveryReport& report) {
  layout::Header& h = file.header();
  report.recovered_messages = scan.messages;
  report.discarded_bytes = read + view.capacity - scan.end;
  report.next_sequence = scan.next_sequence;
  report.read_sequence = read_sequence;
  report.stopped_because = scan.stopped;
  if (const int rc = clear_ring(view, scan.end, read + view.capacity); rc != 0) {
    throw Error(ErrorCode::io, file.path(), "recovery could not clear the discarded tail", rc);
  }
  SHMQ_FAILPOINT("recovery.after_clear");
  h.producer.position.store(scan.end, std::memory_order_relaxed);  // no peer attached: we hold the recovery lock
  h.producer.sequence.store(scan.next_sequence, std::memory_order_relaxed);
  h.consumer.position.store(read, std::memory_order_relaxed);
  h.consumer.sequence.store(read_sequence, std::memory_order_relaxed);
  h.data_ready.waiting.store(0, std::memory_order_relaxed);
  h.space_ready.waiting.store(0, std::memory_order_relaxed);
  h.producer.attached.store(0, std::memory_order_relaxed);
  h.consumer.attached.store(0, std::memory_order_relaxed);
  SHMQ_FAILPOINT("recovery.after_positions");
  if ((file.identity().flags & layout::kFlagDurable) != 0) {
    // The new checkpoint vouches for every record kept: they reach the disk first (repair keeps
    // records no checkpoint covered; recovery's may sit in pages a failed writeback left clean).
    if (const int rc = rewrite_and_sync_ring(file.fd(), view, read, scan.end); rc != 0) {
      throw Error(ErrorCode::io, file.path(), "could not sync the records it keeps", rc);
    }
    SHMQ_FAILPOINT("recovery.after_records_sync");
    layout::Checkpoint next{};
    next.counter = counter;
    next.write_position = scan.end;
    next.write_sequence = scan.next_sequence;
    next.read_position = read;
    next.unix_ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
    next.instance_id = file.identity().instance_id;
    write_checkpoint_slot(h, next);
    SHMQ_FAILPOINT("recovery.after_slot_write");
    if (const int rc = sync_checkpoint_slot(h, next.counter); rc != 0) {
      throw Error(ErrorCode::io, file.path(), "recovery could not sync its checkpoint", rc);
    }
    SHMQ_FAILPOINT("recovery.after_slot_sync");
  }
  h.boot.recoveries.fetch_add(1, std::memory_order_relaxed);
  adopt_boot(h, file.path());
}

}  // namespace

bool used_in_this_boot(const layout::Header& header, const std::filesystem::path& path) {
  const BootId boot = current_boot_id(path);
  return std::memcmp(header.boot.boot_id, boot.data(), boot.size()) == 0;
}

RecoveryReport recover_if_needed(QueueFile& file) {
  RecoveryReport report;
  layout::Header& h = file.header();
  if (used_in_this_boot(h, file.path())) return report;
  RecoveryLock lock(file.fd(), file.path());
  if (used_in_this_boot(h, file.path())) return report;  // another process recovered it while we waited
  // A peer attached now took its role after its own open, which recovers under this lock first,
  // or in a boot whose id this file does not hold; either way its page cache is live: nothing was
  // lost, and clearing the ring under it would destroy what it is writing.
  for (const Role role : {Role::producer, Role::consumer}) {
    if (role_held_by_other(file.fd(), role, file.path())) {
      logger()->warn("{} holds another boot's id but its {} is attached: the page cache is live, nothing to recover",
                     file.path().string(), to_string(role));
      adopt_boot(h, file.path());
      return report;
    }
  }

  const layout::Identity& id = file.identity();
  const RingView view = file.ring_view();
  if ((id.flags & layout::kFlagDurable) == 0) {
    // Nothing to recover from: the positions in the file are all there is.
    logger()->warn("{} was last used before a reboot and is not durable: its contents are taken as found",
                   file.path().string());
    adopt_boot(h, file.path());
    return report;
  }

  const std::optional<layout::Checkpoint> checkpoint = newest_checkpoint(h, id);
  if (!checkpoint) refuse(file.path(), "needs recovery, but both checkpoint slots are invalid");
  const std::uint64_t read = checkpoint->read_position;
  const std::uint64_t durable_end = checkpoint->write_position;
  // Durable records from `read` on: the first one carries the sequence there; none: the checkpoint's.
  const std::uint64_t read_sequence = read == durable_end
                                          ? checkpoint->write_sequence
                                          : committed_sequence_at(view, read).value_or(checkpoint->write_sequence);

  // Everything up to the checkpoint's write position was synced before the checkpoint: it must
  // all be there. Past it, keep what validates (only checksums can tell a torn record).
  Scan scan = scan_records(view, read, durable_end, read_sequence);
  if (!scan.stopped.empty()) refuse(file.path(), "records the checkpoint made durable are damaged: " + scan.stopped);
  if (scan.next_sequence != checkpoint->write_sequence) {
    refuse(file.path(), "the checkpoint's sequence " + std::to_string(checkpoint->write_sequence) +
                            " does not match its records (" + std::to_string(scan.next_sequence) + ")");
  }
  if (view.checksums) {
    // Past the checkpoint, only what the producer published: records it committed but never
    // published (a staged batch) may validate, yet they were never sent and the application,
    // never told they were, may send the same work again. The write position as the disk kept it
    // is at most what was published; older than the checkpoint (page 0 not written back since),
    // it vouches for nothing more.
    const std::uint64_t published = h.producer.position.load(std::memory_order_relaxed);
    const bool vouches =
        published % layout::kRecordAlign == 0 && published - durable_end <= read + view.capacity - durable_end;
    scan = scan_records(view, durable_end, vouches ? published : durable_end, checkpoint->write_sequence);
    if (scan.stopped.empty()) {
      scan.stopped = vouches ? "the last published position the disk kept"
                             : "the checkpoint (no later published position on disk)";
    }
  } else {
    scan = Scan{durable_end, checkpoint->write_sequence, 0,
                "records carry no checksums: nothing after the checkpoint can be trusted"};
  }

  report.ran = true;
  report.checkpoint = checkpoint->counter;
  report.durable_sequence = checkpoint->write_sequence;
  install_state(file, view, read, read_sequence, scan, checkpoint->counter + 1, report);
  logger()->warn(
      "recovered {} from checkpoint {}: {} messages durable, {} more recovered after it, {} bytes discarded ({})",
      file.path().string(), report.checkpoint, report.durable_sequence, report.recovered_messages,
      report.discarded_bytes, report.stopped_because);
  return report;
}

namespace {

// What a file shows of the sequence numbers handed out so far: the sequence words of both role
// lines and of each valid checkpoint. Each is at most the true next sequence in an undamaged file
// (the producer stores its word after publishing, the consumer its word for what it read, a
// checkpoint what was published). A word with the commit bit set cannot be a sequence number.
struct SequenceEvidence {
  std::optional<std::uint64_t> highest;
  std::string words;  // for the error: every word and where it is
};

SequenceEvidence sequence_evidence(const layout::Header& h, const layout::Identity& id) {
  SequenceEvidence e;
  auto add = [&](const char* what, std::uint64_t word) {
    e.words += std::string(e.words.empty() ? "" : ", ") + what + " " + std::to_string(word);
    if ((word & layout::kCommitted) != 0) {
      e.words += " (impossible)";
      return;
    }
    e.highest = std::max(e.highest.value_or(0), word);
  };
  add("producer line", h.producer.sequence.load(std::memory_order_relaxed));
  add("consumer line", h.consumer.sequence.load(std::memory_order_relaxed));
  for (int slot = 0; slot < 2; ++slot) {
    if (const std::optional<layout::Checkpoint> c = read_checkpoint_slot(h, slot, id)) {
      add(slot == 0 ? "checkpoint slot 0" : "checkpoint slot 1", c->write_sequence);
    }
  }
  return e;
}

}  // namespace

}  // namespace shmq::detail

namespace shmq {

RecoveryReport repair_queue(const std::filesystem::path& path, const OpenOptions& options,
                            const RepairOptions& repair) {
  using namespace detail;
  QueueFile file = QueueFile::open(path, Access::read_write, options);
  take_role(file, Role::producer);  // nobody may use the queue while it is repaired
  take_role(file, Role::consumer);
  RecoveryLock lock(file.fd(), file.path());
  layout::Header& h = file.header();
  const RingView view = file.ring_view();
  // Start from the newest valid checkpoint if there is one, else from the consumer's position.
  const std::optional<layout::Checkpoint> checkpoint = newest_checkpoint(h, file.identity());
  const std::uint64_t read =
      checkpoint ? checkpoint->read_position : h.consumer.position.load(std::memory_order_relaxed);
  if (read % layout::kRecordAlign != 0) {
    throw Error(ErrorCode::damaged_file, path,
                "cannot repair: the read position " + std::to_string(read) + " is not aligned");
  }
  // How far records may be kept. In the boot that wrote the file the page cache is the one the
  // peers wrote, and the commit words say what was published (staged records sit behind a 0),
  // as at attach. After a reboot the pages may be any versions the disk kept: then only up to the
  // write position the file holds, as recovery does (a staged record may validate); a position
  // that is itself impossible vouches for nothing, and then checksums decide how far records are
  // valid, and without them nothing is kept.
  const bool live_cache = used_in_this_boot(h, path);
  const std::optional<std::uint64_t> published =
      published_lower_bound(read, h.producer.position.load(std::memory_order_relaxed), view.capacity);
  const std::uint64_t limit = live_cache       ? read + view.capacity
                              : published      ? *published
                              : view.checksums ? read + view.capacity
                                               : read;
  // The records decide the sequence at `read` when a valid one is there; else the file's words.
  const SequenceEvidence evidence = sequence_evidence(h, file.identity());
  Scan scan;
  if (const std::optional<std::uint64_t> at_read = committed_sequence_at(view, read)) {
    scan = scan_records(view, read, limit, *at_read);
  }
  if (scan.messages == 0) scan = Scan{read, evidence.highest.value_or(0), 0, "no valid record at the read position"};
  if (scan.stopped.empty())
    scan.stopped = live_cache ? "the records end" : published ? "the write position" : "end of the ring";

  const bool untold = scan.messages == 0 && !evidence.highest;
  const bool reuses = evidence.highest && *evidence.highest > scan.next_sequence;
  if (repair.next_sequence) {
    const std::uint64_t least = std::max(scan.next_sequence, evidence.highest.value_or(0));
    if (*repair.next_sequence < least) {
      throw Error(ErrorCode::usage, path,
                  "cannot repair with next sequence " + std::to_string(*repair.next_sequence) + ": the file shows " +
                      std::to_string(least) + " was reached (" + evidence.words + ")");
    }
    if (*repair.next_sequence != scan.next_sequence) {
      scan = Scan{read, *repair.next_sequence, 0,
                  "the next sequence was set to " + std::to_string(*repair.next_sequence) + " (the ring holds no gap)"};
    }
  } else if (untold || reuses) {
    throw Error(ErrorCode::damaged_file, path,
                (untold ? std::string("cannot repair: nothing tells the next sequence number (no valid record at the "
                                      "read position, and no sequence word that can be one: ")
                        : "cannot repair: the records kept end at sequence " + std::to_string(scan.next_sequence) +
                              ", but the file shows " + std::to_string(*evidence.highest) +
                              " was reached, so continuing would hand out numbers again (") +
                    evidence.words +
                    "); give the next sequence number (shmq repair --next-sequence N) to repair it anyway "
                    "(the file was left untouched)");
  }
  const std::uint64_t read_sequence = scan.next_sequence - scan.messages;
  RecoveryReport report;
  report.ran = true;
  report.checkpoint = checkpoint ? checkpoint->counter : 0;
  report.durable_sequence = checkpoint ? checkpoint->write_sequence : 0;
  install_state(file, view, read, read_sequence, scan, checkpoint ? checkpoint->counter + 1 : 1, report);
  logger()->warn("repaired {}: {} messages kept from sequence {}, next sequence {}, {} bytes cleared ({})",
                 path.string(), report.recovered_messages, report.read_sequence, report.next_sequence,
                 report.discarded_bytes, report.stopped_because);
  return report;
}

}  // namespace shmq
