// One spool queue as the shipper reads it: its consumer, the records read but not yet written to
// the output, and whether its process is still there.
//
// A record is released from the queue only once it is in the output and the output is synced
// (Shipper::commit): release() hands back everything received, so the source releases only when
// nothing it received is still pending, and stops reading once half its ring is unreleased.
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <sys/types.h>

#include "shmq/shmq.hpp"

namespace shmq::logd {

enum class SourcePhase {
  active,  // its process may still write
  ended,   // its process exited (or died) and everything it published has been read
  failed,  // a record or the queue broke the format: nothing more is read from it
};
const char* to_string(SourcePhase phase) noexcept;

// A record read but not yet written out. Its text is a view into the queue's ring: the source
// releases nothing while a record is pending, so the bytes stay in place (a hostile producer could
// still change them, which changes only what is written, never how much).
struct PendingRecord {
  std::uint64_t sequence = 0;
  std::uint64_t time_unix_ns = 0;
  std::string_view text;
};

class Source {
 public:
  // Attaches as the consumer; records below `resume_at` were shipped before and are skipped.
  // Throws shmq::Error (not_a_queue, damaged, role_taken, ...).
  Source(std::filesystem::path path, std::uint64_t resume_at);

  // Reads what is available now (never waits) into pending(). Returns how many messages it read.
  // A record that fails validation, or a queue that breaks the protocol, moves it to `failed`.
  std::size_t fill(std::uint64_t now_unix_ns);
  // When the queue is empty and nothing is pending: asks (at most every 100 ms) whether its
  // process has gone, and moves it to `ended` when it has.
  void check_ended(std::uint64_t now_unix_ns);

  std::deque<PendingRecord>& pending() noexcept { return pending_; }
  // The time at which the queue was last seen empty with nothing read since (nullopt: it may
  // hold records not read yet). The merge assumes no later record is older than this minus the
  // hold-back window.
  std::optional<std::uint64_t> empty_since() const noexcept { return empty_since_; }
  // Nothing more can be read until what was received is shipped and released.
  bool throttled() const noexcept;
  bool needs_release() const noexcept { return unreleased_messages_ > 0 && pending_.empty(); }

  // The first sequence not yet written to the output (what the state file records).
  std::uint64_t next_to_ship() const noexcept;
  // After the output holding every received record was synced and recorded: release them all.
  void release_if_shipped() noexcept;

  SourcePhase phase() const noexcept { return phase_; }
  const std::string& failure() const noexcept { return failure_; }
  bool closed_cleanly() const noexcept { return closed_cleanly_; }
  bool never_attached() const noexcept { return never_attached_; }
  const std::filesystem::path& path() const noexcept { return path_; }
  std::string name() const { return path_.filename().string(); }
  std::uint64_t published() const noexcept;  // as the queue file says now
  void detach() noexcept { consumer_.reset(); }

 private:
  void take(const Message& message);
  bool throttled_by_space() const noexcept;
  void fail(const std::string& cause);
  std::filesystem::path path_;
  std::optional<Consumer> consumer_;
  std::uint64_t resume_at_;
  std::uint64_t capacity_ = 0;
  std::deque<PendingRecord> pending_;
  std::optional<std::uint64_t> empty_since_;
  std::uint64_t unreleased_messages_ = 0;
  std::uint64_t unreleased_bytes_ = 0;
  std::uint64_t next_liveness_check_ = 0;
  SourcePhase phase_ = SourcePhase::active;
  std::string failure_;
  bool closed_cleanly_ = false;
  bool never_attached_ = false;
};

// The pid in a spool queue's name (`<program>.<pid>.<ns>.q`), if it has one.
std::optional<pid_t> pid_in_queue_name(const std::string& name);

}  // namespace shmq::logd
