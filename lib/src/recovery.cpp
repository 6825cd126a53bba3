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
#include "system.hpp"

namespace shmq::detail {
namespace {

[[noreturn]] void refuse(const std::filesystem::path& path, const std::string& why) {
  throw Error(ErrorCode::damaged, path, why + " (the file was left untouched)");
}

void adopt_boot(layout::Header& h) {
  const BootId boot = sys().boot_id();
  std::memcpy(h.boot.boot_id, boot.data(), boot.size());
}

// Sequence of the first message at or after `position` (< limit), from its record header.
std::uint64_t sequence_at(const RingView& view, std::uint64_t position, std::uint64_t limit, std::uint64_t if_empty) {
  const std::uint64_t tail = view.capacity - (position & (view.capacity - 1));
  if (tail < sizeof(layout::RecordHeader)) position += tail;
  if (position - limit == 0 || limit - position > view.capacity) return if_empty;
  return load_record_header(view.data + (position & (view.capacity - 1))).sequence;
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
// sets both positions and sequences, writes and syncs checkpoint `counter` (durable queues), and
// records this boot. Each step is safe to crash in: until the new checkpoint is synced the old one
// is in force, and recovery (or repair) runs again with the same result.
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
  adopt_boot(h);
}

}  // namespace

bool used_in_this_boot(const layout::Header& header) {
  const BootId boot = sys().boot_id();
  return std::memcmp(header.boot.boot_id, boot.data(), boot.size()) == 0;
}

RecoveryReport recover_if_needed(QueueFile& file) {
  RecoveryReport report;
  layout::Header& h = file.header();
  if (used_in_this_boot(h)) return report;
  RecoveryLock lock(file.fd(), file.path());
  if (used_in_this_boot(h)) return report;  // another process recovered it while we waited

  const layout::Identity& id = file.identity();
  const RingView view = file.ring_view();
  if ((id.flags & layout::kFlagDurable) == 0) {
    // Nothing to recover from: the positions in the file are all there is.
    logger()->warn("{} was last used before a reboot and is not durable: its contents are taken as found",
                   file.path().string());
    adopt_boot(h);
    return report;
  }

  const std::optional<layout::Checkpoint> checkpoint = newest_checkpoint(h, id);
  if (!checkpoint) refuse(file.path(), "needs recovery, but both checkpoint slots are invalid");
  const std::uint64_t read = checkpoint->read_position;
  const std::uint64_t durable_end = checkpoint->write_position;
  const std::uint64_t read_sequence = sequence_at(view, read, durable_end, checkpoint->write_sequence);

  // Everything up to the checkpoint's write position was synced before the checkpoint: it must
  // all be there. Past it, keep what validates (only checksums can tell a torn record).
  Scan scan = scan_records(view, read, durable_end, read_sequence);
  if (!scan.stopped.empty()) refuse(file.path(), "records the checkpoint made durable are damaged: " + scan.stopped);
  if (scan.next_sequence != checkpoint->write_sequence) {
    refuse(file.path(), "the checkpoint's sequence " + std::to_string(checkpoint->write_sequence) +
                            " does not match its records (" + std::to_string(scan.next_sequence) + ")");
  }
  if (view.checksums) {
    scan = scan_records(view, durable_end, read + view.capacity, checkpoint->write_sequence);
    if (scan.stopped.empty()) scan.stopped = "the ring is full";
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

}  // namespace shmq::detail

namespace shmq {

RecoveryReport repair_queue(const std::filesystem::path& path, const OpenOptions& options) {
  using namespace detail;
  try {
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
      throw Error(ErrorCode::damaged, path,
                  "cannot repair: the read position " + std::to_string(read) + " is not aligned");
    }
    const std::uint64_t fallback =
        checkpoint ? checkpoint->write_sequence : h.consumer.sequence.load(std::memory_order_relaxed);
    const std::uint64_t read_sequence = sequence_at(view, read, read + view.capacity, fallback);
    // Without checksums a torn record cannot be told from a good one: keep only what the file's
    // own write position vouches for.
    const std::uint64_t limit =
        view.checksums ? read + view.capacity : h.producer.position.load(std::memory_order_relaxed);
    Scan scan = scan_records(view, read, limit - read <= view.capacity ? limit : read, read_sequence);
    if (scan.stopped.empty()) scan.stopped = "end of the ring";
    RecoveryReport report;
    report.ran = true;
    report.checkpoint = checkpoint ? checkpoint->counter : 0;
    report.durable_sequence = checkpoint ? checkpoint->write_sequence : 0;
    install_state(file, view, read, read_sequence, scan, checkpoint ? checkpoint->counter + 1 : 1, report);
    logger()->warn("repaired {}: {} messages kept from sequence {}, {} bytes cleared ({})", path.string(),
                   report.recovered_messages, report.read_sequence, report.discarded_bytes, report.stopped_because);
    return report;
  } catch (const Error& e) {
    logger()->error("{}", e.what());
    throw;
  }
}

}  // namespace shmq
