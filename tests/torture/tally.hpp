// What the torture runs of this process did, summed over runs: printed at the end of a run of
// many seeds (a long run's closing line says how much was tried, not only that it was clean).
#pragma once

#include <cstdint>
#include <string>

namespace shmq::torture {

struct Tally {
  std::uint64_t runs = 0;
  std::uint64_t operations = 0;        // commands the agents executed
  std::uint64_t kills = 0;             // kill -9 by the driver
  std::uint64_t stops = 0;             // SIGSTOP (and SIGCONT)
  std::uint64_t failpoints_armed = 0;  // agents started with a failpoint
  std::uint64_t self_kills = 0;        // agents that died at a failpoint or a power cut inside msync
  std::uint64_t power_cuts = 0;
  std::uint64_t repairs = 0;
  std::uint64_t tool_runs = 0;
  std::uint64_t deliveries = 0;  // messages received and checked

  std::string describe() const {
    auto n = [](std::uint64_t v) { return std::to_string(v); };
    return n(runs) + " runs, " + n(operations) + " operations, " + n(kills) + " kills, " + n(stops) + " stops, " +
           n(failpoints_armed) + " failpoints armed (" + n(self_kills) + " agents died at one or at a power cut), " +
           n(power_cuts) + " power cuts, " + n(repairs) + " repairs, " + n(tool_runs) + " tool runs, " + n(deliveries) +
           " messages checked";
  }
};

inline Tally& tally() {
  static Tally t;
  return t;
}

}  // namespace shmq::torture
