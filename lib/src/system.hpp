// The system calls that decide durability, behind one seam: tests replace it to inject EIO,
// ENOSPC and EINTR, and to simulate power loss (a disk that keeps only what was synced).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include <filesystem>

#include <sys/types.h>

namespace shmq::detail {

using BootId = std::array<std::uint8_t, 16>;

class System {
 public:
  virtual ~System() = default;
  // Each returns 0 or an errno value (never sets errno), like posix_fallocate.
  virtual int msync(void* address, std::size_t length) = 0;  // MS_SYNC; address page-aligned
  virtual int fsync(int fd) = 0;
  virtual int fallocate(int fd, off_t offset, off_t length) = 0;
  // pwrite(2) of all `length` bytes (a short write is continued, EINTR retried).
  virtual int pwrite(int fd, const void* data, std::size_t length, off_t offset) = 0;
  // The boot id of the running kernel (/proc/sys/kernel/random/boot_id).
  virtual int boot_id(BootId& out) = 0;
};

// The process-wide instance (the real system calls unless a test installed another).
System& sys();
// Installs `replacement` (nullptr: the real one again). Returns the previous one. For tests.
System* install_system(System* replacement);

// The real implementations, for a test double that forwards some calls.
System& real_system();

// msync(MS_SYNC) of [address, address + length) widened to whole pages, EINTR retried.
// Returns 0 or the errno.
int sync_range(const void* address, std::size_t length);
// The boot id, or Error(io) naming `path` (the queue being opened) and the file that failed.
BootId current_boot_id(const std::filesystem::path& path);

// fsync/fallocate through sys(), EINTR retried.
int sync_fd(int fd);
int allocate(int fd, off_t offset, off_t length);

}  // namespace shmq::detail
