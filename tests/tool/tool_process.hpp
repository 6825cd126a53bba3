// Runs the real `shmq` binary (its path comes from CMake as SHMQ_TOOL_PATH) with its stdout and
// stderr on pipes, for tests that check what the tool prints and how it exits.
#pragma once

#include <string>
#include <vector>

#include <sys/types.h>

namespace shmq::test {

struct ToolRun {
  int exit_code = -1;  // -1 when the tool did not exit normally (see `signal`)
  int signal = 0;      // the signal that killed it, if any
  std::string out;
  std::string err;
};

// A running tool process. The destructor kills (SIGKILL) and reaps one still running.
class ToolProcess {
 public:
  explicit ToolProcess(const std::vector<std::string>& args);
  ~ToolProcess();
  ToolProcess(const ToolProcess&) = delete;
  ToolProcess& operator=(const ToolProcess&) = delete;

  // Blocks until the tool printed a whole line on stdout (returned without the newline), or
  // closed stdout (returns false).
  bool read_line(std::string& line);
  void send_signal(int sig) const;
  // Reads both pipes to the end, then reaps the tool. What read_line consumed is not in `out`.
  ToolRun finish();

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_buffer_;
};

// Runs the tool to completion.
ToolRun run_tool(const std::vector<std::string>& args);

// For failure messages: the command line and everything the tool printed.
std::string describe(const ToolRun& run);

}  // namespace shmq::test
