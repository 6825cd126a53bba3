// A minimal wrapper over the futex system call for words in a MAP_SHARED mapping.
//
// Shared futexes only: never FUTEX_PRIVATE_FLAG, which keys waiters by the process's address space
// and so never wakes another process (std::atomic::wait uses private futexes).
#pragma once

#include <atomic>
#include <cstdint>
#include <ctime>

namespace shmq::detail {

enum class FutexResult { woken, value_changed, timed_out, interrupted };

// Sleeps while `word` holds `expected`, until woken or until the absolute CLOCK_MONOTONIC
// `deadline` (nullptr: no deadline). May return spuriously, like every futex wait.
FutexResult futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected, const timespec* deadline) noexcept;

// Wakes at most `count` waiters on `word`. Returns how many were woken.
int futex_wake(std::atomic<std::uint32_t>& word, int count) noexcept;

}  // namespace shmq::detail
