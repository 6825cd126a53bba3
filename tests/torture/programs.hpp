// The project's real programs, run against the live queue: the `shmq` tool (stat, verify, dump,
// watch) and the sample programs shmq-producer and shmq-consumer.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace shmq::torture {

// Where the programs are (compiled in; empty when the build has no programs).
std::string tool_path();
std::string sample_producer_path();
std::string sample_consumer_path();

struct ProgramResult {
  int exit_code = -1;  // -1: killed by a signal
  int signal = 0;
  std::string output;  // stdout and stderr
};

// A program started in the background; its output goes to a file.
class Program {
 public:
  Program(const std::vector<std::string>& argv, const std::filesystem::path& output);
  ~Program();  // kills it if it still runs
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;
  pid_t pid() const { return pid_; }
  // Waits for it to end; nullopt when `patience` runs out first (it still runs).
  std::optional<ProgramResult> wait(std::chrono::milliseconds patience);
  void kill();

 private:
  pid_t pid_ = -1;
  std::filesystem::path output_;
  std::string command_;
};

// Runs a program to its end. Throws Violation (a hang) when it outlasts `patience`.
ProgramResult run_program(const std::vector<std::string>& argv, const std::filesystem::path& output,
                          std::chrono::milliseconds patience);

}  // namespace shmq::torture
