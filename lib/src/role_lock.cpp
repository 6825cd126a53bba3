#include "role_lock.hpp"

#include <cerrno>

#include <fcntl.h>

#include "shmq/error.hpp"

namespace shmq::detail {
namespace {

struct flock role_range(Role role, short type) {
  struct flock lock {};
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  lock.l_start = lock_byte(role);
  lock.l_len = 1;
  lock.l_pid = 0;  // required for OFD locks
  return lock;
}

}  // namespace

bool try_take_role(int fd, Role role, const std::filesystem::path& path) {
  struct flock lock = role_range(role, F_WRLCK);
  for (;;) {
    if (::fcntl(fd, F_OFD_SETLK, &lock) == 0) return true;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EACCES) return false;
    throw Error(ErrorCode::io, path, std::string("cannot lock the ") + to_string(role) + " role (fcntl F_OFD_SETLK)",
                errno);
  }
}

bool role_held_by_other(int fd, Role role, const std::filesystem::path& path) {
  struct flock lock = role_range(role, F_WRLCK);
  for (;;) {
    if (::fcntl(fd, F_OFD_GETLK, &lock) == 0) return lock.l_type != F_UNLCK;
    if (errno == EINTR) continue;
    throw Error(ErrorCode::io, path, std::string("cannot query the ") + to_string(role) + " role (fcntl F_OFD_GETLK)",
                errno);
  }
}

}  // namespace shmq::detail

namespace shmq::detail {

RecoveryLock::RecoveryLock(int fd, const std::filesystem::path& path) : fd_(fd) {
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  lock.l_start = layout::kRecoveryLockByte;
  lock.l_len = 1;
  while (::fcntl(fd, F_OFD_SETLKW, &lock) != 0) {
    if (errno != EINTR) throw Error(ErrorCode::io, path, "cannot take the recovery lock (fcntl F_OFD_SETLKW)", errno);
  }
}

RecoveryLock::~RecoveryLock() {
  struct flock lock {};
  lock.l_type = F_UNLCK;
  lock.l_whence = SEEK_SET;
  lock.l_start = layout::kRecoveryLockByte;
  lock.l_len = 1;
  ::fcntl(fd_, F_OFD_SETLK, &lock);
}

}  // namespace shmq::detail
