#include "futex.hpp"

#include <cerrno>

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace shmq::detail {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));

namespace {
std::uint32_t* address_of(std::atomic<std::uint32_t>& word) { return reinterpret_cast<std::uint32_t*>(&word); }
}  // namespace

FutexResult futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected, const timespec* deadline) noexcept {
  // FUTEX_WAIT_BITSET takes an absolute deadline on CLOCK_MONOTONIC (no FUTEX_CLOCK_REALTIME).
  const long rc =
      ::syscall(SYS_futex, address_of(word), FUTEX_WAIT_BITSET, expected, deadline, nullptr, FUTEX_BITSET_MATCH_ANY);
  if (rc == 0) return FutexResult::woken;
  switch (errno) {
    case EAGAIN:
      return FutexResult::value_changed;
    case ETIMEDOUT:
      return FutexResult::timed_out;
    default:
      return FutexResult::interrupted;  // EINTR; EFAULT/EINVAL cannot happen on a mapped, aligned word
  }
}

int futex_wake(std::atomic<std::uint32_t>& word, int count) noexcept {
  const long rc = ::syscall(SYS_futex, address_of(word), FUTEX_WAKE, count, nullptr, nullptr, 0);
  return rc < 0 ? 0 : static_cast<int>(rc);
}

}  // namespace shmq::detail
