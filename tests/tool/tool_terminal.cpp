#include "tool_terminal.hpp"

#include <cerrno>
#include <system_error>

#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

namespace shmq::test {

ToolRun run_tool_on_terminal(const std::vector<std::string>& args, unsigned short columns, unsigned short rows) {
  // Everything the child needs is made before the fork: after it, only exec.
  std::vector<std::string> argv_strings{SHMQ_TOOL_PATH};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  winsize size{};
  size.ws_col = columns;
  size.ws_row = rows;

  int master = -1;
  const pid_t pid = ::forkpty(&master, nullptr, nullptr, &size);
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "forkpty");
  if (pid == 0) {
    ::execv(SHMQ_TOOL_PATH, argv.data());
    ::_exit(127);
  }
  ToolRun run;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(master, buffer, sizeof buffer);
    if (n > 0) {
      run.out.append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;  // EIO: the tool exited and closed the slave side (0 would mean the same)
  }
  ::close(master);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "waitpid");
  }
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) run.signal = WTERMSIG(status);
  return run;
}

}  // namespace shmq::test
