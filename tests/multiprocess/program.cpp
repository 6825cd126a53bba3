#include "multiprocess/program.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace shmq::test {
namespace {

// A fresh, empty file under /dev/shm for a child's output.
std::filesystem::path output_file(const char* what) {
  std::string name = "/dev/shm/shmq-test-" + std::string(what) + "-XXXXXX";
  const int fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("mkostemp: " + std::string(std::strerror(errno)));
  ::close(fd);
  return name;
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void check(int rc, const char* what) {
  if (rc != 0) throw std::runtime_error(std::string(what) + ": " + std::strerror(rc));
}

}  // namespace

Program::Program(std::vector<std::string> argv, const Io& io)
    : argv_(std::move(argv)), out_path_(output_file("stdout")), err_path_(output_file("stderr")) {
  posix_spawn_file_actions_t actions;
  check(::posix_spawn_file_actions_init(&actions), "posix_spawn_file_actions_init");
  const std::string in = io.stdin_from ? io.stdin_from->string() : std::string("/dev/null");
  check(::posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, in.c_str(), O_RDONLY, 0), "addopen stdin");
  int pipe_write = -1;
  if (io.stdout_to_pipe) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    pipe_read_ = fds[0];
    pipe_write = fds[1];
    check(::posix_spawn_file_actions_adddup2(&actions, pipe_write, STDOUT_FILENO), "adddup2 stdout");
  } else if (io.stdout_append_to) {
    check(::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, io.stdout_append_to->c_str(), O_WRONLY | O_APPEND,
                                             0),
          "addopen stdout");
  } else {
    check(::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path_.c_str(), O_WRONLY | O_TRUNC, 0),
          "addopen stdout");
  }
  check(::posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path_.c_str(), O_WRONLY | O_TRUNC, 0),
        "addopen stderr");
  std::vector<char*> args;
  for (std::string& a : argv_) args.push_back(a.data());
  args.push_back(nullptr);
  const int rc = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  if (pipe_write >= 0) ::close(pipe_write);  // the child's copy is the only writer: EOF when it dies
  check(rc, ("posix_spawn " + argv_[0]).c_str());
}

Program::~Program() {
  if (!reaped_) kill_hard();
  if (pipe_read_ >= 0) ::close(pipe_read_);
  std::error_code ec;
  std::filesystem::remove(out_path_, ec);
  std::filesystem::remove(err_path_, ec);
}

void Program::kill_hard() {
  if (reaped_) return;
  ::kill(pid_, SIGKILL);
  (void)wait();
}

bool Program::running() {
  if (reaped_) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r != pid_) return true;
  reaped_ = true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return false;
}

int Program::wait(std::chrono::seconds deadline) {
  if (!eventually([this] { return !running(); }, deadline)) {
    ADD_FAILURE() << "still running after " << deadline.count() << " s, killed (hang?): " << describe();
    ::kill(pid_, SIGKILL);
    (void)eventually([this] { return !running(); }, deadline);
  }
  return exit_code_;
}

std::string Program::out() const { return slurp(out_path_); }
std::string Program::err() const { return slurp(err_path_); }

std::string Program::command() const {
  std::string s;
  for (const std::string& a : argv_) s += (s.empty() ? "" : " ") + a;
  return s;
}

std::string Program::describe() const {
  std::ostringstream s;
  s << "\n$ " << command() << "\n(pid " << pid_ << ", exit code " << exit_code_ << ")\n--- stderr:\n" << err();
  if (pipe_read_ < 0) s << "--- stdout (first 2000 bytes):\n" << out().substr(0, 2000);
  return s.str();
}

bool Program::read_some(std::string& into, std::chrono::seconds deadline) {
  pollfd p{pipe_read_, POLLIN, 0};
  const int ready = ::poll(&p, 1, static_cast<int>(std::chrono::milliseconds(deadline).count()));
  if (ready == 0) {
    ADD_FAILURE() << "nothing on stdout for " << deadline.count() << " s: " << describe();
    return false;
  }
  char buf[65536];
  const ssize_t n = ::read(pipe_read_, buf, sizeof buf);
  if (n < 0 && errno == EINTR) return true;
  if (n <= 0) return false;
  into.append(buf, static_cast<std::size_t>(n));
  return true;
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
  const std::size_t begin = text.rfind('\n', end == 0 ? 0 : end - 1);
  return text.substr(begin == std::string::npos ? 0 : begin + 1, end - (begin == std::string::npos ? 0 : begin + 1));
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
