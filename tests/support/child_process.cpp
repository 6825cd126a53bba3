#include "support/child_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <exception>
#include <thread>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

namespace shmq::test {

ChildProcess::ChildProcess(const std::function<int()>& body) {
  std::fflush(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int rc = 1;
    try {
      rc = body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child %d: %s\n", ::getpid(), e.what());
    }
    std::fflush(nullptr);
    ::_exit(rc);
  }
}

ChildProcess::~ChildProcess() {
  if (!reaped_) kill_hard();
}

void ChildProcess::kill_hard() {
  if (reaped_) return;
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
}

int ChildProcess::wait(std::chrono::seconds deadline) {
  if (reaped_) return status_;
  const auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    const pid_t r = ::waitpid(pid_, &status_, WNOHANG);
    if (r == pid_) break;
    if (std::chrono::steady_clock::now() > until) {
      ADD_FAILURE() << "child " << pid_ << " still running after " << deadline.count() << " s: killed (hang?)";
      kill_hard();
      return status_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // polling a condition, not synchronising
  }
  reaped_ = true;
  return status_;
}

bool ChildProcess::exited_cleanly() {
  const int s = wait();
  return WIFEXITED(s) && WEXITSTATUS(s) == 0;
}

}  // namespace shmq::test
