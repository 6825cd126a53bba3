#include "process_pair.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sequence_check.hpp"
#include "transport.hpp"

namespace bench {

void PairBarrier::sched_yield_now() noexcept { sched_yield(); }

bool pin_to_cpu(int cpu) noexcept {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof set, &set) == 0;
}

namespace {

void report(RoleReport& role, Outcome outcome, const char* message) noexcept {
  std::snprintf(role.message, sizeof role.message, "%s", message);
  role.outcome.store(static_cast<int>(outcome), std::memory_order_release);
}

[[noreturn]] void run_child(int cpu, RoleReport& role, const RoleBody& body, SharedBoard& board) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // a harness that is killed takes its spinning children along
  role.pinned = pin_to_cpu(cpu);
  int code = 0;
  try {
    body(board);
    report(role, Outcome::ok, "");
  } catch (const SequenceError& e) {
    report(role, Outcome::sequence_error, e.what());
    code = 3;
  } catch (const Unavailable& e) {
    report(role, Outcome::unavailable, e.what());
    code = 4;
  } catch (const std::exception& e) {
    report(role, Outcome::failed, e.what());
    code = 2;
  }
  // exit(), not _exit(): libraries with a runtime (iceoryx) deregister in static destructors.
  std::exit(code);
}

int severity(Outcome outcome) noexcept {
  switch (outcome) {
    case Outcome::ok:
      return 0;
    case Outcome::running:
      return 1;
    case Outcome::unavailable:
      return 2;
    case Outcome::failed:
      return 3;
    case Outcome::sequence_error:
      return 4;
  }
  return 3;
}

}  // namespace

PairResult run_pair(const Config& config, SharedBoard& board, const RoleBody& role0, const RoleBody& role1) {
  std::fflush(nullptr);  // or the children would print the harness's buffered output again
  const RoleBody* bodies[2] = {&role0, &role1};
  pid_t pids[2] = {-1, -1};
  for (int i = 0; i < 2; ++i) {
    pids[i] = fork();
    if (pids[i] == 0) run_child(config.cpus[i], board.roles[i], *bodies[i], board);
    if (pids[i] < 0) {
      if (i == 1) kill(pids[0], SIGKILL);
      throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
    }
  }

  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + config.run_timeout;
  auto grace_end = Clock::time_point::max();
  bool exited[2] = {false, false};
  bool ended_by_harness[2] = {false, false};
  int status[2] = {0, 0};
  bool timed_out = false;
  while (!exited[0] || !exited[1]) {
    for (int i = 0; i < 2; ++i) {
      if (!exited[i] && waitpid(pids[i], &status[i], WNOHANG) == pids[i]) {
        exited[i] = true;
        // A child that failed leaves its peer waiting for it: give the peer a moment, then end it.
        if (!(WIFEXITED(status[i]) && WEXITSTATUS(status[i]) == 0)) {
          grace_end = std::min(grace_end, Clock::now() + std::chrono::seconds(2));
        }
      }
    }
    const auto now = Clock::now();
    if (now > deadline || now > grace_end) {
      timed_out = now > deadline;
      for (int i = 0; i < 2; ++i) {
        if (!exited[i]) {
          kill(pids[i], SIGKILL);
          waitpid(pids[i], &status[i], 0);
          exited[i] = true;
          ended_by_harness[i] = true;
        }
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

  PairResult result;
  result.pinned = board.roles[0].pinned && board.roles[1].pinned;
  result.outcome = Outcome::ok;
  for (int i = 0; i < 2; ++i) {
    auto outcome = static_cast<Outcome>(board.roles[i].outcome.load(std::memory_order_acquire));
    std::string message = board.roles[i].message;
    if (outcome == Outcome::running && ended_by_harness[i] && !timed_out) continue;  // its peer failed first
    if (outcome == Outcome::running) {
      outcome = Outcome::failed;
      if (timed_out) {
        message = "timed out after " + std::to_string(config.run_timeout.count()) + " s";
      } else if (WIFSIGNALED(status[i])) {
        message = std::string("killed by signal ") + strsignal(WTERMSIG(status[i]));
      } else {
        message = "ended without a report";
      }
    }
    if (severity(outcome) > severity(result.outcome)) {
      result.outcome = outcome;
      result.message = std::string(i == 0 ? "role 0: " : "role 1: ") + message;
    }
  }
  return result;
}

}  // namespace bench
