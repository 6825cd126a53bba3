// Runs the real `shmq` binary on a pseudo-terminal of a given size, for tests of what it draws
// when stdout is a terminal.
#pragma once

#include <string>
#include <vector>

#include "tool_process.hpp"

namespace shmq::test {

// Runs the tool to completion with stdin, stdout and stderr on the slave side of a new
// pseudo-terminal of `columns` x `rows`. `out` holds everything read from the master side: stdout
// and stderr together, with the terminal's "\r\n" for each newline.
ToolRun run_tool_on_terminal(const std::vector<std::string>& args, unsigned short columns, unsigned short rows);

}  // namespace shmq::test
