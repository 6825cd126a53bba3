// Blocking calls that let Python run: the wait happens with the GIL released, in slices of at
// most 100 ms, and Python's signal handlers run between slices, so Ctrl-C raises
// KeyboardInterrupt in a call that is waiting for a peer.
#pragma once

#include <pybind11/pybind11.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <future>
#include <utility>
#include <optional>

#include <shmq/result.hpp>

#include "errors.hpp"
#include "in_use.hpp"

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
// pybind11::error_already_set when a signal handler raised (KeyboardInterrupt), and UsageError
// when another thread took the handle over (`mark`, in_use.hpp).
template <class WaitFor>
auto wait_in_slices(std::optional<std::chrono::nanoseconds> timeout, const Waiting& mark,
                    const std::filesystem::path& path, WaitFor&& wait_for) {
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
    if (mark.give_way) gave_way(path);
  }
}

// Runs call() (an msync, which cannot be interrupted or cut into slices) in a helper thread and
// waits for it without the GIL in slices, running Python's signal handlers between them. An
// exception a handler raises (KeyboardInterrupt) is raised once the call has finished: the
// handle is in use until then. call() must not touch Python objects.
template <class Call>
auto run_in_slices(Call&& call) {
  std::future<decltype(call())> done = std::async(std::launch::async, std::forward<Call>(call));
  std::optional<pybind11::error_already_set> interrupted;
  for (;;) {
    const bool ready = [&] {
      pybind11::gil_scoped_release unlocked;
      return done.wait_for(kWaitSlice) == std::future_status::ready;
    }();
    if (ready) break;
    if (!interrupted && PyErr_CheckSignals() != 0) interrupted.emplace();  // fetches the raised error
  }
  if (interrupted) {
    (void)done.get();  // the call's own outcome comes second to the interruption
    throw *interrupted;
  }
  return done.get();
}

}  // namespace shmq_python
