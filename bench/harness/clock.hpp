// Clocks the harness reads: wall time shared by all processes, and a process's own CPU time.
#pragma once

#include <cstdint>
#include <ctime>

#include <sys/resource.h>

namespace bench {

// CLOCK_MONOTONIC in nanoseconds: comparable between the processes of one machine.
inline std::uint64_t now_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

// User plus system CPU time of this process, all threads included (getrusage(RUSAGE_SELF)).
inline std::uint64_t process_cpu_ns() noexcept {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto to_ns = [](const timeval& tv) {
    return static_cast<std::uint64_t>(tv.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(tv.tv_usec) * 1000u;
  };
  return to_ns(usage.ru_utime) + to_ns(usage.ru_stime);
}

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

}  // namespace bench
