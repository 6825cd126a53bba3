// Administering queue files without attaching to them: create, inspect, repair, remove. Each
// takes a path, works on exactly the file it checked (never through a symlink), and throws
// shmq::Error naming the file and the cause.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "shmq/options.hpp"
#include "shmq/recovery.hpp"

namespace shmq {

// Creates a queue file and returns once it is complete: built with no name (O_TMPFILE) or, where
// the file system cannot, under a hidden temporary name (O_CREAT|O_EXCL|O_NOFOLLOW) in the same
// directory, fully allocated (a full disk fails here, never later with SIGBUS), given exactly
// `options.mode`, synced, named without replacing anything (linkat, RENAME_NOREPLACE), and the
// directory synced. Throws shmq::Error (already_exists when anything,
// even a dangling symlink, is at the path; invalid_argument; io).
void create_queue(const std::filesystem::path& path, const CreateOptions& options = {});

// What a queue file is, learnt without attaching to it: opened read-only, validated like any
// open, mapped PROT_READ, never written. For checks before attaching (the largest message a
// queue takes, whether it is durable) and for tools.
struct QueueInfo {
  std::uint64_t capacity = 0;        // ring bytes
  std::size_t max_message_size = 0;  // the largest message the queue takes
  bool checksums = false;            // every record carries a checksum
  bool durable = false;              // the producer keeps msync checkpoints
  // Random, chosen when the file was created (`shmq stat` shows it as 16 hex digits): tells a
  // queue removed and created again at the same path from the one before.
  std::uint64_t instance_id = 0;
};

// The largest message a queue of `capacity` ring bytes takes (capacity - 40, at most 2^31 - 1).
std::size_t max_message_size(std::uint64_t capacity) noexcept;

// Throws shmq::Error like Consumer::open (not_a_queue, incompatible, damaged, foreign_owner, io).
QueueInfo inspect_queue(const std::filesystem::path& path, const OpenOptions& options = {});

// Repair: the explicit act for a queue that open refuses (both checkpoint slots invalid, durable
// records damaged) or that holds a corrupt record. With no producer or consumer attached (else
// Error(role_taken)), it keeps every valid record from the newest valid checkpoint's read position
// (or the consumer's position) up to the first invalid one, clears the rest of the ring, and writes
// a fresh checkpoint. Messages after the first invalid record are lost: that is why it is never a
// side effect of open. Returns what it kept and cleared.
//
// Sequence numbers never go back: the producer continues after the last record kept, and never
// below a number the file shows was handed out (the role lines' sequence words, the checkpoints).
// When the two disagree (the kept records end before a number already handed out, so continuing
// would hand it out again), or when nothing in the file says where the sequence stands (no valid
// record at the read position and no sequence word that can be one), it refuses with
// Error(damaged_file) and leaves the file untouched, unless RepairOptions::next_sequence says
// where to continue.
struct RepairOptions {
  // The sequence number the next message gets. It must be at least every number the file shows
  // was handed out. A number past the last valid record discards the records kept (the ring
  // holds no gap between sequence numbers); the report says so.
  std::optional<std::uint64_t> next_sequence;
};
RecoveryReport repair_queue(const std::filesystem::path& path, const OpenOptions& options = {},
                            const RepairOptions& repair = {});

struct RemoveOptions {
  // Accept a queue file owned by another uid.
  bool allow_other_owner = false;
  // Remove it even while a producer or consumer is attached (it keeps using the deleted file until
  // it detaches), or when it is damaged or of another format. A file that is not a shmq queue at
  // all is never removed, forced or not.
  bool force = false;
};

// What a forced removal overrode (empty when nothing was in the way).
struct RemoveReport {
  std::string damage;                 // why the file did not validate
  std::vector<std::string> attached;  // "the producer is attached (pid N ...)", one per attached role
};

// Deletes a queue file. It removes exactly the file it checked: opened without following a
// symlink, validated as a shmq queue, both role locks taken through it (nobody can attach while it
// goes), the directory entry renamed to a private name and compared with the open file before it
// is unlinked, and the directory synced. Throws Error: role_taken (a peer is attached), damaged or
// incompatible (unless options.force), not_a_queue (never removed), foreign_owner, io.
RemoveReport remove_queue(const std::filesystem::path& path, const RemoveOptions& options = {});

}  // namespace shmq
