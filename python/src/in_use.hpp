// A handle is used by one process (see fork_generation.hpp) and one thread at a time (as its C++
// object requires). Calls that wait release the GIL, so another Python thread could reach the
// handle meanwhile: they mark it in use (a Waiting), and every call checks the mark first. The
// mark is read and written with the GIL held only.
//
// A waiting call can be abandoned while it waits: asyncio.wait_for(loop.run_in_executor(None,
// consumer.receive), 1.0) gives up on the future, but the executor's thread goes on waiting. So a
// new waiting call from another thread takes the handle over instead of failing: it asks the old
// call to give way, which it does at its next slice (blocking.hpp), raising UsageError in the
// thread nobody listens to any more; a message that call received meanwhile is handed over, never
// lost. Calls that do not wait (properties, try_*, close) still raise UsageError while one waits.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <thread>

#include <pybind11/pybind11.h>
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

// The in-use mark of a handle, and the request to a waiting call to give way.
struct Waiting {
  bool waiting = false;
  bool give_way = false;
};

inline void check_not_in_use(const Waiting& mark, const std::filesystem::path& path) {
  if (mark.waiting) {
    throw shmq::Error(shmq::ErrorCode::usage, path,
                      "another thread is waiting in a call on this handle (a handle is used by one thread at a time)");
  }
}

// For a call about to wait: when another thread's call is waiting on the handle, asks it to give
// way and waits (without the GIL) until it has, within one wait slice.
inline void take_over(Waiting& mark) {
  if (!mark.waiting) return;
  mark.give_way = true;
  while (mark.waiting) {
    pybind11::gil_scoped_release unlocked;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // the other call checks at its next slice
  }
}

// What a waiting call that was asked to give way raises, in the thread it was abandoned in.
[[noreturn]] inline void gave_way(const std::filesystem::path& path) {
  throw shmq::Error(shmq::ErrorCode::usage, path,
                    "another thread took this handle over while this call waited (an abandoned wait, such as an "
                    "executor call that asyncio.wait_for gave up on)");
}

class InUse {
 public:
  InUse(Waiting& mark, const std::filesystem::path& path) : mark_(mark) {
    check_not_in_use(mark, path);
    mark_.waiting = true;
    mark_.give_way = false;
  }
  InUse(const InUse&) = delete;
  InUse& operator=(const InUse&) = delete;
  ~InUse() {
    mark_.waiting = false;
    mark_.give_way = false;
  }

 private:
  Waiting& mark_;
};

}  // namespace shmq_python
