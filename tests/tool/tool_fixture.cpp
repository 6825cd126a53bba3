#include "tool_fixture.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace shmq::test {

std::vector<std::string> tool_command(const std::vector<std::string>& args) {
  std::vector<std::string> argv{SHMQ_TOOL_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

ProgramRun run_tool(const std::vector<std::string>& args) { return ChildProcess(tool_command(args)).finish(); }

ProgramRun run_tool_on_terminal(const std::vector<std::string>& args, unsigned short columns, unsigned short rows) {
  return ChildProcess(tool_command(args), ProgramIo::terminal(columns, rows)).finish();
}

void ToolTest::overwrite(std::uint64_t offset, const std::string& bytes) const {
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << path_;
  EXPECT_EQ(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)), static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

}  // namespace shmq::test
