#include "support/child_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

extern char** environ;

namespace shmq::test {
namespace {

[[noreturn]] void fail(const std::string& what, int error = errno) {
  throw std::system_error(error, std::generic_category(), what);
}

void check(int rc, const std::string& what) {
  if (rc != 0) fail(what, rc);
}

// A fresh, empty file under /dev/shm for a child's output.
std::filesystem::path output_file(const char* what) {
  std::string name = "/dev/shm/shmq-test-" + std::string(what) + "-XXXXXX";
  const int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) fail("mkostemp");
  ::close(fd);
  return name;
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The master side of a new pseudo-terminal of `columns` x `rows`, and the path of its slave side.
int open_terminal(unsigned short columns, unsigned short rows, std::string& slave) {
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) fail("posix_openpt");
  char name[128];
  if (::grantpt(master) != 0 || ::unlockpt(master) != 0 || ::ptsname_r(master, name, sizeof name) != 0) {
    const int error = errno;
    ::close(master);
    fail("grantpt/unlockpt/ptsname_r", error);
  }
  winsize size{};
  size.ws_col = columns;
  size.ws_row = rows;
  ::ioctl(master, TIOCSWINSZ, &size);
  slave = name;
  return master;
}

}  // namespace

ChildProcess::ChildProcess(const std::function<int()>& body) {
  std::fflush(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) fail("fork");
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

ChildProcess::ChildProcess(std::vector<std::string> argv, const ProgramIo& io)
    : argv_(std::move(argv)), out_path_(output_file("stdout")), err_path_(output_file("stderr")) {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  check(::posix_spawn_file_actions_init(&actions), "posix_spawn_file_actions_init");
  check(::posix_spawnattr_init(&attributes), "posix_spawnattr_init");
  int child_end = -1;  // our copy of the descriptor the child writes to, closed once it runs
  if (io.on_terminal) {
    std::string slave;
    output_fd_ = open_terminal(io.columns, io.rows, slave);
    // A session of its own, so that the terminal can become its controlling terminal.
    check(::posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID), "posix_spawnattr_setflags");
    check(::posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, slave.c_str(), O_RDWR, 0), "addopen terminal");
    check(::posix_spawn_file_actions_adddup2(&actions, STDIN_FILENO, STDOUT_FILENO), "adddup2 terminal");
    check(::posix_spawn_file_actions_adddup2(&actions, STDIN_FILENO, STDERR_FILENO), "adddup2 terminal");
  } else {
    const std::string in = io.stdin_from ? io.stdin_from->string() : std::string("/dev/null");
    check(::posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, in.c_str(), O_RDONLY, 0), "addopen stdin");
    if (io.stdout_to_pipe) {
      int fds[2];
      if (::pipe2(fds, O_CLOEXEC) != 0) fail("pipe2");
      output_fd_ = fds[0];
      child_end = fds[1];
      check(::posix_spawn_file_actions_adddup2(&actions, child_end, STDOUT_FILENO), "adddup2 stdout");
    } else {
      const std::filesystem::path& out = io.stdout_append_to ? *io.stdout_append_to : out_path_;
      const int flags = io.stdout_append_to ? O_WRONLY | O_APPEND : O_WRONLY | O_TRUNC;
      check(::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(), flags, 0), "addopen stdout");
    }
    check(::posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path_.c_str(), O_WRONLY | O_TRUNC, 0),
          "addopen stderr");
  }
  std::vector<char*> args;
  for (std::string& a : argv_) args.push_back(a.data());
  args.push_back(nullptr);
  const int rc = ::posix_spawn(&pid_, args[0], &actions, &attributes, args.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attributes);
  if (child_end >= 0) ::close(child_end);  // the child's copy is the only writer: end of file when it dies
  if (rc != 0) {
    reaped_ = true;
    fail("posix_spawn " + argv_[0], rc);
  }
}

ChildProcess::~ChildProcess() {
  if (!reaped_) kill_hard();
  if (output_fd_ >= 0) ::close(output_fd_);
  if (!argv_.empty()) {
    std::error_code ignored;
    std::filesystem::remove(out_path_, ignored);
    std::filesystem::remove(err_path_, ignored);
  }
}

void ChildProcess::send_signal(int signo) const {
  if (!reaped_) ::kill(pid_, signo);
}

void ChildProcess::kill_hard() {
  if (reaped_) return;
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
}

bool ChildProcess::running() {
  if (reaped_) return false;
  if (::waitpid(pid_, &status_, WNOHANG) != pid_) return true;
  reaped_ = true;
  return false;
}

int ChildProcess::wait(std::chrono::seconds deadline) {
  if (!eventually([this] { return !running(); }, deadline)) {
    ADD_FAILURE() << "child " << pid_ << " still running after " << deadline.count() << " s: killed (hang?)"
                  << describe();
    kill_hard();
  }
  return status_;
}

bool ChildProcess::exited_cleanly() {
  const int s = wait();
  return WIFEXITED(s) && WEXITSTATUS(s) == 0;
}

int ChildProcess::exit_code(std::chrono::seconds deadline) {
  const int s = wait(deadline);
  return WIFEXITED(s) ? WEXITSTATUS(s) : 128 + WTERMSIG(s);
}

ProgramRun ChildProcess::finish(std::chrono::seconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  if (output_fd_ >= 0) {
    while (read_into_output(until)) {
    }
  }
  const int s = wait(deadline);
  ProgramRun run;
  run.command = command();
  if (WIFEXITED(s)) run.exit_code = WEXITSTATUS(s);
  if (WIFSIGNALED(s)) run.signal = WTERMSIG(s);
  run.out = output_fd_ >= 0 ? output_.substr(line_start_) : out();
  run.err = err();
  return run;
}

std::string ChildProcess::out() const {
  if (output_fd_ >= 0) return output_;
  return argv_.empty() ? std::string() : slurp(out_path_);
}
std::string ChildProcess::err() const { return argv_.empty() ? std::string() : slurp(err_path_); }

std::string ChildProcess::command() const {
  if (argv_.empty()) return "(forked function)";
  std::string s;
  for (const std::string& a : argv_) s += (s.empty() ? "" : " ") + a;
  return s;
}

std::string ChildProcess::describe() const {
  std::ostringstream s;
  s << "\n$ " << command() << "\n(pid " << pid_;
  if (reaped_) s << ", wait status " << status_;
  s << ")\n--- stderr:\n" << err() << "--- stdout (first 2000 bytes):\n" << out().substr(0, 2000);
  return s.str();
}

bool ChildProcess::read_into_output(std::chrono::steady_clock::time_point until) {
  for (;;) {
    if (std::chrono::steady_clock::now() > until) {
      ADD_FAILURE() << "nothing more on the output by the deadline" << describe();
      return false;
    }
    pollfd p{output_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;  // nothing yet (or EINTR): look at the deadline again
    char buffer[65536];
    const ssize_t n = ::read(output_fd_, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // end of the pipe; EIO: every copy of the terminal's slave side is closed
    output_.append(buffer, static_cast<std::size_t>(n));
    return true;
  }
}

bool ChildProcess::read_some(std::string& into, std::chrono::seconds deadline) {
  const std::size_t before = output_.size();
  if (!read_into_output(std::chrono::steady_clock::now() + deadline)) return false;
  into.append(output_, before);
  return true;
}

bool ChildProcess::read_until(const std::string& needle, std::chrono::seconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (output_.find(needle) == std::string::npos) {
    if (!read_into_output(until)) return false;
  }
  return true;
}

bool ChildProcess::read_line(std::string& line, std::chrono::seconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    if (const std::size_t newline = output_.find('\n', line_start_); newline != std::string::npos) {
      line = output_.substr(line_start_, newline - line_start_);
      line_start_ = newline + 1;
      return true;
    }
    if (!read_into_output(until)) return false;
  }
}

std::string describe(const ProgramRun& run) {
  return "$ " + run.command + "\nexit code " + std::to_string(run.exit_code) +
         (run.signal != 0 ? ", killed by signal " + std::to_string(run.signal) : "") + "\n--- stdout ---\n" + run.out +
         "--- stderr ---\n" + run.err;
}

bool eventually(const std::function<bool()>& condition, std::chrono::seconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // polling a condition, not synchronising
  }
  return true;
}

std::string last_line(const std::string& text) {
  std::size_t end = text.size();
  while (end > 0 && text[end - 1] == '\n') --end;
  const std::size_t newline = text.rfind('\n', end == 0 ? 0 : end - 1);
  const std::size_t begin = newline == std::string::npos ? 0 : newline + 1;
  return text.substr(begin, end - begin);
}

std::vector<std::string> complete_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t begin = 0;
  for (std::size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', begin)) {
    lines.push_back(text.substr(begin, nl - begin));
    begin = nl + 1;
  }
  return lines;
}

}  // namespace shmq::test
