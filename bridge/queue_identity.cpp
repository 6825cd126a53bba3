#include "queue_identity.hpp"

#include <cerrno>
#include <cstdio>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <xxhash.h>

#include <shmq/queue.hpp>

namespace shmq_bridge {

std::string format_instance(std::uint64_t instance_id) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(instance_id));
  return hex;
}

std::string queue_instance_id(const std::filesystem::path& queue) {
  return format_instance(shmq::inspect_queue(queue).instance_id);
}

std::optional<std::string> legacy_instance_id(const std::filesystem::path& queue) {
  struct statx st {};
  if (statx(AT_FDCWD, queue.c_str(), AT_SYMLINK_NOFOLLOW, STATX_INO | STATX_BTIME, &st) != 0) {
    throw std::system_error(errno, std::generic_category(), queue.string() + ": cannot read the file's identity");
  }
  if ((st.stx_mask & STATX_BTIME) == 0) return std::nullopt;
  const std::uint64_t identity[] = {st.stx_dev_major, st.stx_dev_minor, st.stx_ino,
                                    static_cast<std::uint64_t>(st.stx_btime.tv_sec), st.stx_btime.tv_nsec};
  return format_instance(XXH3_64bits(identity, sizeof identity));
}

}  // namespace shmq_bridge
