// Creating a queue file: exclusive, never through a symlink, exact mode, fully allocated, built
// under a temporary name and renamed into place only when complete, then made durable.
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <unistd.h>

#include "checkpoint.hpp"
#include "checksum.hpp"
#include "failpoint.hpp"
#include "queue_file.hpp"
#include "shmq/error.hpp"
#include "shmq/log.hpp"
#include "shmq/producer.hpp"
#include "shmq/queue.hpp"
#include "system.hpp"

namespace shmq {
namespace detail {
namespace {

[[noreturn]] void fail_create(ErrorCode code, const std::filesystem::path& path, const std::string& cause,
                              int err = 0) {
  throw Error(code, path, cause, err);
}

std::uint64_t random_u64() {
  std::uint64_t v = 0;
  if (::getrandom(&v, sizeof v, 0) != sizeof v) {  // cannot fail for 8 bytes after boot; fall back anyway
    v = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
        (std::uint64_t(::getpid()) << 32);
  }
  return v;
}

void validate_options(const std::filesystem::path& path, const CreateOptions& o) {
  if (!std::has_single_bit(o.capacity) || o.capacity < layout::kMinCapacity || o.capacity > layout::kMaxCapacity) {
    fail_create(ErrorCode::invalid_argument, path,
                "capacity " + std::to_string(o.capacity) + " is not a power of two from " +
                    std::to_string(layout::kMinCapacity) + " to " + std::to_string(layout::kMaxCapacity));
  }
  if ((o.mode & ~mode_t{07777}) != 0) fail_create(ErrorCode::invalid_argument, path, "mode has bits outside 07777");
  if ((o.mode & S_IRUSR) == 0 || (o.mode & S_IWUSR) == 0) {
    fail_create(ErrorCode::invalid_argument, path, "mode must let the owner read and write (0600 at least)");
  }
  if (o.initial_position % layout::kRecordAlign != 0) {
    fail_create(ErrorCode::invalid_argument, path, "initial position is not 8-byte aligned");
  }
  const auto interval = o.checkpoints.interval.count();
  if (interval < 0 || static_cast<std::uint64_t>(interval) > UINT32_MAX) {
    fail_create(ErrorCode::invalid_argument, path,
                "checkpoint interval of " + std::to_string(interval) + " ms is outside 0 to " +
                    std::to_string(UINT32_MAX) + " ms (the file stores it in 32 bits)");
  }
}

// On a copy-on-write file system (btrfs) every write of a block allocates a new one, so
// posix_fallocate cannot promise that later writes find space: a full disk may still end in SIGBUS.
void warn_if_copy_on_write(int fd, const std::filesystem::path& path) {
  struct statfs fs {};
  if (::fstatfs(fd, &fs) == 0 && fs.f_type == BTRFS_SUPER_MAGIC) {
    logger()->warn(
        "{} is on btrfs (copy-on-write): its space is allocated, but a full file system can still fail a later "
        "write of the mapping with SIGBUS; prefer ext4, xfs or tmpfs, or keep the file system from filling",
        path.string());
  }
}

void write_all(int fd, const void* data, std::size_t size, off_t offset, const std::filesystem::path& path) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::pwrite(fd, p, size, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail_create(ErrorCode::io, path, "cannot write the header", n < 0 ? errno : EIO);
    p += n;
    size -= static_cast<std::size_t>(n);
    offset += n;
  }
}

void sync_or_fail(int fd, const std::filesystem::path& path, const char* what) {
  const int rc = sync_fd(fd);
  if (rc == 0 || rc == EINVAL || rc == EROFS)
    return;  // EINVAL/EROFS: a file system without fsync for this kind of file
  fail_create(ErrorCode::io, path, std::string("cannot sync ") + what, rc);
}

// Removes the temporary file unless dismissed.
struct TemporaryName {
  int dir_fd;
  std::string name;
  bool armed = true;
  ~TemporaryName() {
    if (armed) ::unlinkat(dir_fd, name.c_str(), 0);
  }
};

}  // namespace

void create_queue_file(const std::filesystem::path& path, const CreateOptions& options) {
  validate_options(path, options);
  const std::string name = path.filename().string();
  if (name.empty() || name == "." || name == "..")
    fail_create(ErrorCode::invalid_argument, path, "path does not name a file");
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");

  FileDescriptor dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0) fail_create(ErrorCode::io, path, "cannot open the directory " + dir.string(), errno);
  struct stat existing {};
  if (::fstatat(dir_fd.get(), name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0) {
    fail_create(
        ErrorCode::already_exists, path,
        S_ISLNK(existing.st_mode) ? "a symbolic link already exists at the path" : "a file already exists at the path");
  }

  // Built as a file with no name (O_TMPFILE) where the file system supports it and /proc lets us
  // name it at the end, so a crash meanwhile leaves nothing behind; otherwise under a hidden
  // temporary name, which such a crash leaves (never under the final name).
  FileDescriptor fd(::openat(dir_fd.get(), ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  std::string own_name;
  if (fd.get() >= 0) {
    own_name = "/proc/self/fd/" + std::to_string(fd.get());
    if (::access(own_name.c_str(), F_OK) != 0) {
      fd.reset();
      own_name.clear();
    }
  }
  TemporaryName temp{dir_fd.get(), {}, false};
  if (fd.get() < 0) {
    char suffix[32];
    std::snprintf(suffix, sizeof suffix, ".creating.%016llx", static_cast<unsigned long long>(random_u64()));
    temp.name = "." + name + suffix;
    fd = FileDescriptor(
        ::openat(dir_fd.get(), temp.name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0) fail_create(ErrorCode::io, path, "cannot create a file in " + dir.string(), errno);
    temp.armed = true;
  }

  const std::uint64_t file_size = layout::kHeaderSize + options.capacity;
  if (const int rc = allocate(fd.get(), 0, static_cast<off_t>(file_size)); rc != 0) {
    fail_create(ErrorCode::io, path, "cannot allocate " + std::to_string(file_size) + " bytes for the queue", rc);
  }
  warn_if_copy_on_write(fd.get(), path);

  auto header = std::make_unique<layout::Header>();  // value-initialised: all zero
  layout::Identity& id = header->identity;
  id.format_version = layout::kFormatVersion;
  id.layout_id = layout::kLayoutId;
  id.header_size = layout::kHeaderSize;
  const bool checksums = options.checksums.value_or(options.durable);
  id.flags = (checksums ? layout::kFlagChecksums : 0) | (options.durable ? layout::kFlagDurable : 0);
  if (options.durable) {
    id.checkpoint_bytes = options.checkpoints.bytes;
    id.checkpoint_interval_ms = static_cast<std::uint32_t>(options.checkpoints.interval.count());
  }
  id.capacity = options.capacity;
  id.initial_position = options.initial_position;
  id.created_unix_ns = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  id.instance_id = random_u64();
  id.checksum = bytes_checksum(&id.format_version, offsetof(layout::Identity, checksum) - 8);
  header->producer.position.store(options.initial_position, std::memory_order_relaxed);
  header->consumer.position.store(options.initial_position, std::memory_order_relaxed);
  const BootId boot = current_boot_id(path);
  std::memcpy(header->boot.boot_id, boot.data(), boot.size());
  if (options.durable) {  // checkpoint 1: the empty queue
    layout::Checkpoint first{};
    first.counter = 1;
    first.write_position = first.read_position = options.initial_position;
    first.unix_ns = id.created_unix_ns;
    first.instance_id = id.instance_id;
    write_checkpoint_slot(*header, first);
  }
  // The magic goes last: a file that has everything but the magic is refused as incomplete.
  write_all(fd.get(), header.get(), sizeof(layout::Header), 0, path);
  write_all(fd.get(), &layout::kMagic, sizeof layout::kMagic, 0, path);
  sync_or_fail(fd.get(), path, "the new queue file");
  if (::fchmod(fd.get(), options.mode) != 0) fail_create(ErrorCode::io, path, "cannot set the file mode", errno);

  SHMQ_FAILPOINT("create.before_rename");
  // Into place, never replacing anything that appeared meanwhile.
  if (!own_name.empty()) {
    if (::linkat(AT_FDCWD, own_name.c_str(), dir_fd.get(), name.c_str(), AT_SYMLINK_FOLLOW) != 0) {
      if (errno == EEXIST) fail_create(ErrorCode::already_exists, path, "a file already exists at the path");
      fail_create(ErrorCode::io, path, "cannot link the new queue into place", errno);
    }
  } else if (::renameat2(dir_fd.get(), temp.name.c_str(), dir_fd.get(), name.c_str(), RENAME_NOREPLACE) != 0) {
    if (errno == EEXIST) fail_create(ErrorCode::already_exists, path, "a file already exists at the path");
    if (errno != EINVAL && errno != ENOSYS)
      fail_create(ErrorCode::io, path, "cannot rename the new queue into place", errno);
    // A file system without RENAME_NOREPLACE: link() also refuses to replace.
    if (::linkat(dir_fd.get(), temp.name.c_str(), dir_fd.get(), name.c_str(), 0) != 0) {
      if (errno == EEXIST) fail_create(ErrorCode::already_exists, path, "a file already exists at the path");
      fail_create(ErrorCode::io, path, "cannot link the new queue into place", errno);
    }
  } else {
    temp.armed = false;
  }
  if (const int rc = sync_fd(dir_fd.get()); rc != 0 && rc != EINVAL && rc != EROFS) {
    ::unlinkat(dir_fd.get(), name.c_str(), 0);  // ours (RENAME_NOREPLACE): its name might not survive a crash
    fail_create(ErrorCode::io, path, "cannot sync the directory", rc);
  }
  logger()->info("created queue {} (capacity {} bytes, mode {:04o}{})", path.string(), options.capacity,
                 static_cast<unsigned>(options.mode), checksums ? ", checksums" : "");
}

}  // namespace detail

void create_queue(const std::filesystem::path& path, const CreateOptions& options) {
  detail::create_queue_file(path, options);
}

}  // namespace shmq
