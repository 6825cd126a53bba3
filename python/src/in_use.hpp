// A handle is used by one process (see fork_generation.hpp) and one thread at a time (as its C++
// object requires). Calls that wait release
// the GIL, so another Python thread could reach the handle meanwhile: they mark it in use, and
// every call checks the mark first. The mark is read and written with the GIL held only.
#pragma once

#include <cstdint>
#include <filesystem>

#include <shmq/error.hpp>

#include "fork_generation.hpp"

namespace shmq_python {

// Throws UsageError when the handle was opened before a fork() of this process.
inline void check_same_process(std::uint64_t opened_in, const std::filesystem::path& path) {
  if (opened_in != fork_generation()) {
    throw shmq::Error(shmq::ErrorCode::usage, path,
                      "this handle was opened by the parent of this fork()ed process: open the queue again here");
  }
}

inline void check_not_in_use(bool in_use, const std::filesystem::path& path) {
  if (in_use) {
    throw shmq::Error(shmq::ErrorCode::usage, path,
                      "another thread is waiting in a call on this handle (a handle is used by one thread at a time)");
  }
}

class InUse {
 public:
  InUse(bool& flag, const std::filesystem::path& path) : flag_(flag) {
    check_not_in_use(flag, path);
    flag_ = true;
  }
  InUse(const InUse&) = delete;
  InUse& operator=(const InUse&) = delete;
  ~InUse() { flag_ = false; }

 private:
  bool& flag_;
};

}  // namespace shmq_python
