// Reference: memcpy of messages from one ring of config.ring_bytes into another, in the harness
// process: what copying a message costs at best, next to the transports that copy.
//
// Both rings are page-aligned, so destination - source is 0 modulo 4 KiB. Where the buffers fall
// matters: on AMD Zen 4 (this project's VM) glibc 2.36's memcpy of large blocks (rep movsb) runs
// ~10x slower when destination - source is a small positive number modulo 4 KiB (16 bytes, as two
// adjacent heap blocks give), so vectors from malloc would measure the allocator's placement.
#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <sys/mman.h>

#include "../suites.hpp"

namespace bench {

namespace {

// Two page-aligned rings of `bytes` each, in one private mapping.
class RingPair {
 public:
  explicit RingPair(std::size_t bytes)
      : bytes_(bytes), memory_(mmap(nullptr, 2 * bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) {
    if (memory_ == MAP_FAILED) throw std::runtime_error("mmap of the memcpy rings failed");
    std::memset(memory_, 0x5a, 2 * bytes);  // fault every page in before timing
  }
  ~RingPair() { munmap(memory_, 2 * bytes_); }
  RingPair(const RingPair&) = delete;
  RingPair& operator=(const RingPair&) = delete;
  std::byte* from() const noexcept { return static_cast<std::byte*>(memory_); }
  std::byte* to() const noexcept { return from() + bytes_; }
  std::size_t bytes() const noexcept { return bytes_; }

 private:
  std::size_t bytes_;
  void* memory_;
};

// Copies `count` messages of `size` bytes, walking both rings; returns the elapsed nanoseconds.
std::uint64_t copy_messages(const RingPair& rings, std::size_t size, std::uint64_t count) {
  const std::size_t slots = std::max<std::size_t>(rings.bytes() / size, 1);
  std::byte* const to = rings.to();
  const std::uint64_t start = now_ns();
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::size_t offset = (i % slots) * size;
    std::memcpy(to + offset, rings.from() + offset, size);
    asm volatile("" : : "r"(to) : "memory");  // the copy must happen
  }
  return std::max<std::uint64_t>(now_ns() - start, 1);
}

}  // namespace

ThroughputRow measure_memcpy(const Config& config, std::size_t size) {
  ThroughputRow row;
  row.transport = "memcpy (reference)";
  row.reference = true;
  row.size = size;
  const RingPair rings(std::max(config.ring_bytes, size));
  const std::uint64_t warmup = config.warmup_messages;
  const double warmup_ns = static_cast<double>(copy_messages(rings, size, warmup));
  const double wanted = static_cast<double>(warmup) * config.seconds_per_repetition * 1e9 / warmup_ns;
  const auto count = static_cast<std::uint64_t>(std::clamp(wanted, 1000.0, 1e9));
  std::vector<double> rates;
  for (int rep = 0; rep < config.repetitions; ++rep) {
    rates.push_back(static_cast<double>(count) * 1e9 / static_cast<double>(copy_messages(rings, size, count)));
  }
  row.messages_per_repetition = count;
  set_rates(row, rates);
  return row;
}

}  // namespace bench
