// The workload the crash tests kill, and the checks they make afterwards.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "shmq/shmq.hpp"

namespace shmq::crash_test {

// Runs `body` in a child with SHMQ_FAILPOINT=spec and expects the failpoint to kill it.
void expect_killed_at(const std::string& spec, const std::function<int()>& body);

// A durable queue whose checkpoints come only from sync() and from a producer short of space.
CreateOptions durable_options();

// One process, two threads: the producer sends messages until the queue has received `total`,
// syncing every 20 and waiting each time until the consumer is parked on the futex (so every
// step, the wake included, runs); the consumer verifies each message, appends its sequence
// number to `log` (before releasing it), and releases every 3. Returns 0 when all is done.
int run_workload(const std::filesystem::path& queue, const std::filesystem::path& log, std::uint64_t total);

// After a crash: at least one checkpoint slot is valid; recovery from it (a simulated reboot)
// works; the consumer then resumes no later than the first message missing from `log`, sees
// every message in order and intact to the end; a producer continues the sequence.
void verify_after_crash(const std::filesystem::path& queue, const std::filesystem::path& log);

}  // namespace shmq::crash_test
