// The torture test's only source of randomness: every choice of a run (queue options, operations,
// sizes, faults, page versions at a power loss) comes from one seeded generator, so a seed
// replays the whole schedule.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>

namespace shmq::torture {

// xoshiro256** seeded through splitmix64: small, fast, and the same on every platform.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    for (std::uint64_t& word : state_) {
      seed += 0x9E3779B97F4A7C15ULL;
      std::uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      word = z ^ (z >> 31);
    }
  }

  std::uint64_t next() noexcept {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, n) (n > 0).
  std::uint64_t below(std::uint64_t n) noexcept { return n == 0 ? 0 : next() % n; }
  // Uniform in [lo, hi].
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) noexcept { return lo + below(hi - lo + 1); }
  // True with probability percent/100.
  bool percent(unsigned percent) noexcept { return below(100) < percent; }
  // An index into `weights`, each chosen with probability weight/sum (a zero weight: never).
  std::size_t weighted(std::initializer_list<unsigned> weights) noexcept {
    unsigned total = 0;
    for (unsigned w : weights) total += w;
    std::uint64_t r = below(total == 0 ? 1 : total);
    std::size_t i = 0;
    for (unsigned w : weights) {
      if (r < w) return i;
      r -= w;
      ++i;
    }
    return 0;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  std::uint64_t state_[4]{};
};

}  // namespace shmq::torture
