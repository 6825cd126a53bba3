// Reference: a round trip through one shared futex word with no spinning at all. Role 0 sets it
// to 1 and wakes role 1, then sleeps until it is 0 again; role 1 does the converse. Shared
// futexes (no FUTEX_PRIVATE_FLAG), as any cross-process blocking transport must use.
#include <atomic>
#include <cstdint>

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ping_pong.hpp"

namespace bench {

namespace {

void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT, expected, nullptr, nullptr, 0);
}

void futex_wake(std::atomic<std::uint32_t>& word) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE, 1, nullptr, nullptr, 0);
}

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
              std::atomic<std::uint32_t>::is_always_lock_free);

}  // namespace

LatencyRow measure_futex_ping_pong(const Config& config) {
  SharedPage page;
  auto& word = page.as<std::atomic<std::uint32_t>>();
  auto ping = [&](std::uint64_t) {
    word.store(1, std::memory_order_release);
    futex_wake(word);
    while (word.load(std::memory_order_acquire) == 1) futex_wait(word, 1);
  };
  auto pong = [&](std::uint64_t) {
    while (word.load(std::memory_order_acquire) == 0) futex_wait(word, 0);
    word.store(0, std::memory_order_release);
    futex_wake(word);
  };
  return measure_reference_ping_pong(config, "futex ping-pong (reference)", 4, config.round_trips, config.repetitions,
                                     ping, pong);
}

}  // namespace bench
