#include "tool_process.hpp"

#include <cerrno>
#include <csignal>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace shmq::test {

namespace {

[[noreturn]] void fail(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

// Appends what is available on `fd` to `into`; false at end of file.
bool read_some(int fd, std::string& into) {
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("read from the tool");
    into.append(buffer, static_cast<std::size_t>(n));
    return n > 0;
  }
}

}  // namespace

ToolProcess::ToolProcess(const std::vector<std::string>& args) {
  int out[2];
  int err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) fail("pipe2");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  std::vector<std::string> argv_strings{SHMQ_TOOL_PATH};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  const int rc = ::posix_spawn(&pid_, SHMQ_TOOL_PATH, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  ::close(err[1]);
  out_fd_ = out[0];
  err_fd_ = err[0];
  if (rc != 0) {
    errno = rc;
    fail("posix_spawn " SHMQ_TOOL_PATH);
  }
}

ToolProcess::~ToolProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0) ::close(out_fd_);
  if (err_fd_ >= 0) ::close(err_fd_);
}

bool ToolProcess::read_line(std::string& line) {
  for (;;) {
    if (const auto newline = out_buffer_.find('\n'); newline != std::string::npos) {
      line = out_buffer_.substr(0, newline);
      out_buffer_.erase(0, newline + 1);
      return true;
    }
    if (!read_some(out_fd_, out_buffer_)) return false;
  }
}

void ToolProcess::send_signal(int sig) const { ::kill(pid_, sig); }

ToolRun ToolProcess::finish() {
  ToolRun run;
  run.out = std::move(out_buffer_);
  // Both pipes at once: a tool that fills one while we block on the other must not deadlock.
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  std::string* into[2] = {&run.out, &run.err};
  int open_pipes = 2;
  while (open_pipes > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      fail("poll");
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0 && !read_some(fds[i].fd, *into[i])) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_pipes;
      }
    }
  }
  out_fd_ = err_fd_ = -1;
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) fail("waitpid");
  }
  pid_ = -1;
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) run.signal = WTERMSIG(status);
  return run;
}

ToolRun run_tool(const std::vector<std::string>& args) { return ToolProcess(args).finish(); }

std::string describe(const ToolRun& run) {
  return "exit code " + std::to_string(run.exit_code) +
         (run.signal != 0 ? ", killed by signal " + std::to_string(run.signal) : "") + "\n--- stdout ---\n" + run.out +
         "--- stderr ---\n" + run.err;
}

}  // namespace shmq::test
