#include "fork_generation.hpp"

#include <pthread.h>

#include <cerrno>
#include <system_error>

#include <pybind11/pybind11.h>

#include "guarded_buffer.hpp"

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
  // Python's own hook runs in the child of os.fork() (and of multiprocessing's fork), with the
  // GIL: the place to take back the views the child inherited. A fork() that bypasses Python
  // runs only the handler above: the handles refuse, the views are not revoked.
  pybind11::module_::import("os").attr("register_at_fork")(
      pybind11::arg("before") = pybind11::cpp_function([] { GuardedBuffer::copy_exported_before_fork(); }),
      pybind11::arg("after_in_parent") = pybind11::cpp_function([] { GuardedBuffer::forget_copies(); }),
      pybind11::arg("after_in_child") = pybind11::cpp_function([] { GuardedBuffer::revoke_all_inherited(); }));
}

}  // namespace shmq_python
