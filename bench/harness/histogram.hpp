// A log-bucketed latency histogram in the manner of HdrHistogram: values below 2^kSubBits are
// counted exactly, larger ones in 2^kSubBits buckets per power of two (relative error < 1/64).
// Fixed size and trivially copyable, so a child process can fill one in shared memory.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace bench {

class Histogram {
 public:
  static constexpr unsigned kSubBits = 6;
  static constexpr std::size_t kSubBuckets = std::size_t{1} << kSubBits;
  static constexpr std::size_t kBuckets = (64 - kSubBits + 1) * kSubBuckets;

  void record(std::uint64_t value) noexcept;
  void merge(const Histogram& other) noexcept;
  void clear() noexcept;

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
  std::uint64_t max() const noexcept { return max_; }
  // The smallest value v such that at least `percentile`% of the recorded values are <= v, given
  // as the upper edge of v's bucket (never an underestimate). 100 gives the exact maximum.
  std::uint64_t percentile(double percentile) const noexcept;

  static std::size_t bucket_of(std::uint64_t value) noexcept;
  static std::uint64_t bucket_upper_edge(std::size_t bucket) noexcept;

 private:
  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
};

}  // namespace bench
