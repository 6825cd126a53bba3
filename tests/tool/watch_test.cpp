// `shmq watch` off a terminal: one line per interval; exits on --count, SIGINT, or a removed or
// truncated file.
// Synchronisation is by the tool's output (a line read from the pipe), never by sleeping.
#include <csignal>

#include <unistd.h>

#include "tool_fixture.hpp"

namespace shmq::test {
namespace {

using ToolWatch = ToolTest;

TEST_F(ToolWatch, OneLinePerIntervalWithCount) {
  create();
  Producer producer = Producer::open(path());
  send(producer, {"a", "b", "c"});
  Consumer consumer = Consumer::open(path());
  consume(consumer, 1);
  const ToolRun run = run_tool({"watch", path(), "--interval", "10", "--count", "3"});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  const std::vector<std::string> out = lines(run.out);
  ASSERT_EQ(out.size(), 3u) << run.out;
  for (const std::string& l : out) {
    EXPECT_NE(l.find(" published=3 consumed=1 depth_messages=2 depth_bytes=48 "), std::string::npos) << l;
    EXPECT_NE(l.find(" durable=n/a producer=attached consumer=attached"), std::string::npos) << l;
  }
  EXPECT_EQ(out[0].find("in_msgs_per_s="), std::string::npos) << out[0];  // no rate before a second sample
  EXPECT_NE(out[1].find(" in_msgs_per_s=0 in_bytes_per_s=0 out_msgs_per_s=0 out_bytes_per_s=0"), std::string::npos)
      << out[1];
  EXPECT_NE(out[0].find(" lag_min_s=0.000 lag_max_s=?"), std::string::npos) << out[0];  // waiting since before watch
}

TEST_F(ToolWatch, SigintEndsItCleanly) {
  create();
  ToolProcess watch({"watch", path(), "--interval", "600000"});
  std::string first;
  ASSERT_TRUE(watch.read_line(first));  // it is running and has blocked SIGINT for its wait
  EXPECT_NE(first.find("published=0"), std::string::npos) << first;
  watch.send_signal(SIGINT);
  const ToolRun run = watch.finish();
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_EQ(run.signal, 0);
}

TEST_F(ToolWatch, StopsWhenTheFileIsRemoved) {
  create();
  ToolProcess watch({"watch", path(), "--interval", "10"});
  std::string first;
  ASSERT_TRUE(watch.read_line(first));
  std::filesystem::remove(path());
  const ToolRun run = watch.finish();
  EXPECT_EQ(run.exit_code, 2) << describe(run);
  EXPECT_NE(run.err.find(path() + ": the queue file was removed or replaced"), std::string::npos) << run.err;
}

// Truncated in place (same inode, so not "replaced"), the file no longer backs the watcher's
// mapping: its next read of the header raises SIGBUS, which the tool's guard turns into a message
// naming the file and exit code 2 instead of a crash.
TEST_F(ToolWatch, FileTruncatedUnderItIsAnErrorNotACrash) {
  create();
  ToolProcess watch({"watch", path(), "--interval", "10"});
  std::string first;
  ASSERT_TRUE(watch.read_line(first));  // the file is mapped and has been read once
  ASSERT_EQ(::truncate(path().c_str(), 0), 0);
  const ToolRun run = watch.finish();
  EXPECT_EQ(run.signal, 0) << describe(run);
  EXPECT_EQ(run.exit_code, 2) << describe(run);
  EXPECT_NE(run.err.find(path() + ": the file shrank while it was being read (SIGBUS)"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace shmq::test
