// What a queue file's RoleLines say about each side's fencing, read with pread (no mapping, no
// attach): valid while the role is held and after it is left.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include "layout.hpp"

namespace shmq::test {

struct RoleFencing {
  std::uint32_t fencing = 0;  // layout::kFencingFull or layout::kFencingMembarrier
  std::uint32_t error = 0;    // RoleLine::fencing_errno
};

// `consumer` false: the producer's RoleLine.
inline RoleFencing read_role_fencing(const std::filesystem::path& path, bool consumer) {
  const off_t line =
      static_cast<off_t>(consumer ? offsetof(layout::Header, consumer) : offsetof(layout::Header, producer));
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("open " + path.string());
  RoleFencing r;
  const bool ok = ::pread(fd, &r.fencing, 4, line + offsetof(layout::RoleLine, fencing)) == 4 &&
                  ::pread(fd, &r.error, 4, line + offsetof(layout::RoleLine, fencing_errno)) == 4;
  ::close(fd);
  if (!ok) throw std::runtime_error("pread " + path.string());
  return r;
}

inline std::string describe(const RoleFencing& r) {
  if (r.fencing == layout::kFencingMembarrier) return "membarrier";
  return "full (errno " + std::to_string(r.error) + ")";
}

}  // namespace shmq::test
