#include "iceoryx_roudi.hpp"

#include <chrono>
#include <csignal>
#include <fstream>
#include <iterator>
#include <thread>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../transport.hpp"

namespace bench {

namespace {

bool file_contains(const std::filesystem::path& path, const std::string& text) {
  std::ifstream in(path);
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return content.find(text) != std::string::npos;
}

}  // namespace

void RoudiProcess::write_config(const std::filesystem::path& config) const {
  // Chunk sizes include iceoryx's chunk header; each pool holds more chunks than one subscriber
  // queue (at most 256) plus what the publishers have on loan.
  std::ofstream out(config);
  out << "[general]\nversion = 1\n\n[[segment]]\n";
  const std::pair<int, int> pools[] = {{128, 2048}, {2048, 2048}, {16384, 512}, {131072, 640}};
  for (const auto& [size, count] : pools)
    out << "\n[[segment.mempool]]\nsize = " << size << "\ncount = " << count << "\n";
}

void RoudiProcess::ensure_running() {
  if (!failure_.empty()) throw Unavailable(failure_);
  if (pid_ > 0) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == 0) return;
    pid_ = -1;
    failure_ = "iox-roudi exited during the run (see iox-roudi.log)";
    throw Unavailable(failure_);
  }
  std::filesystem::create_directories(work_dir_);
  const auto config = work_dir_ / "iox-roudi.toml";
  const auto log = work_dir_ / "iox-roudi.log";
  write_config(config);
  std::fflush(nullptr);
  pid_ = fork();
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the harness
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    execlp("iox-roudi", "iox-roudi", "-c", config.c_str(), "-m", "off", "-l", "info", static_cast<char*>(nullptr));
    _exit(127);
  }
  if (pid_ < 0) {
    failure_ = "fork for iox-roudi failed";
    throw Unavailable(failure_);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      failure_ = WIFEXITED(status) && WEXITSTATUS(status) == 127
                     ? "iox-roudi not found (Debian package iceoryx)"
                     : "iox-roudi exited at start (another RouDi running? see iox-roudi.log)";
      throw Unavailable(failure_);
    }
    if (file_contains(log, "RouDi is ready for clients")) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  failure_ = "iox-roudi did not become ready within 10 s";
  throw Unavailable(failure_);
}

RoudiProcess::~RoudiProcess() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 500; ++i) {  // up to 5 s, then SIGKILL
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

}  // namespace bench
