// Placement classes: where the VM has put the two vCPUs, judged by the cache-line round-trip p50
// between them (bench/README.md, "Placement").
#pragma once

#include <string>

#include "config.hpp"
#include "results.hpp"

namespace bench {

inline const char* const kPlacementClasses[] = {"near", "mid", "far"};

// "near" below the first threshold, "far" above the second, "mid" between; "" for a failed probe.
inline std::string placement_class_of(const Config& config, double p50_ns) {
  if (p50_ns <= 0) return "";
  if (p50_ns < config.placement_thresholds_ns[0]) return "near";
  if (p50_ns <= config.placement_thresholds_ns[1]) return "mid";
  return "far";
}

// A row's class is known only when the probes before and after it fall in the same one ("": moved).
inline std::string placement_class_of(const Config& config, const Placement& placement) {
  const std::string before = placement_class_of(config, placement.before_ns);
  return before == placement_class_of(config, placement.after_ns) ? before : "";
}

}  // namespace bench
