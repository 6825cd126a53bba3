#include "queue_file.hpp"

#include <bit>
#include <cerrno>
#include <cstring>
#include <string>

#include <boost/interprocess/exceptions.hpp>
#include <boost/interprocess/file_mapping.hpp>
#include <spdlog/spdlog.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "checksum.hpp"
#include "fork_guard.hpp"
#include "shmq/error.hpp"
#include "shmq/log.hpp"

namespace shmq::detail {

namespace bip = boost::interprocess;

namespace {

// A queue in tmpfs (/dev/shm) gets its page tables filled at open, so that no send or receive
// pays a page fault (a few microseconds each, once per page and process: measured as the p99 of
// the first lap of the benchmark's round trips). Its pages already exist (fallocate at create);
// this only maps them writable, without touching their contents. A queue on a disk file system
// is left alone: populating it writable would dirty every page and write the whole ring back.
// Best effort: kernels before 5.14 lack MADV_POPULATE_WRITE and simply fault as before.
void prefault_if_in_memory(QueueFile& q, const std::filesystem::path& path) {
  struct statfs fs {};
  if (::fstatfs(q.fd(), &fs) != 0 || fs.f_type != TMPFS_MAGIC) return;
#ifdef MADV_POPULATE_WRITE
  void* base = q.region_address();
  if (::madvise(base, q.region_size(), MADV_POPULATE_WRITE) != 0) {
    logger()->debug("{}: pages not prefaulted (madvise: {})", path.string(), std::strerror(errno));
  }
#else
  (void)path;
#endif
}

}  // namespace

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& o) noexcept {
  if (this != &o) {
    reset();
    fd_ = std::exchange(o.fd_, -1);
    dropped_in_children_ = std::exchange(o.dropped_in_children_, false);
  }
  return *this;
}
FileDescriptor::~FileDescriptor() { reset(); }
void FileDescriptor::reset() noexcept {
  if (fd_ >= 0) {
    if (dropped_in_children_) {
      close_dropped(fd_);
    } else {
      ::close(fd_);
    }
  }
  fd_ = -1;
  dropped_in_children_ = false;
}
FileDescriptor FileDescriptor::open_dropped_in_forked_children(const std::filesystem::path& path, int flags) {
  FileDescriptor fd(detail::open_dropped_in_forked_children(path.c_str(), flags));
  fd.dropped_in_children_ = fd.fd_ >= 0;
  return fd;
}

bool QueueFile::is_forked_copy() const noexcept { return fork_generation() != fork_generation_; }

namespace {

[[noreturn]] void fail_open(ErrorCode code, const std::filesystem::path& path, const std::string& cause, int err = 0) {
  throw Error(code, path, cause, err);
}

[[noreturn]] void fail_check(ErrorCode code, const std::filesystem::path& path, const std::string& cause, Fault fault,
                             std::uint64_t found = 0, std::uint64_t expected = 0) {
  throw Error(code, path, cause, 0, fault, found, expected);
}

std::string str(std::uint64_t v) { return std::to_string(v); }

}  // namespace

void validate_identity(const layout::Identity& id, std::uint64_t file_size, const std::filesystem::path& path) {
  if (id.magic != layout::kMagic) {
    fail_check(ErrorCode::not_a_queue, path,
               id.magic == 0 ? "not a shmq queue file (no magic: empty, or never completed)"
                             : "not a shmq queue file (bad magic)",
               Fault::magic, id.magic, layout::kMagic);
  }
  if (id.format_version != layout::kFormatVersion) {
    fail_check(
        ErrorCode::incompatible, path,
        "queue format version " + str(id.format_version) + ", this build reads version " + str(layout::kFormatVersion),
        Fault::version, id.format_version, layout::kFormatVersion);
  }
  if (id.layout_id != layout::kLayoutId) {
    fail_check(ErrorCode::incompatible, path,
               "queue written by a build with another shared layout (layout id " + str(id.layout_id) + ", this build " +
                   str(layout::kLayoutId) + ")",
               Fault::layout, id.layout_id, layout::kLayoutId);
  }
  if ((id.flags & ~layout::kKnownFlags) != 0) {
    fail_check(ErrorCode::incompatible, path, "queue uses flags this build does not know (" + str(id.flags) + ")",
               Fault::flags, id.flags, layout::kKnownFlags);
  }
  if (id.header_size != layout::kHeaderSize) {
    fail_check(ErrorCode::damaged_file, path,
               "header size " + str(id.header_size) + " is not " + str(layout::kHeaderSize), Fault::header_size,
               id.header_size, layout::kHeaderSize);
  }
  if (!std::has_single_bit(id.capacity) || id.capacity < layout::kMinCapacity || id.capacity > layout::kMaxCapacity) {
    fail_check(ErrorCode::damaged_file, path,
               "capacity " + str(id.capacity) + " is not a power of two from " + str(layout::kMinCapacity) + " to " +
                   str(layout::kMaxCapacity),
               Fault::capacity, id.capacity);
  }
  if (id.initial_position % layout::kRecordAlign != 0) {
    fail_check(ErrorCode::damaged_file, path, "initial position " + str(id.initial_position) + " is not 8-byte aligned",
               Fault::alignment, id.initial_position);
  }
  const std::uint64_t checksum = bytes_checksum(&id.format_version, offsetof(layout::Identity, checksum) - 8);
  if (checksum != id.checksum) {
    fail_check(ErrorCode::damaged_file, path, "header checksum mismatch", Fault::header_checksum, id.checksum,
               checksum);
  }
  const std::uint64_t expected = layout::kHeaderSize + id.capacity;
  if (file_size != expected) {
    fail_check(ErrorCode::damaged_file, path,
               "file is " + str(file_size) + " bytes, a queue of capacity " + str(id.capacity) + " is " +
                   str(expected) + (file_size < expected ? " (truncated)" : ""),
               Fault::size, file_size, expected);
  }
}

QueueFile QueueFile::open(const std::filesystem::path& path, Access access, const OpenOptions& options) {
  QueueFile q;
  q.path_ = path;
  q.fork_generation_ = fork_generation();
  // O_NONBLOCK: a FIFO planted at the path must not block the open; it is refused below.
  const int flags = (access == Access::read_write ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  // Read-write descriptors take role locks: a fork() must never hand one to a child, not even
  // one that happens between this open and its registration.
  q.fd_ = access == Access::read_write ? FileDescriptor::open_dropped_in_forked_children(path, flags)
                                       : FileDescriptor(::open(path.c_str(), flags));
  if (q.fd_.get() < 0) {
    if (errno == ELOOP) {
      fail_check(ErrorCode::not_a_queue, path, "is a symbolic link (shmq never follows one)", Fault::file_type);
    }
    fail_open(ErrorCode::io, path, "cannot open queue file", errno);
  }
  struct stat st {};
  if (::fstat(q.fd_.get(), &st) != 0) fail_open(ErrorCode::io, path, "cannot stat queue file", errno);
  if (!S_ISREG(st.st_mode)) fail_check(ErrorCode::not_a_queue, path, "not a regular file", Fault::file_type);
  if (st.st_uid != ::geteuid() && !options.allow_other_owner) {
    fail_check(ErrorCode::foreign_owner, path,
               "owned by uid " + str(st.st_uid) + ", not by this process (uid " + str(::geteuid()) +
                   "); set OpenOptions::allow_other_owner to accept it",
               Fault::owner, st.st_uid, ::geteuid());
  }
  const auto file_size = static_cast<std::uint64_t>(st.st_size);
  if (file_size < sizeof(layout::Identity)) {
    fail_open(ErrorCode::not_a_queue, path, "only " + str(file_size) + " bytes: too short for a shmq header");
  }
  std::size_t got = 0;
  auto* into = reinterpret_cast<char*>(&q.identity_);
  while (got < sizeof(layout::Identity)) {
    const ssize_t n = ::pread(q.fd_.get(), into + got, sizeof(layout::Identity) - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail_open(ErrorCode::io, path, "cannot read the header", n < 0 ? errno : EIO);
    got += static_cast<std::size_t>(n);
  }
  validate_identity(q.identity_, file_size, path);

  // Map through Boost.Interprocess, from a second open file description, never from the one that
  // carries the role locks: a mapping holds a reference to the open file description it was made
  // from, so an OFD lock would outlive the descriptor's close for as long as the mapping lives (in
  // a fork()ed child too), and a peer would never see us detach or die. (mapped_region could map
  // the checked descriptor itself through a "memory mappable" of our own; that is why it does not.)
  // /proc/self/fd/N names the file we checked (a file swapped in at `path` meanwhile, a FIFO say,
  // cannot be opened instead); without /proc it is the path, and the device and inode check below
  // catches a swap.
  const bip::mode_t mode = access == Access::read_write ? bip::read_write : bip::read_only;
  const std::string own_name = "/proc/self/fd/" + std::to_string(q.fd_.get());
  const std::string reopen = ::access(own_name.c_str(), F_OK) == 0 ? own_name : path.string();
  try {
    bip::file_mapping mapping(reopen.c_str(), mode);
    struct stat mapped {};
    if (::fstat(mapping.get_mapping_handle().handle, &mapped) != 0 || mapped.st_dev != st.st_dev ||
        mapped.st_ino != st.st_ino) {
      fail_open(ErrorCode::io, path, "the file was replaced while it was being opened");
    }
    q.region_ = std::make_unique<bip::mapped_region>(mapping, mode, 0, static_cast<std::size_t>(file_size));
  } catch (const bip::interprocess_exception& e) {
    fail_open(ErrorCode::io, path, std::string("cannot map queue file: ") + e.what(), e.get_native_error());
  }
  // A file truncated between the fstat above and the mapping would raise SIGBUS on first touch:
  // check the size again now that the mapping exists. (A truncation after this point cannot be
  // caught without a SIGBUS handler; docs/DESIGN.md, "Untrusted peer".)
  struct stat after {};
  if (::fstat(q.fd_.get(), &after) != 0) fail_open(ErrorCode::io, path, "cannot stat queue file", errno);
  if (static_cast<std::uint64_t>(after.st_size) != file_size) {
    fail_open(ErrorCode::damaged_file, path,
              "file size changed from " + str(file_size) + " to " + str(static_cast<std::uint64_t>(after.st_size)) +
                  " bytes while it was being opened (truncated by another process?)");
  }
  // The mapping must show the identity we validated (the file may have been rewritten meanwhile).
  if (std::memcmp(q.region_->get_address(), &q.identity_, sizeof(layout::Identity)) != 0) {
    fail_open(ErrorCode::damaged_file, path, "header changed while the file was being opened");
  }
  if (access == Access::read_write) prefault_if_in_memory(q, path);
  return q;
}

RingView QueueFile::ring_view() const {
  RingView v;
  v.header = &header();
  v.data = static_cast<std::byte*>(region_->get_address()) + layout::kHeaderSize;
  v.capacity = identity_.capacity;
  v.checksums = (identity_.flags & layout::kFlagChecksums) != 0;
  return v;
}

LivePositions read_live_positions(const RingView& view, const std::filesystem::path& path) {
  const layout::Header& h = *view.header;
  LivePositions p;
  // ATTACH: acquire pairs with the releasing stores of both positions (RingWriter::publish,
  // RingReader::release): the records and sequence words before them are complete. The position
  // word may lag the commit words, so the consumer can be ahead of it (published_lower_bound).
  p.read = h.consumer.position.load(std::memory_order_acquire);
  p.write_word = h.producer.position.load(std::memory_order_acquire);
  const std::optional<std::uint64_t> write = published_lower_bound(p.read, p.write_word, view.capacity);
  if (!write) {
    fail_open(ErrorCode::damaged_file, path,
              "impossible positions: read " + str(p.read) + ", write " + str(p.write_word) + ", capacity " +
                  str(view.capacity));
  }
  p.write = *write;
  // The record at the read position, if one is published there, carries the next sequence (the
  // commit word there is 0 or that record's: the producer clears it before publishing the record
  // before it). With none, the consumer's stored sequence is exact: it stores its sequence before
  // its position, and a half-done release needs a record between the two positions.
  const std::uint64_t at = next_record_position(p.read, view.capacity);
  const std::uint64_t commit = load_commit_word(view.data + (at & (view.capacity - 1)));
  p.read_sequence = commit != 0 ? sequence_of(commit) : h.consumer.sequence.load(std::memory_order_acquire);
  return p;
}

}  // namespace shmq::detail
