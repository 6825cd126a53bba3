// What `--stat SECONDS` prints: one JSON object per line on stdout, e.g.
//   {"direction":"out","state":"publishing","last_acked":41999,"in_flight":4096,"lag":1203}
// last_acked: the highest source sequence number JetStream acknowledged (out) or the local queue
// received (in), -1 before the first; in_flight: messages published but not yet acknowledged;
// lag: messages waiting behind the bridge (out: published in the local queue, not yet released;
// in: pending in the JetStream consumer), -1 when unknown.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace shmq_bridge {

struct BridgeStats {
  const char* direction = "out";
  const char* state = "starting";  // starting, waiting_for_server, publishing, idle, stopping
  std::int64_t last_acked = -1;
  std::uint64_t in_flight = 0;
  std::int64_t lag = -1;
};

// Prints the stats line when `interval` has passed since the last one (never when it is zero).
class StatsPrinter {
 public:
  explicit StatsPrinter(std::chrono::seconds interval) : interval_(interval) {}

  void maybe_print(const BridgeStats& stats) {
    if (interval_.count() == 0) return;
    const auto now = std::chrono::steady_clock::now();
    if (now < next_) return;
    next_ = now + interval_;
    std::printf("{\"direction\":\"%s\",\"state\":\"%s\",\"last_acked\":%lld,\"in_flight\":%llu,\"lag\":%lld}\n",
                stats.direction, stats.state, static_cast<long long>(stats.last_acked),
                static_cast<unsigned long long>(stats.in_flight), static_cast<long long>(stats.lag));
    std::fflush(stdout);
  }

 private:
  std::chrono::seconds interval_;
  std::chrono::steady_clock::time_point next_{};
};

}  // namespace shmq_bridge
