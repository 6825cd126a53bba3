#include "fork_guard.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

#include <fcntl.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace shmq::detail {
namespace {

std::atomic<std::uint64_t> g_generation{0};  // relaxed: only the child handler writes it, single-threaded

struct Registry {
  std::mutex mutex;  // held across fork() (prepare to parent/child), so the child sees a whole list
  std::vector<int> fds;
};

Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: a fork during static destruction still finds it
  return *r;
}

void before_fork() { registry().mutex.lock(); }
void after_fork_in_parent() { registry().mutex.unlock(); }

// The child is single-threaded here. dup3 closes the child's copy of each role descriptor (the
// parent's lock stays: the parent still has its descriptor) and puts a descriptor of /dev/null, or
// of an eventfd where /dev/null is missing, at the same number, so a later close() by the copy's
// destructor closes that placeholder and not a descriptor the child opened since.
void after_fork_in_child() {
  Registry& r = registry();
  g_generation.fetch_add(1, std::memory_order_relaxed);
  if (!r.fds.empty()) {
    int placeholder = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (placeholder < 0) placeholder = ::eventfd(0, EFD_CLOEXEC);
    for (const int fd : r.fds) {
      if (placeholder >= 0) {
        ::dup3(placeholder, fd, O_CLOEXEC);
      } else {
        ::close(fd);  // no placeholder at all: dropping the role matters more than the number
      }
    }
    if (placeholder >= 0) ::close(placeholder);
  }
  r.mutex.unlock();
}

void install_handlers_once() {
  static const bool installed = [] {
    ::pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
    return true;
  }();
  (void)installed;
}

}  // namespace

std::uint64_t fork_generation() noexcept { return g_generation.load(std::memory_order_relaxed); }

void drop_in_forked_children(int fd) {
  install_handlers_once();
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.fds.push_back(fd);
}

int open_dropped_in_forked_children(const char* path, int flags) {
  install_handlers_once();
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  const int fd = ::open(path, flags);
  if (fd >= 0) {
    try {
      r.fds.push_back(fd);
    } catch (...) {
      ::close(fd);
      throw;
    }
  }
  return fd;
}

void close_dropped(int fd) noexcept {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.fds.erase(std::remove(r.fds.begin(), r.fds.end(), fd), r.fds.end());
  ::close(fd);
}

}  // namespace shmq::detail
