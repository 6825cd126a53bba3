#include "system.hpp"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shmq/error.hpp"

namespace shmq::detail {
namespace {

class RealSystem final : public System {
 public:
  int msync(void* address, std::size_t length) override { return ::msync(address, length, MS_SYNC) == 0 ? 0 : errno; }
  int fsync(int fd) override { return ::fsync(fd) == 0 ? 0 : errno; }
  int fallocate(int fd, off_t offset, off_t length) override { return ::posix_fallocate(fd, offset, length); }
  int pwrite(int fd, const void* data, std::size_t length, off_t offset) override {
    const auto* p = static_cast<const char*>(data);
    while (length > 0) {
      const ssize_t n = ::pwrite(fd, p, length, offset);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errno;
      if (n == 0) return EIO;
      p += n;
      length -= static_cast<std::size_t>(n);
      offset += n;
    }
    return 0;
  }
  int boot_id(BootId& id) override {
    // "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx\n": 32 hex digits.
    id = {};
    std::FILE* f = std::fopen("/proc/sys/kernel/random/boot_id", "re");
    if (f == nullptr) return errno != 0 ? errno : EIO;
    char text[64] = {};
    const std::size_t n = std::fread(text, 1, sizeof text - 1, f);
    std::fclose(f);
    std::size_t digit = 0;
    for (std::size_t i = 0; i < n && digit < 32; ++i) {
      const char c = text[i];
      int v = -1;
      if (c >= '0' && c <= '9') v = c - '0';
      if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
      if (v < 0) continue;
      id[digit / 2] = static_cast<std::uint8_t>(id[digit / 2] | (digit % 2 == 0 ? v << 4 : v));
      ++digit;
    }
    return digit == 32 ? 0 : EINVAL;
  }
};

RealSystem g_real;
std::atomic<System*> g_current{&g_real};

}  // namespace

// Acquire pairs with install_system's release: a test's fake is fully built before it is used.
System& sys() { return *g_current.load(std::memory_order_acquire); }
System& real_system() { return g_real; }
// acq_rel: release publishes the replacement to sys(); acquire pairs with the previous install.
System* install_system(System* replacement) {
  return g_current.exchange(replacement != nullptr ? replacement : &g_real, std::memory_order_acq_rel);
}

int sync_range(const void* address, std::size_t length) {
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<std::uintptr_t>(address) & ~(page - 1);
  const auto end = reinterpret_cast<std::uintptr_t>(address) + length;
  int rc = 0;
  do {
    rc = sys().msync(reinterpret_cast<void*>(begin), end - begin);
  } while (rc == EINTR);
  return rc;
}

BootId current_boot_id(const std::filesystem::path& path) {
  BootId id{};
  if (const int rc = sys().boot_id(id); rc != 0) {
    // Never zeros instead: a wrong boot id would make an open "recover" a queue in live use.
    throw Error(ErrorCode::io, path, "cannot read this boot's id from /proc/sys/kernel/random/boot_id", rc);
  }
  return id;
}

int sync_fd(int fd) {
  int rc = 0;
  do {
    rc = sys().fsync(fd);
  } while (rc == EINTR);
  return rc;
}

int allocate(int fd, off_t offset, off_t length) {
  int rc = 0;
  do {
    rc = sys().fallocate(fd, offset, length);
  } while (rc == EINTR);
  return rc;
}

}  // namespace shmq::detail
