// shmq's error model.
//
// Cold paths (create, open, attach) and broken invariants throw an exception derived from
// shmq::Error. Its what() names the file and the cause; path(), cause(), code() and sys_errno()
// give the parts to programs. Flow control on the hot path is never an exception: a full or empty queue, a
// timeout or a departed peer is a shmq::Status (see result.hpp).
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

namespace shmq {

enum class ErrorCode {
  invalid_argument,  // bad options or arguments (capacity not a power of two, message too large, ...)
  io,                // a system call failed: sys_errno() says which errno
  already_exists,    // create: something already exists at the path
  not_a_queue,       // the file is not a shmq queue, or not one this build can read
  incompatible,      // a shmq queue of another format version or layout
  damaged,           // a shmq queue whose header or positions are impossible
  foreign_owner,     // the file belongs to another uid (see OpenOptions::allow_other_owner)
  role_taken,        // another process is attached as producer (or consumer)
  corrupt,           // a record or position read from the peer broke the protocol (sticky)
  usage,             // the API was used out of order (two reservations at once, ...)
};

const char* to_string(ErrorCode code) noexcept;

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::filesystem::path path, const std::string& cause, int sys_errno = 0);
  ErrorCode code() const noexcept { return code_; }
  const std::filesystem::path& path() const noexcept { return path_; }
  // What went wrong, without the path, the errno text or the code: "not a regular file".
  const std::string& cause() const noexcept { return cause_; }
  int sys_errno() const noexcept { return errno_; }

 private:
  ErrorCode code_;
  std::filesystem::path path_;
  std::string cause_;
  int errno_;
};

}  // namespace shmq
