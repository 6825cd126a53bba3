// Blocking calls that let Python run: the wait happens with the GIL released, in slices of at
// most 100 ms, and Python's signal handlers run between slices, so Ctrl-C raises
// KeyboardInterrupt in a call that is waiting for a peer.
#pragma once

#include <pybind11/pybind11.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include <shmq/result.hpp>

#include "errors.hpp"

namespace shmq_python {

inline constexpr std::chrono::milliseconds kWaitSlice{100};

// A timeout given in seconds (None: no limit) as a duration; negative counts as zero.
inline std::optional<std::chrono::nanoseconds> to_timeout(std::optional<double> seconds) {
  if (!seconds) return std::nullopt;
  if (std::isnan(*seconds)) throw pybind11::value_error("timeout must be a number of seconds, not NaN");
  const double clamped = std::clamp(*seconds, 0.0, 1e9);  // 1e9 s: about 30 years, far from overflow
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(clamped));
}

// Calls wait_for(slice) until it returns anything but timed_out or `timeout` has passed (never,
// when it is nullopt). wait_for runs without the GIL and must not touch Python objects. Throws
// pybind11::error_already_set when a signal handler raised (KeyboardInterrupt).
template <class WaitFor>
auto wait_in_slices(std::optional<std::chrono::nanoseconds> timeout, WaitFor&& wait_for) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = timeout ? Clock::now() + *timeout : Clock::time_point::max();
  for (;;) {
    const auto left = deadline - Clock::now();
    const auto slice = std::clamp<std::chrono::nanoseconds>(left, std::chrono::nanoseconds(0), kWaitSlice);
    auto result = [&] {
      pybind11::gil_scoped_release unlocked;
      return wait_for(slice);
    }();
    if (result.status() != shmq::Status::timed_out || Clock::now() >= deadline) return result;
    if (PyErr_CheckSignals() != 0) throw pybind11::error_already_set();
  }
}

}  // namespace shmq_python
