// The command lines of the programs the bridge tests drive, and the check at queue B's end.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/child_process.hpp"
#include "support/temp_queue.hpp"

namespace shmq::test {

// A temporary queue B of `shmq-bridge in`: also removes the record the bridge keeps beside it.
class InQueue : public TempQueue {
 public:
  ~InQueue() {
    std::error_code ignored;
    std::filesystem::remove(record(), ignored);
    std::filesystem::remove(record() + ".tmp", ignored);
  }
  std::string record() const { return str() + ".shmq-bridge-in"; }
};

// How many messages a queue has received (its next sequence number), read without attaching.
inline std::uint64_t published_in(const std::string& queue) {
  ChildProcess stat({SHMQ_TOOL_PATH, "stat", "--json", queue});
  const ProgramRun run = stat.finish();
  if (run.exit_code != 0) return 0;
  return nlohmann::json::parse(run.out)["sequences"].value("published", 0ULL);
}

// Whether the process writes `text` to stderr (before it exits).
inline bool stderr_says(ChildProcess& process, const std::string& text) {
  return eventually([&] { return process.err().find(text) != std::string::npos || !process.running(); }) &&
         process.err().find(text) != std::string::npos;
}

// A count from the environment (for the full-size runs), else `fallback`.
inline std::uint64_t count_from_env(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  return text != nullptr ? std::strtoull(text, nullptr, 10) : fallback;
}

inline std::vector<std::string> producer_argv(const std::string& queue, std::uint64_t count, const std::string& size) {
  return {SHMQ_PRODUCER_PATH, "--queue", queue, "--count", std::to_string(count), "--size", size, "--quiet"};
}

inline std::vector<std::string> out_argv(const std::string& queue, const std::string& url, const std::string& stream,
                                         std::uint64_t count) {
  return {
      SHMQ_BRIDGE_PATH, "out",  "--queue",         queue,     "--server",           url, "--subject", stream + ".data",
      "--stream",       stream, "--create-stream", "--count", std::to_string(count)};
}

inline std::vector<std::string> in_argv(const std::string& url, const std::string& stream, const std::string& queue,
                                        std::uint64_t count) {
  return {SHMQ_BRIDGE_PATH, "in",  "--server", url,       "--stream",           stream, "--consumer", "to-b",
          "--queue",        queue, "--create", "--count", std::to_string(count)};
}

// `shmq-consumer --verify` reading queue B (which must exist) while the bridge fills it.
inline std::vector<std::string> verifying_consumer_argv(const std::string& queue, std::uint64_t count) {
  return {SHMQ_CONSUMER_PATH, "--queue", queue, "--verify", "--json", "--count", std::to_string(count)};
}

// Expects the verifying consumer to have read messages 0..count-1, each once, intact.
inline void expect_exactly_once_in_order(ChildProcess& consumer, std::uint64_t count) {
  ASSERT_EQ(consumer.exit_code(), 0) << consumer.describe();
  const nlohmann::json s = nlohmann::json::parse(last_line(consumer.out()));
  EXPECT_EQ(s.value("first_sequence", 1ULL), 0U) << s.dump();
  EXPECT_EQ(s.value("last_sequence", 0ULL), count - 1) << s.dump();
  EXPECT_EQ(s.value("messages", 0ULL), count) << s.dump();
  EXPECT_EQ(s.value("gaps", 1ULL) + s.value("duplicates", 1ULL) + s.value("corrupt", 1ULL), 0U) << s.dump();
}

}  // namespace shmq::test
