// Rates and consumer lag for `watch`, from the snapshots it takes at each interval.
//
// The queue stores no timestamps, so the lag in time is bounded from this history: the oldest
// unconsumed message (sequence `consumed`) was published after the last sample that had not yet
// seen it published and no later than the first one that had. Its age is therefore known to
// within one interval; when even the oldest sample had it, only a lower bound is known.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

namespace shmq::tool {

struct WatchSample {
  std::chrono::steady_clock::time_point time{};
  std::uint64_t published = 0;  // messages published so far
  std::uint64_t consumed = 0;   // messages consumed so far
  std::uint64_t write = 0;      // ring positions: bytes, record headers and padding included
  std::uint64_t read = 0;
};

struct Rates {
  double published_per_s = 0;
  double published_bytes_per_s = 0;
  double consumed_per_s = 0;
  double consumed_bytes_per_s = 0;
};

// How long the oldest unconsumed message has waited: between `at_least` and `at_most`.
struct Lag {
  std::chrono::nanoseconds at_least{0};
  std::optional<std::chrono::nanoseconds> at_most{std::chrono::nanoseconds(0)};  // empty: older than the history
};

class LagTracker {
 public:
  explicit LagTracker(std::size_t max_samples = 4096) : max_samples_(max_samples) {}

  void add(const WatchSample& sample);
  // Between the last two samples; empty before the second one.
  std::optional<Rates> rates() const;
  // Empty before the first sample.
  std::optional<Lag> consumer_lag() const;

 private:
  std::size_t max_samples_;
  std::deque<WatchSample> samples_;
};

}  // namespace shmq::tool
