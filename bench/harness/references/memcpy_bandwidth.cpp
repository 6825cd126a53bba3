// Reference: memcpy of messages from one ring of config.ring_bytes into another, in the harness
// process: what copying a message costs at best, next to the transports that copy.
#include <algorithm>
#include <cstring>
#include <vector>

#include "../suites.hpp"

namespace bench {

namespace {

// Copies `count` messages of `size` bytes, walking both rings; returns the elapsed nanoseconds.
std::uint64_t copy_messages(std::vector<std::byte>& from, std::vector<std::byte>& to, std::size_t size, std::uint64_t count) {
  const std::size_t slots = std::max<std::size_t>(from.size() / size, 1);
  const std::uint64_t start = now_ns();
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::size_t offset = (i % slots) * size;
    std::memcpy(to.data() + offset, from.data() + offset, size);
    asm volatile("" : : "r"(to.data()) : "memory");  // the copy must happen
  }
  return std::max<std::uint64_t>(now_ns() - start, 1);
}

}  // namespace

ThroughputRow measure_memcpy(const Config& config, std::size_t size) {
  ThroughputRow row;
  row.transport = "memcpy (reference)";
  row.reference = true;
  row.size = size;
  const std::size_t ring = std::max(config.ring_bytes, size);
  std::vector<std::byte> from(ring, std::byte{0x5a});
  std::vector<std::byte> to(ring, std::byte{0});
  const std::uint64_t warmup = config.warmup_messages;
  const double warmup_ns = static_cast<double>(copy_messages(from, to, size, warmup));
  const double wanted = static_cast<double>(warmup) * config.seconds_per_repetition * 1e9 / warmup_ns;
  const auto count = static_cast<std::uint64_t>(std::clamp(wanted, 1000.0, 1e9));
  std::vector<double> rates;
  for (int rep = 0; rep < config.repetitions; ++rep) {
    rates.push_back(static_cast<double>(count) * 1e9 / static_cast<double>(copy_messages(from, to, size, count)));
  }
  row.messages_per_repetition = count;
  set_rates(row, rates);
  return row;
}

}  // namespace bench
