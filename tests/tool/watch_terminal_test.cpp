// `shmq watch` on a terminal: each frame is redrawn over the previous one by moving the cursor up,
// so every line must fit in one row of the terminal, and the cursor must move up exactly the rows
// the previous frame took. Runs on a pseudo-terminal of a known size; --count ends it (no sleeps).
#include <cstddef>
#include <string>

#include "tool_fixture.hpp"

namespace shmq::test {
namespace {

// A frame as the terminal got it, and the rows the redraw before it moved up (0 for the first).
struct Frame {
  std::size_t moved_up = 0;
  std::vector<std::string> lines;
};

class ToolWatchTerminal : public ToolTest, public ::testing::WithParamInterface<unsigned short> {
 protected:
  // Splits the tool's output at each redraw ("ESC [ n F" to the frame's top, "ESC [ J" to clear).
  static std::vector<Frame> frames(std::string text);
};

std::vector<Frame> ToolWatchTerminal::frames(std::string text) {
  std::erase(text, '\r');  // the terminal's newline is "\r\n"
  std::vector<Frame> result;
  std::size_t at = 0;
  std::size_t moved_up = 0;
  for (;;) {
    const std::size_t escape = text.find("\x1b[", at);
    Frame frame;
    frame.moved_up = moved_up;
    frame.lines = lines(text.substr(at, escape == std::string::npos ? std::string::npos : escape - at));
    result.push_back(frame);
    if (escape == std::string::npos) return result;
    const std::size_t f = text.find('F', escape);
    EXPECT_NE(f, std::string::npos) << "unexpected escape sequence";
    if (f == std::string::npos) return result;
    moved_up = std::stoul(text.substr(escape + 2, f - escape - 2));
    EXPECT_EQ(text.compare(f + 1, 3, "\x1b[J"), 0) << "the redraw does not clear below the cursor";
    at = f + 4;
  }
}

TEST_P(ToolWatchTerminal, EveryLineFitsAndTheRedrawMovesUpTheRowsDrawn) {
  const std::size_t columns = GetParam();
  CreateOptions options;  // durable: its "durable" line is longer than 80 columns
  options.capacity = 64 * 1024;
  options.durable = true;
  options.checkpoints.interval = std::chrono::milliseconds(0);
  create_queue(path(), options);
  ASSERT_GT(("shmq watch " + path()).size(), 40u);  // the header line is longer than the terminal too

  const ProgramRun run = run_tool_on_terminal({"watch", path(), "--interval", "10", "--count", "3"},
                                              static_cast<unsigned short>(columns), 24);
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  const std::vector<Frame> drawn = frames(run.out);
  ASSERT_EQ(drawn.size(), 3u) << run.out;
  std::size_t rows_before = 0;
  for (const Frame& frame : drawn) {
    EXPECT_EQ(frame.moved_up, rows_before);
    ASSERT_EQ(frame.lines.size(), 7u) << run.out;
    EXPECT_EQ(frame.lines[0].rfind("shmq watch /", 0), 0u) << frame.lines[0];
    EXPECT_EQ(frame.lines[5].rfind("durable    sequence 0", 0), 0u) << frame.lines[5];
    std::size_t rows = 0;
    for (const std::string& line : frame.lines) {
      EXPECT_LE(line.size(), columns) << line;                           // ASCII here: one byte per column
      rows += line.empty() ? 1 : (line.size() + columns - 1) / columns;  // a longer line would wrap
    }
    rows_before = rows;
  }
}

INSTANTIATE_TEST_SUITE_P(Widths, ToolWatchTerminal, ::testing::Values<unsigned short>(80, 50),
                         [](const ::testing::TestParamInfo<unsigned short>& width) {
                           return std::to_string(width.param) + "_columns";
                         });

using ToolWatchTerminalDamage = ToolTest;

// On a terminal too, a damaged snapshot ends watch: the frame shows a problem line, exit code 1.
TEST_F(ToolWatchTerminalDamage, ShowsTheProblemAndExitsOne) {
  create();
  overwrite(offsetof(layout::Header, producer), le64(3 * 64 * 1024 + 8));
  const ProgramRun run = run_tool_on_terminal({"watch", path(), "--interval", "10", "--count", "3"}, 200, 24);
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.out.find("\r\nproblem    positions in the header (producer line at file offset 128"), std::string::npos)
      << run.out;
  EXPECT_EQ(run.out.find("\x1b["), std::string::npos) << run.out;  // one frame, no redraw
}

}  // namespace
}  // namespace shmq::test
