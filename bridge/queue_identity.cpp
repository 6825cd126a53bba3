#include "queue_identity.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <xxhash.h>

namespace shmq_bridge {

std::string queue_instance_id(const std::filesystem::path& queue) {
  struct statx st {};
  if (statx(AT_FDCWD, queue.c_str(), AT_SYMLINK_NOFOLLOW, STATX_INO | STATX_BTIME, &st) != 0) {
    throw std::system_error(errno, std::generic_category(), queue.string() + ": cannot read the file's identity");
  }
  // A file system that records no birth time leaves only the device and inode (the change time
  // is no substitute: writes through the mapping update it).
  const statx_timestamp born = (st.stx_mask & STATX_BTIME) != 0 ? st.stx_btime : statx_timestamp{};
  const std::uint64_t identity[] = {st.stx_dev_major, st.stx_dev_minor, st.stx_ino,
                                    static_cast<std::uint64_t>(born.tv_sec), born.tv_nsec};
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(XXH3_64bits(identity, sizeof identity)));
  return hex;
}

}  // namespace shmq_bridge
