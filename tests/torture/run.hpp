// One run of the torture test: a queue, its agents, the history and the checker, and the steps
// every scenario is made of (open, kill, stop, run a tool, repair, cut the power).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent.hpp"
#include "checker.hpp"
#include "disk_model.hpp"
#include "rng.hpp"
#include "shmq/options.hpp"

namespace shmq::torture {

// The slack a wait may take past its deadline plus the liveness interval: a stopped or preempted
// peer, and a 2-vCPU machine shared with a compiler, can delay a process by seconds.
inline constexpr std::chrono::milliseconds kWaitSlack{5000};
// How long the driver waits for any reply before it calls the agent hung.
inline constexpr std::chrono::milliseconds kHangDetector{60000};

struct RunOptions {
  std::uint64_t seed = 0;
  std::uint64_t steps = 300;
  std::filesystem::path dir = "/dev/shm";
  bool verbose = false;
  bool failpoints = true;  // false: faults come from kill -9 and the disk model only
};

// The faults armed in an agent when it starts.
struct AgentFaults {
  std::string failpoint;  // SHMQ_FAILPOINT name:n
  AgentDisk::Faults disk{};
  int checkpoints = -1;  // the producer's checkpoint policy (-1: drawn at random; 1: explicit only)
};

class Run {
 public:
  Run(const RunOptions& options, const std::string& scenario);
  ~Run();
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  // The queue of this run, created with options drawn from the seed (or the ones given).
  void create(const CreateOptions& options);
  CreateOptions random_queue_options(bool durable);

  History& history() { return history_; }
  Checker& checker() { return checker_; }
  Rng& ops() { return ops_; }      // what to do next
  Rng& chaos() { return chaos_; }  // when a kill lands (not replayable exactly anyway)
  Rng& disk_rng() { return disk_rng_; }
  const std::filesystem::path& queue() const { return queue_; }
  const std::filesystem::path& dir() const { return dir_; }
  const CreateOptions& queue_options() const { return queue_options_; }
  std::uint64_t steps() const { return options_.steps; }
  bool failpoints() const { return options_.failpoints; }
  void step(std::uint64_t k) { history_.set_step(k); }

  std::unique_ptr<Agent>& producer() { return producer_; }
  std::unique_ptr<Agent>& consumer() { return consumer_; }
  bool producer_up() const { return producer_ && producer_->alive(); }
  bool consumer_up() const { return consumer_ && consumer_->alive(); }

  using Faults = AgentFaults;
  // Starts an agent and opens its role; checks that the open succeeds (a fault armed for this
  // agent may kill it during the open: then it is down and false is returned).
  bool open_producer(const Faults& faults = {});
  bool open_consumer(const Faults& faults = {});
  Command open_command();

  // Sends a command, absorbs the agent's events, and returns its reply (nullopt: it died).
  std::optional<Reply> call(std::unique_ptr<Agent>& agent, const Command& c,
                            std::chrono::milliseconds patience = kHangDetector);
  // Reads the events of both agents and feeds the checker; a dead agent is reaped and checked.
  void absorb();
  void kill(std::unique_ptr<Agent>& agent);
  void close(std::unique_ptr<Agent>& agent);
  void after_death(std::unique_ptr<Agent>& agent);

  // The shmq tool against the live queue: stat, verify, dump or watch (one, at random, or all).
  void run_tool(const std::string& which);
  void repair();
  // Power loss: every agent dies at once, the disk model decides what the disk kept.
  void power_loss();
  bool durable() const { return queue_options_.durable; }
  void observe_disk() {
    if (!disk_) return;
    disk_->observe();
    if (disk_->cut_requested()) power_loss();  // it failed inside an msync
  }
  void keep_fork_copy(pid_t pid) { fork_copies_.push_back(pid); }
  void kill_fork_copies();
  std::uint32_t generation() const { return generation_; }

  // For a failure: the queue file and the history, kept in `to`.
  void keep_artifacts(const std::filesystem::path& to) const;

 private:
  std::unique_ptr<Agent> start_agent(Role role, const Faults& faults);
  std::vector<Event> events_of(Agent& agent);

  RunOptions options_;
  std::filesystem::path dir_;
  std::filesystem::path queue_;
  CreateOptions queue_options_;
  History history_;
  Checker checker_;
  Rng ops_, chaos_, disk_rng_;
  std::unique_ptr<DiskModel> disk_;
  std::unique_ptr<Agent> producer_, consumer_;
  std::vector<pid_t> fork_copies_;
  std::uint32_t generation_ = 0;
  std::uint32_t boot_ = 0;
  std::uint64_t tool_runs_ = 0;
  bool awaiting_recovery_ = false;                      // the power failed and no open has recovered the file yet
  std::map<std::uint32_t, std::uint64_t> log_offsets_;  // per generation
};

}  // namespace shmq::torture
