// shmq's error model.
//
// Cold paths (create, open, attach) and broken invariants throw an exception derived from
// shmq::Error. Its what() names the file and the cause; path(), cause(), code() and sys_errno()
// give the parts to programs. Flow control on the hot path is never an exception: a full or empty queue, a
// timeout or a departed peer is a shmq::Status (see result.hpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace shmq {

enum class ErrorCode {
  invalid_argument,     // bad options or arguments (capacity not a power of two, message too large, ...)
  io,                   // a system call failed: sys_errno() says which errno
  already_exists,       // create: something already exists at the path
  not_a_queue,          // the file is not a shmq queue, or not one this build can read
  incompatible,         // a shmq queue of another format version or layout
  damaged_file,         // found broken when opened or inspected: impossible header, positions, checkpoints or records
  foreign_owner,        // the file belongs to another uid (see OpenOptions::allow_other_owner)
  role_taken,           // another process is attached as producer (or consumer)
  peer_broke_protocol,  // a live peer wrote an impossible record or position (sticky: the handle stays broken)
  usage,                // the API was used out of order (two reservations at once, ...)
};

const char* to_string(ErrorCode code) noexcept;

// What was found wrong, for programs: they branch on it, never on the message text. `found` and
// `expected` carry the two values where the check compares numbers (0 where it does not).
enum class Fault : std::uint8_t {
  unspecified,      // see the code and the cause
  file_type,        // not a regular file (or a symbolic link)
  owner,            // found: the file's uid; expected: the caller's
  size,             // found: the file's size; expected: the size its header implies
  magic,            // no shmq magic: not a queue file
  version,          // found: the file's format version; expected: this build's
  layout,           // found: the file's layout id; expected: this build's
  flags,            // found: the file's flags (bits this build does not know)
  header_size,      // found: the header size in the file; expected: this build's
  capacity,         // found: the capacity in the header (not a power of two in range)
  alignment,        // found: an initial position that is not 8-aligned
  header_checksum,  // the identity block's checksum does not match
};

const char* to_string(Fault fault) noexcept;

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::filesystem::path path, const std::string& cause, int sys_errno = 0,
        Fault fault = Fault::unspecified, std::uint64_t found = 0, std::uint64_t expected = 0);
  ErrorCode code() const noexcept { return code_; }
  const std::filesystem::path& path() const noexcept { return path_; }
  // What went wrong, without the path, the errno text or the code: "not a regular file".
  const std::string& cause() const noexcept { return cause_; }
  int sys_errno() const noexcept { return errno_; }
  Fault fault() const noexcept { return fault_; }
  std::uint64_t found() const noexcept { return found_; }
  std::uint64_t expected() const noexcept { return expected_; }

 private:
  ErrorCode code_;
  std::filesystem::path path_;
  std::string cause_;
  int errno_;
  Fault fault_;
  std::uint64_t found_;
  std::uint64_t expected_;
};

}  // namespace shmq
