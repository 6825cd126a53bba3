// A queue file: created safely, opened and validated, mapped MAP_SHARED through Boost.Interprocess.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <utility>

#include <boost/interprocess/mapped_region.hpp>

#include "layout.hpp"
#include "ring.hpp"
#include "shmq/options.hpp"

namespace shmq::detail {

// Owns a file descriptor (closed on destruction).
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) noexcept : fd_(fd) {}
  FileDescriptor(FileDescriptor&& o) noexcept
      : fd_(std::exchange(o.fd_, -1)), dropped_in_children_(std::exchange(o.dropped_in_children_, false)) {}
  FileDescriptor& operator=(FileDescriptor&& o) noexcept;
  ~FileDescriptor();
  int get() const noexcept { return fd_; }
  void reset() noexcept;
  // Opens `path` so that children of fork() get a placeholder instead of the descriptor
  // (fork_guard.hpp): they hold no lock through it. Check get() >= 0; errno says why not.
  static FileDescriptor open_dropped_in_forked_children(const std::filesystem::path& path, int flags);

 private:
  int fd_ = -1;
  bool dropped_in_children_ = false;
};

enum class Access { read_only, read_write };

// Validates an identity block read from a file of `file_size` bytes; throws shmq::Error
// (not_a_queue, incompatible, damaged) naming `path` and the first fault found.
void validate_identity(const layout::Identity& identity, std::uint64_t file_size, const std::filesystem::path& path);

class QueueFile {
 public:
  // Opens with O_NOFOLLOW, checks type, owner and size, validates the whole header (read with
  // pread, so a short file cannot raise SIGBUS), then maps the file. Never writes to it.
  static QueueFile open(const std::filesystem::path& path, Access access, const OpenOptions& options);

  QueueFile(QueueFile&&) noexcept = default;
  QueueFile& operator=(QueueFile&&) noexcept = default;

  layout::Header& header() const noexcept { return *static_cast<layout::Header*>(region_->get_address()); }
  // The identity as validated at open; never re-read from the shared mapping.
  const layout::Identity& identity() const noexcept { return identity_; }
  RingView ring_view() const;
  int fd() const noexcept { return fd_.get(); }
  void* region_address() const noexcept { return region_->get_address(); }
  std::size_t region_size() const noexcept { return region_->get_size(); }
  void close_fd() noexcept { fd_.reset(); }  // drops every OFD lock taken through it
  const std::filesystem::path& path() const noexcept { return path_; }
  // True in the child of a fork() after this process opened the file: the copy holds no role
  // (fork_guard.hpp) and must leave the shared state alone.
  bool is_forked_copy() const noexcept;

 private:
  QueueFile() = default;
  std::filesystem::path path_;
  FileDescriptor fd_;
  std::unique_ptr<boost::interprocess::mapped_region> region_;
  layout::Identity identity_{};
  std::uint64_t fork_generation_ = 0;  // at open
};

// See shmq::create_queue.
void create_queue_file(const std::filesystem::path& path, const CreateOptions& options);

// Where the published records end. In format 2 the truth is the chain of commit words: starting at
// the read position, every record whose commit word carries the sequence due there is published,
// and the first commit word that is 0 ends the records. The producer's position word is a lower
// bound of that end, stored (release) after each publication's commit word. A producer killed or
// stopped between the two stores leaves it one publication behind, and the consumer, which reads
// commit words, may already have received and released that publication: its read position is
// then ahead of the word, by at most one publication (less than a ring). So the published end is
// at or after whichever of the two positions is later; nullopt when the pair is impossible
// (unaligned, or more than a ring apart either way).
constexpr std::optional<std::uint64_t> published_lower_bound(std::uint64_t read, std::uint64_t write_word,
                                                             std::uint64_t capacity) noexcept {
  if (read % layout::kRecordAlign != 0 || write_word % layout::kRecordAlign != 0) return std::nullopt;
  if (write_word - read <= capacity) return write_word;
  if (read - write_word <= capacity) return read;  // the consumer released past a lagging word
  return std::nullopt;
}

// The two positions and the sequence numbers they stand for, read and checked at attach.
struct LivePositions {
  std::uint64_t read = 0;           // consumer's released position
  std::uint64_t write = 0;          // published_lower_bound(): the records reach at least this far
  std::uint64_t write_word = 0;     // the producer's position word as stored (may lag `write`)
  std::uint64_t read_sequence = 0;  // sequence of the first message at or after `read`
};
// Reads and checks both positions and finds the sequence number at the read position: from the
// first record header there, or (nothing published past it) from the consumer's stored sequence.
// Throws Error(damaged_file) naming `path` when the positions are impossible.
LivePositions read_live_positions(const RingView& view, const std::filesystem::path& path);

// The consumer stores its sequence word, then its position (RingReader::release), so one killed
// between the two leaves the word ahead of the position, at most at the end of what it had read.
// With messages [first, end) past the read position, a word in [first, end] is such a state or a
// clean one (attach reads the sequence from the records then, not from the word); outside it, the
// word is damaged. With nothing past the read position the word must equal the next sequence.
constexpr bool consumer_sequence_is_valid(std::uint64_t word, std::uint64_t first, std::uint64_t end) {
  return word - first <= end - first;
}

}  // namespace shmq::detail
