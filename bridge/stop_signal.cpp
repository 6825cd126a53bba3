#include "stop_signal.hpp"

#include <algorithm>
#include <thread>

#include "shmq_sample/cli.hpp"

namespace shmq_bridge {

bool stop_requested() noexcept { return shmq_sample::g_stop_signal != 0; }

bool sleep_unless_stopped(std::chrono::milliseconds duration) {
  constexpr std::chrono::milliseconds kSlice{50};  // how late a stop is noticed while sleeping
  const auto until = std::chrono::steady_clock::now() + duration;
  while (!stop_requested()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) return true;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(kSlice, until - now));
  }
  return false;
}

}  // namespace shmq_bridge
