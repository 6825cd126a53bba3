#include "fork_generation.hpp"

#include <pthread.h>

#include <cerrno>
#include <system_error>

namespace shmq_python {
namespace {

// Written only by the child handler, while the new process has a single thread; read after it.
std::uint64_t generation = 0;

void on_fork_child() noexcept { ++generation; }

}  // namespace

std::uint64_t fork_generation() noexcept { return generation; }

void count_forks() {
  if (const int error = pthread_atfork(nullptr, nullptr, on_fork_child); error != 0) {
    throw std::system_error(error, std::generic_category(), "pthread_atfork");
  }
}

}  // namespace shmq_python
