// Reference: one 64-byte line written in turn by two processes. Role 0 writes an odd number and
// spins until role 1 writes the next even one: the fastest any shared-memory round trip can be,
// and, run briefly before and after each row, the probe of where the VM placed the two vCPUs.
#include <atomic>
#include <cstdint>

#include "ping_pong.hpp"

namespace bench {

namespace {

struct alignas(64) Line {
  std::atomic<std::uint64_t> value{0};
};

}  // namespace

LatencyRow measure_cacheline_ping_pong(const Config& config, std::uint64_t round_trips, int repetitions) {
  SharedPage page;
  auto& line = page.as<Line>().value;
  auto ping = [&](std::uint64_t i) {
    const std::uint64_t mine = 2 * i + 1;
    line.store(mine, std::memory_order_release);
    while (line.load(std::memory_order_acquire) != mine + 1) cpu_relax();
  };
  auto pong = [&](std::uint64_t i) {
    const std::uint64_t theirs = 2 * i + 1;
    while (line.load(std::memory_order_acquire) != theirs) cpu_relax();
    line.store(theirs + 1, std::memory_order_release);
  };
  return measure_reference_ping_pong(config, "cache-line ping-pong (reference)", 64, round_trips, repetitions, ping,
                                     pong);
}

}  // namespace bench
