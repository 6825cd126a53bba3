#include "histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace bench {

std::size_t Histogram::bucket_of(std::uint64_t value) noexcept {
  if (value < kSubBuckets) return static_cast<std::size_t>(value);
  const unsigned exponent = static_cast<unsigned>(std::bit_width(value)) - 1;  // >= kSubBits
  const unsigned shift = exponent - kSubBits;
  const std::size_t mantissa = static_cast<std::size_t>(value >> shift) & (kSubBuckets - 1);
  return (shift + 1) * kSubBuckets + mantissa;
}

std::uint64_t Histogram::bucket_upper_edge(std::size_t bucket) noexcept {
  if (bucket < kSubBuckets) return bucket;
  const unsigned shift = static_cast<unsigned>(bucket / kSubBuckets) - 1;
  const std::uint64_t mantissa = (bucket % kSubBuckets) | kSubBuckets;
  return ((mantissa + 1) << shift) - 1;
}

void Histogram::record(std::uint64_t value) noexcept {
  ++counts_[bucket_of(value)];
  ++count_;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

void Histogram::merge(const Histogram& other) noexcept {
  for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void Histogram::clear() noexcept { *this = Histogram{}; }

std::uint64_t Histogram::percentile(double percentile) const noexcept {
  if (count_ == 0) return 0;
  if (percentile >= 100.0) return max_;
  const auto wanted = static_cast<std::uint64_t>(std::ceil(percentile / 100.0 * static_cast<double>(count_)));
  const std::uint64_t rank = std::max<std::uint64_t>(wanted, 1);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(bucket_upper_edge(i), max_);
  }
  return max_;
}

}  // namespace bench
