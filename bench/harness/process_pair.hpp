// Runs two roles in two child processes pinned to two CPUs, and waits for both with a deadline
// (a hang detector, never part of a measurement).
#pragma once

#include <functional>
#include <string>

#include "config.hpp"
#include "shared_board.hpp"

namespace bench {

using RoleBody = std::function<void(SharedBoard&)>;

struct PairResult {
  Outcome outcome = Outcome::ok;
  std::string message;  // why, when not ok
  bool pinned = true;   // both children were pinned to their CPU
};

// Role 0 runs on config.cpus[0], role 1 on config.cpus[1]. A body reports failure by throwing:
// Unavailable, SequenceError, or anything else (failed).
PairResult run_pair(const Config& config, SharedBoard& board, const RoleBody& role0, const RoleBody& role1);

// Pins the calling thread's process to one CPU. False when the CPU is not available.
bool pin_to_cpu(int cpu) noexcept;

}  // namespace bench
