#include "support/terminal_program.hpp"

#include <cerrno>
#include <csignal>
#include <system_error>

#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

namespace shmq::test {

TerminalProgram::TerminalProgram(const std::vector<std::string>& argv, unsigned short columns, unsigned short rows) {
  // Everything the child needs is made before the fork: after it, only exec.
  std::vector<std::string> strings = argv;
  std::vector<char*> args;
  for (std::string& s : strings) args.push_back(s.data());
  args.push_back(nullptr);
  winsize size{};
  size.ws_col = columns;
  size.ws_row = rows;
  pid_ = ::forkpty(&master_, nullptr, nullptr, &size);
  if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "forkpty");
  if (pid_ == 0) {
    ::execv(args[0], args.data());
    ::_exit(127);
  }
}

TerminalProgram::~TerminalProgram() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (master_ >= 0) ::close(master_);
}

bool TerminalProgram::read_some(std::chrono::steady_clock::time_point until) {
  for (;;) {
    if (std::chrono::steady_clock::now() > until) {
      ADD_FAILURE() << "the program on the terminal printed nothing more by the deadline; so far:\n" << output_;
      return false;
    }
    pollfd p{master_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;  // nothing yet (or EINTR): look at the deadline again
    char buffer[4096];
    const ssize_t n = ::read(master_, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // EIO: every copy of the slave side is closed
    output_.append(buffer, static_cast<std::size_t>(n));
    return true;
  }
}

bool TerminalProgram::read_until(const std::string& needle, std::chrono::seconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (output_.find(needle) == std::string::npos) {
    if (!read_some(until)) return false;
  }
  return true;
}

int TerminalProgram::finish(std::chrono::seconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (read_some(until)) {
  }
  int status = 0;
  if (std::chrono::steady_clock::now() > until) ::kill(pid_, SIGKILL);  // read_some has failed the test
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "waitpid");
  }
  reaped_ = true;
  if (WIFSIGNALED(status)) signal_ = WTERMSIG(status);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace shmq::test
