// Agents: the child processes of a run, each holding one role (producer or consumer) or doing one
// administrative act (repair, a create on a full disk). The driver forks an agent, sends it
// commands one at a time (protocol.hpp), and may stop, continue or kill it at any instant.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "disk_model.hpp"
#include "protocol.hpp"

namespace shmq::torture {

enum class Role { producer, consumer, admin };
const char* to_string(Role role);

struct AgentSetup {
  Role role = Role::producer;
  std::filesystem::path queue;
  std::filesystem::path event_log;  // this agent's events (protocol.hpp)
  std::filesystem::path disk_log;   // empty: the real System (no disk model)
  std::uint32_t boot = 0;           // the simulated machine's boot (a new one after each power loss)
  std::uint32_t generation = 0;     // written into every payload this agent produces
  AgentDisk::Faults faults{};
  std::string failpoint;  // SHMQ_FAILPOINT for this process ("" none)
};

class Agent {
 public:
  explicit Agent(const AgentSetup& setup);  // forks it
  ~Agent();                                 // kills it if it still runs
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  const AgentSetup& setup() const { return setup_; }
  pid_t pid() const { return pid_; }
  bool alive() const { return pid_ > 0; }
  bool stopped() const { return stopped_; }
  bool killed_by_driver() const { return killed_by_driver_; }  // else it died by itself
  // How it ended: a wait status (valid once !alive()).
  int exit_status() const { return status_; }

  // Sends `command` and waits for the reply. nullopt: the agent died first (a failpoint, an
  // injected power cut, or a crash: see exit_status()). Throws HangDetected when neither
  // happens within `patience`.
  std::optional<Reply> call(const Command& command, std::chrono::milliseconds patience);
  // For commands that run until told to stop (stream, follow): send, then later stop_and_wait().
  void start(const Command& command);
  std::optional<Reply> stop_and_wait(std::chrono::milliseconds patience);

  void kill();  // SIGKILL, reaped
  void pause();
  void resume();
  // Reaps the agent if it died on its own; true if it did.
  bool reap_if_dead();

 private:
  std::optional<Reply> wait_reply(std::chrono::milliseconds patience);
  AgentSetup setup_;
  pid_t pid_ = -1;
  int socket_ = -1;
  int status_ = 0;
  bool stopped_ = false;
  bool killed_by_driver_ = false;
};

struct HangDetected {
  std::string what;
};

// The events an agent logged since `offset` (advanced past them).
std::vector<Event> read_events(const std::filesystem::path& log, std::uint64_t& offset);

// A process the driver forked that is neither killed nor waited for by an Agent: a forked copy of
// a role holder that stays alive. Killed and reaped by pid.
void kill_and_reap(pid_t pid);

}  // namespace shmq::torture
