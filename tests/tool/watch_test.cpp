// `shmq watch` off a terminal: one line per interval; exits on --count, SIGINT, or a removed or
// truncated file, and with exit code 1 at the first damaged snapshot.
// Synchronisation is by the tool's output (a line read from the pipe), never by sleeping.
#include <csignal>
#include <cstddef>

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
  const ProgramRun run = run_tool({"watch", path(), "--interval", "10", "--count", "3"});
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
  ChildProcess watch(tool_command({"watch", path(), "--interval", "600000"}), ProgramIo::output_to_pipe());
  std::string first;
  ASSERT_TRUE(watch.read_line(first));  // it is running and has blocked SIGINT for its wait
  EXPECT_NE(first.find("published=0"), std::string::npos) << first;
  watch.send_signal(SIGINT);
  const ProgramRun run = watch.finish();
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_EQ(run.signal, 0);
}

TEST_F(ToolWatch, StopsWhenTheFileIsRemoved) {
  create();
  ChildProcess watch(tool_command({"watch", path(), "--interval", "10"}), ProgramIo::output_to_pipe());
  std::string first;
  ASSERT_TRUE(watch.read_line(first));
  std::filesystem::remove(path());
  const ProgramRun run = watch.finish();
  EXPECT_EQ(run.exit_code, 2) << describe(run);
  EXPECT_NE(run.err.find(path() + ": the queue file was removed or replaced"), std::string::npos) << run.err;
}

// Truncated in place (same inode, so not "replaced"), the file no longer backs the watcher's
// mapping: its next read of the header raises SIGBUS, which the tool's guard turns into a message
// naming the file and exit code 2 instead of a crash.
TEST_F(ToolWatch, FileTruncatedUnderItIsAnErrorNotACrash) {
  create();
  ChildProcess watch(tool_command({"watch", path(), "--interval", "10"}), ProgramIo::output_to_pipe());
  std::string first;
  ASSERT_TRUE(watch.read_line(first));  // the file is mapped and has been read once
  ASSERT_EQ(::truncate(path().c_str(), 0), 0);
  const ProgramRun run = watch.finish();
  EXPECT_EQ(run.signal, 0) << describe(run);
  EXPECT_EQ(run.exit_code, 2) << describe(run);
  EXPECT_NE(run.err.find(path() + ": the file shrank while it was being read (SIGBUS)"), std::string::npos) << run.err;
}

// Damage written into the file, as stat reports it: watch prints the one line with a problem=
// field, names the file on stderr and exits 1 at once (not after --count lines).
class ToolWatchDamage : public ToolTest {
 protected:
  void expect_problem(const std::string& problem) const {
    const ProgramRun run = run_tool({"watch", path(), "--interval", "10", "--count", "3"});
    EXPECT_EQ(run.exit_code, 1) << describe(run);
    const std::vector<std::string> out = lines(run.out);
    ASSERT_EQ(out.size(), 1u) << run.out;
    EXPECT_NE(out[0].find(" depth_messages=? "), std::string::npos) << out[0];
    EXPECT_NE(out[0].find(" problem=\"" + problem), std::string::npos) << out[0];
    EXPECT_NE(run.err.find(path() + ": damaged: " + problem), std::string::npos) << run.err;
  }
};

TEST_F(ToolWatchDamage, ImpossiblePositions) {
  create();
  overwrite(offsetof(layout::Header, producer), le64(3 * 64 * 1024 + 8));  // three rings and a record ahead
  overwrite(offsetof(layout::Header, producer) + offsetof(layout::RoleLine, sequence), le64(std::uint64_t{1} << 63));
  expect_problem(
      "positions in the header (producer line at file offset 128, consumer line at file offset 256): "
      "impossible positions: read 0, write 196616, capacity 65536");
}

// Positions and records intact, the producer's sequence word impossible. Not damage (stat and
// verify count from the records, and a producer recomputes its word when it attaches), but watch's
// depth comes from that word: it gives none, says why, and goes on.
TEST_F(ToolWatch, ImpossibleSequenceWordGivesNoDepth) {
  create();
  {
    Producer producer = Producer::open(path());
    send(producer, {"one", "two", "three"});
  }
  overwrite(offsetof(layout::Header, producer) + offsetof(layout::RoleLine, sequence), le64(std::uint64_t{1} << 63));
  const ProgramRun run = run_tool({"watch", path(), "--interval", "10", "--count", "2"});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_EQ(run.err, "");
  const std::vector<std::string> out = lines(run.out);
  ASSERT_EQ(out.size(), 2u) << run.out;
  for (const std::string& l : out) {
    EXPECT_NE(l.find(" depth_messages=? "), std::string::npos) << l;
    EXPECT_NE(l.find(" depth_note=\"not counted: the sequence words of the role lines say published "
                     "9223372036854775808, consumed 0, but a ring of 65536 bytes holds at most 4096 messages\""),
              std::string::npos)
        << l;
  }
  EXPECT_EQ(run_tool({"stat", path()}).exit_code, 0);  // the queue itself is sound
}

// watch checks the first live record each refresh (verify checks them all).
TEST_F(ToolWatchDamage, FirstRecordChecksumMismatch) {
  create(64 * 1024, /*checksums=*/true);
  {
    Producer producer = Producer::open(path());
    send(producer, {"one", "two"});
  }
  overwrite(kHeader + sizeof(layout::RecordHeader) + 1, "X");  // "one" -> "oXe"
  expect_problem("record at ring position 0 (file offset 16384), sequence 0 due: checksum mismatch");
}

}  // namespace
}  // namespace shmq::test
