// Who is attached: one OFD (open file description) write lock per role on a byte of the queue
// file. The kernel drops it when the last descriptor of that description closes, which includes
// the death of the process, so liveness never trusts a pid. Classic POSIX fcntl locks are not
// used: they vanish when the process closes *any* descriptor of the file.
#pragma once

#include <filesystem>

#include "layout.hpp"

namespace shmq::detail {

enum class Role { producer, consumer };

inline off_t lock_byte(Role role) noexcept {
  return role == Role::producer ? layout::kProducerLockByte : layout::kConsumerLockByte;
}
inline const char* to_string(Role role) noexcept { return role == Role::producer ? "producer" : "consumer"; }

// Takes the role through `fd` (opened read-write). false: another open file description holds it.
// Throws shmq::Error(io) on any other failure.
bool try_take_role(int fd, Role role, const std::filesystem::path& path);

// true when an open file description other than `fd`'s holds the role. Works on read-only fds.
bool role_held_by_other(int fd, Role role, const std::filesystem::path& path);

}  // namespace shmq::detail

namespace shmq::detail {

// Holds the recovery lock (an OFD lock on layout::kRecoveryLockByte) for its lifetime; waits for
// another process that is recovering the same file.
class RecoveryLock {
 public:
  RecoveryLock(int fd, const std::filesystem::path& path);
  ~RecoveryLock();
  RecoveryLock(const RecoveryLock&) = delete;
  RecoveryLock& operator=(const RecoveryLock&) = delete;

 private:
  int fd_;
};

}  // namespace shmq::detail
