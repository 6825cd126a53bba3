#include "lag_tracker.hpp"

#include <algorithm>
#include <iterator>

namespace shmq::tool {

void LagTracker::add(const WatchSample& sample) {
  samples_.push_back(sample);
  while (samples_.size() > max_samples_) samples_.pop_front();
}

std::optional<Rates> LagTracker::rates() const {
  if (samples_.size() < 2) return std::nullopt;
  const WatchSample& a = samples_[samples_.size() - 2];
  const WatchSample& b = samples_.back();
  const double seconds = std::chrono::duration<double>(b.time - a.time).count();
  if (seconds <= 0) return std::nullopt;
  // Unsigned differences: positions and sequences only grow (modulo 2^64).
  Rates r;
  r.published_per_s = static_cast<double>(b.published - a.published) / seconds;
  r.published_bytes_per_s = static_cast<double>(b.write - a.write) / seconds;
  r.consumed_per_s = static_cast<double>(b.consumed - a.consumed) / seconds;
  r.consumed_bytes_per_s = static_cast<double>(b.read - a.read) / seconds;
  return r;
}

std::optional<Lag> LagTracker::consumer_lag() const {
  if (samples_.empty()) return std::nullopt;
  const WatchSample& now = samples_.back();
  if (now.published <= now.consumed) return Lag{};  // nothing waits
  // The first sample in which the message `now.consumed` was already published.
  const auto first = std::partition_point(samples_.begin(), samples_.end(),
                                          [&](const WatchSample& s) { return s.published <= now.consumed; });
  Lag lag;
  lag.at_least = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time - first->time);
  if (first == samples_.begin()) {
    lag.at_most.reset();
  } else {
    lag.at_most = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time - std::prev(first)->time);
  }
  return lag;
}

}  // namespace shmq::tool
