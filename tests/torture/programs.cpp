#include "programs.hpp"

#include <cerrno>
#include <csignal>
#include <fstream>
#include <iterator>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checker.hpp"

namespace shmq::torture {

std::string tool_path() {
#ifdef SHMQ_TOOL_PATH
  return SHMQ_TOOL_PATH;
#else
  return {};
#endif
}
std::string sample_producer_path() {
#ifdef SHMQ_PRODUCER_PATH
  return SHMQ_PRODUCER_PATH;
#else
  return {};
#endif
}
std::string sample_consumer_path() {
#ifdef SHMQ_CONSUMER_PATH
  return SHMQ_CONSUMER_PATH;
#else
  return {};
#endif
}

Program::Program(const std::vector<std::string>& argv, const std::filesystem::path& output) : output_(output) {
  for (const std::string& a : argv) command_ += (command_.empty() ? "" : " ") + a;
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork");
  if (pid_ == 0) {
    const int out = ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int in = ::open("/dev/null", O_RDONLY);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::unsetenv("SHMQ_FAILPOINT");
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    std::_Exit(127);
  }
}

Program::~Program() { kill(); }

void Program::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

std::optional<ProgramResult> Program::wait(std::chrono::milliseconds patience) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) break;
    if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
    ::usleep(2000);  // polling a child's end; not a synchronisation
  }
  pid_ = -1;
  ProgramResult result;
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  std::ifstream in(output_);
  result.output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return result;
}

ProgramResult run_program(const std::vector<std::string>& argv, const std::filesystem::path& output,
                          std::chrono::milliseconds patience) {
  Program program(argv, output);
  std::optional<ProgramResult> result = program.wait(patience);
  if (!result) {
    std::string command;
    for (const std::string& a : argv) command += a + " ";
    fail("no wait outlasts its deadline", command + "did not end within " + std::to_string(patience.count()) + " ms");
  }
  return *result;
}

}  // namespace shmq::torture
