// Forked children for multi-process tests: run a function in a child, kill it, reap it.
#pragma once

#include <chrono>
#include <functional>

#include <sys/types.h>

namespace shmq::test {

class ChildProcess {
 public:
  // Forks; the child runs `body` and exits with its return value (1 if it throws).
  explicit ChildProcess(const std::function<int()>& body);
  ~ChildProcess();  // kills (SIGKILL) and reaps a child still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void kill_hard();  // SIGKILL, then reap
  // Waits for the child to exit; returns its wait status. A child still running at `deadline`
  // is killed and reported as a test failure (a hang detector, not a timing assertion).
  int wait(std::chrono::seconds deadline = std::chrono::seconds(300));
  bool exited_cleanly();  // wait() == exit status 0

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

}  // namespace shmq::test
