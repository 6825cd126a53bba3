// A program run on a new pseudo-terminal, for tests of what the programs draw when they talk to a
// terminal: its stdin, stdout and stderr are the slave side; the test reads the master side.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <sys/types.h>

namespace shmq::test {

class TerminalProgram {
 public:
  // Starts argv[0] (a path) with the arguments argv[1..] on a terminal of `columns` x `rows`.
  explicit TerminalProgram(const std::vector<std::string>& argv, unsigned short columns = 80, unsigned short rows = 24);
  ~TerminalProgram();  // kills (SIGKILL) and reaps a program still running
  TerminalProgram(const TerminalProgram&) = delete;
  TerminalProgram& operator=(const TerminalProgram&) = delete;

  pid_t pid() const { return pid_; }
  // Reads until `needle` has appeared (true) or the terminal closed (false). Nothing by the
  // deadline fails the test (a hang detector).
  bool read_until(const std::string& needle, std::chrono::seconds deadline = std::chrono::seconds(300));
  // Reads to the end and reaps the program: its exit code, or -1 when a signal killed it.
  int finish(std::chrono::seconds deadline = std::chrono::seconds(300));
  int signal() const { return signal_; }  // the signal that killed it, 0 if none
  // Everything read so far: stdout and stderr together, with the terminal's "\r\n" for "\n".
  const std::string& output() const { return output_; }

 private:
  bool read_some(std::chrono::steady_clock::time_point until);  // false at the end of the output
  pid_t pid_ = -1;
  int master_ = -1;
  bool reaped_ = false;
  int signal_ = 0;
  std::string output_;
};

}  // namespace shmq::test
