#include "tool_terminal.hpp"

#include "support/terminal_program.hpp"

namespace shmq::test {

ToolRun run_tool_on_terminal(const std::vector<std::string>& args, unsigned short columns, unsigned short rows) {
  std::vector<std::string> argv{SHMQ_TOOL_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  TerminalProgram tool(argv, columns, rows);
  ToolRun run;
  run.exit_code = tool.finish();
  run.signal = tool.signal();
  run.out = tool.output();
  return run;
}

}  // namespace shmq::test
