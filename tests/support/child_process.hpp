// Child processes of the tests: a function run in a fork (library-level multi-process tests) or a
// real program (shmq-producer, shmq-consumer, shmq) with its standard streams in files, on a pipe
// or on a pseudo-terminal. Every wait is bounded by a generous hang detector that fails the test.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace shmq::test {

// The hang detector of every wait on a child: generous, and a test failure when it expires.
inline constexpr std::chrono::seconds kHangDetector{300};

// Where a program's standard streams go. By default stdin is /dev/null and stdout and stderr are
// files of their own (out(), err()).
struct ProgramIo {
  std::optional<std::filesystem::path> stdin_from;
  bool stdout_to_pipe = false;                            // read it with read_some() / read_line()
  std::optional<std::filesystem::path> stdout_append_to;  // an existing file, opened O_APPEND
  bool on_terminal = false;                               // stdin, stdout and stderr on a new pseudo-terminal
  unsigned short columns = 80;
  unsigned short rows = 24;

  static ProgramIo input_from(std::filesystem::path file) {
    ProgramIo io;
    io.stdin_from = std::move(file);
    return io;
  }
  static ProgramIo output_to_pipe() {
    ProgramIo io;
    io.stdout_to_pipe = true;
    return io;
  }
  static ProgramIo output_appended_to(std::filesystem::path file) {
    ProgramIo io;
    io.stdout_append_to = std::move(file);
    return io;
  }
  // Read with read_some() / read_until(): stdout and stderr together, "\r\n" for each newline.
  static ProgramIo terminal(unsigned short columns = 80, unsigned short rows = 24) {
    ProgramIo io;
    io.on_terminal = true;
    io.columns = columns;
    io.rows = rows;
    return io;
  }
};

// How a program ended and what it printed.
struct ProgramRun {
  std::string command;
  int exit_code = -1;  // -1 when a signal killed it (see `signal`)
  int signal = 0;
  std::string out;  // stdout (on a terminal: everything it printed)
  std::string err;  // stderr (empty on a terminal)
};

// For failure messages: the command line, how it ended and what it printed.
std::string describe(const ProgramRun& run);

class ChildProcess {
 public:
  // Forks; the child runs `body` and exits with its return value (1 if it throws).
  explicit ChildProcess(const std::function<int()>& body);
  // Starts the program argv[0] (a path) with the arguments argv[1..].
  explicit ChildProcess(std::vector<std::string> argv, const ProgramIo& io = {});
  ~ChildProcess();  // kills (SIGKILL) and reaps a child still running; removes the output files
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void send_signal(int signo) const;
  void kill_hard();  // SIGKILL, then reap
  bool running();    // reaps it when it has ended

  // Waits for the end and returns the wait status (for WIFEXITED and friends).
  int wait(std::chrono::seconds deadline = kHangDetector);
  bool exited_cleanly();  // wait() == exit status 0
  // Waits for the end and returns the exit code, or 128 + N when signal N killed it.
  int exit_code(std::chrono::seconds deadline = kHangDetector);
  // Reads the output to its end, waits, and returns everything.
  ProgramRun finish(std::chrono::seconds deadline = kHangDetector);

  std::string out() const;  // stdout: its file, or what the reads below collected
  std::string err() const;  // stderr (a program's own file)
  std::string command() const;
  std::string describe() const;

  // The stdout pipe or the terminal: reads what is there, waiting up to `deadline` for
  // something; appends it to `into`, or returns false at the end. Silence until the deadline
  // fails the test.
  bool read_some(std::string& into, std::chrono::seconds deadline = kHangDetector);
  // Reads until `needle` has appeared in what was read so far (true) or the output ended (false).
  bool read_until(const std::string& needle, std::chrono::seconds deadline = kHangDetector);
  // The next whole line of the output, without its newline; false at the end.
  bool read_line(std::string& line, std::chrono::seconds deadline = kHangDetector);
  const std::string& output() const { return output_; }  // everything read so far

 private:
  bool read_into_output(std::chrono::steady_clock::time_point until);

  std::vector<std::string> argv_;  // empty for a forked function
  std::filesystem::path out_path_;
  std::filesystem::path err_path_;
  pid_t pid_ = -1;
  int output_fd_ = -1;  // the stdout pipe or the terminal's master side
  bool reaped_ = false;
  int status_ = 0;
  std::string output_;
  std::size_t line_start_ = 0;  // read_line: where the next line starts in output_
};

// Polls `condition` until it holds; false (and the caller fails) when `deadline` passes first.
bool eventually(const std::function<bool()>& condition, std::chrono::seconds deadline = kHangDetector);

// The last non-empty line of `text`.
std::string last_line(const std::string& text);

// Splits text into its complete lines ('\n'-terminated); an unterminated tail is dropped.
std::vector<std::string> complete_lines(const std::string& text);

}  // namespace shmq::test
