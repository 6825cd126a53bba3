// Runs a real program (shmq-producer, shmq-consumer) as a child process for the multi-process
// tests: its stdin from a file (or /dev/null), its stdout to a file or a pipe, its stderr to a file.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace shmq::test {

// The hang detector of every wait in these tests: generous, and a failure when it expires.
inline constexpr std::chrono::seconds kHangDetector{300};

class Program {
 public:
  struct Io {
    std::optional<std::filesystem::path> stdin_from;        // default: /dev/null
    bool stdout_to_pipe = false;                            // read it with read_stdout_pipe()
    std::optional<std::filesystem::path> stdout_append_to;  // an existing file, opened O_APPEND
  };

  // Starts argv[0] (a path) with the arguments argv[1..].
  explicit Program(std::vector<std::string> argv, const Io& io);
  explicit Program(std::vector<std::string> argv) : Program(std::move(argv), Io{}) {}
  ~Program();  // kills (SIGKILL) and reaps a program still running; removes the output files
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;

  pid_t pid() const { return pid_; }
  void kill_hard();  // SIGKILL, then reap

  // Waits for the exit and returns the exit code (128 + N when killed by signal N). A program
  // still running at the deadline is killed and reported as a test failure.
  int wait(std::chrono::seconds deadline = kHangDetector);
  bool running();

  std::string out() const;  // what it wrote to stdout (when not piped)
  std::string err() const;  // what it wrote to stderr
  std::string command() const;
  // Everything a failing assertion should show.
  std::string describe() const;

  // The read end of the stdout pipe (Io::stdout_to_pipe); blocking reads, see read_some().
  int stdout_pipe() const { return pipe_read_; }
  // Reads what the pipe has, waiting up to `deadline` for something: appends it to `into` and
  // returns false at end of file. A pipe silent until the deadline fails the test.
  bool read_some(std::string& into, std::chrono::seconds deadline = kHangDetector);

 private:
  std::vector<std::string> argv_;
  std::filesystem::path out_path_;
  std::filesystem::path err_path_;
  pid_t pid_ = -1;
  int pipe_read_ = -1;
  bool reaped_ = false;
  int exit_code_ = -1;
};

// Polls `condition` until it holds; false (and the caller fails) when `deadline` passes first.
bool eventually(const std::function<bool()>& condition, std::chrono::seconds deadline = kHangDetector);

// The last non-empty line of `text`.
std::string last_line(const std::string& text);

// Splits text into its complete lines ('\n'-terminated); an unterminated tail is dropped.
std::vector<std::string> complete_lines(const std::string& text);

}  // namespace shmq::test
