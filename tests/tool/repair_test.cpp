// `shmq repair`: keeps the valid records and never sends sequence numbers back; when nothing in
// the file tells the sequence, it refuses (untouched) and --next-sequence decides.
#include "tool_fixture.hpp"

namespace shmq::test {
namespace {

using ToolRepair = ToolTest;

TEST_F(ToolRepair, AnEmptyQueueKeepsItsSequence) {
  create();
  {
    Producer producer = Producer::open(path());
    Consumer consumer = Consumer::open(path());
    send(producer, {"one", "two", "three"});
    consume(consumer, 3);
  }
  const ProgramRun run = run_tool({"repair", path()});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find("messages 3..3 kept (0)"), std::string::npos) << run.out;
  EXPECT_EQ(Producer::open(path()).next_sequence(), 3u);
}

TEST_F(ToolRepair, RefusesWhenNothingTellsTheSequenceUntilItIsGiven) {
  create();
  {
    Producer producer = Producer::open(path());
    Consumer consumer = Consumer::open(path());
    send(producer, {"one", "two"});
    consume(consumer, 2);
  }
  const std::string impossible = le64(layout::kCommitted | 2);
  overwrite(offsetof(layout::Header, producer) + offsetof(layout::RoleLine, sequence), impossible);
  overwrite(offsetof(layout::Header, consumer) + offsetof(layout::RoleLine, sequence), impossible);
  const ProgramRun refused = run_tool({"repair", path()});
  EXPECT_EQ(refused.exit_code, 1) << describe(refused);
  EXPECT_NE(refused.err.find("nothing tells the next sequence number"), std::string::npos) << describe(refused);
  EXPECT_NE(refused.err.find("--next-sequence"), std::string::npos) << describe(refused);
  const ProgramRun told = run_tool({"repair", path(), "--next-sequence", "2"});
  EXPECT_EQ(told.exit_code, 0) << describe(told);
  EXPECT_EQ(Producer::open(path()).next_sequence(), 2u);
}

}  // namespace
}  // namespace shmq::test
