// `shmq verify`: clean queues pass; damage injected at a known offset is found and named.
#include <fstream>

#include "tool_fixture.hpp"

namespace shmq::test {
namespace {

using ToolVerify = ToolTest;

TEST_F(ToolVerify, CleanQueue) {
  create(64 * 1024, /*checksums=*/true);
  Producer producer = Producer::open(path());
  send(producer, {"one", "two", "three"});
  const ProgramRun run = run_tool({"verify", path()});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find(path() + ": clean"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("3 messages, sequences 0 to 2, checksums verified"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("checkpoints  n/a"), std::string::npos) << run.out;
}

// Without checksums only the record headers can be checked: the records line says so.
TEST_F(ToolVerify, CleanQueueWithoutChecksumsSaysPayloadsAreNotChecked) {
  create();
  Producer producer = Producer::open(path());
  send(producer, {"one", "two", "three"});
  const ProgramRun run = run_tool({"verify", path()});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find("  header       ok: format 2, capacity 64 KiB, checksums off\n"), std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("  records      ok: 3 messages, sequences 0 to 2; payloads not checked: queue has no "
                         "checksums\n"),
            std::string::npos)
      << run.out;
}

TEST_F(ToolVerify, EmptyQueueIsClean) {
  create();
  const ProgramRun run = run_tool({"verify", path()});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find("none live"), std::string::npos) << run.out;
}

// One payload byte of the second record changed: its checksum no longer matches.
TEST_F(ToolVerify, FindsAChecksumMismatchAtItsOffset) {
  create(64 * 1024, /*checksums=*/true);
  {
    Producer producer = Producer::open(path());
    send(producer, {"one", "two", "three"});
  }
  const std::uint64_t position = record_size(3);                     // the second record
  const std::uint64_t record_offset = kHeader + position;            // its header in the file
  overwrite(record_offset + sizeof(layout::RecordHeader) + 1, "X");  // "two" -> "tXo"

  const ProgramRun run = run_tool({"verify", path()});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.out.find(path() + ": damaged: record at ring position " + std::to_string(position) + " (file offset " +
                         std::to_string(record_offset) + "), sequence 1 due: checksum mismatch"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("1 message before it intact"), std::string::npos) << run.out;
}

// Without checksums, a broken sequence number is still caught by the chain of sequences.
TEST_F(ToolVerify, FindsAWrongSequenceNumber) {
  create();
  {
    Producer producer = Producer::open(path());
    send(producer, {"one", "two", "three"});
  }
  const std::uint64_t position = record_size(3) + record_size(3);  // the third record
  overwrite(kHeader + position + offsetof(layout::RecordHeader, commit), le64(layout::kCommitted | 99));
  const ProgramRun run = run_tool({"verify", path()});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.out.find("file offset " + std::to_string(kHeader + position)), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("sequence 99 where 2 was due"), std::string::npos) << run.out;
}

TEST_F(ToolVerify, FindsALengthRunningPastTheWritePosition) {
  create();
  {
    Producer producer = Producer::open(path());
    send(producer, {"one", "two"});
  }
  overwrite(kHeader + 0, std::string("\x00\x10\x00\x00", 4));  // first record: length 4096
  const ProgramRun run = run_tool({"verify", path()});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.out.find("record at ring position 0 (file offset 16384)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("runs past the write position"), std::string::npos) << run.out;
}

TEST_F(ToolVerify, FindsImpossiblePositions) {
  create();
  overwrite(offsetof(layout::Header, producer), le64(3 * 64 * 1024));  // write three rings ahead of read
  const ProgramRun run = run_tool({"verify", path()});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.out.find("positions in the header (producer line at file offset 128"), std::string::npos) << run.out;
}

TEST_F(ToolVerify, FindsAWrongConsumerSequenceWord) {
  create();
  {
    Producer producer = Producer::open(path());
    send(producer, {"one"});
  }
  overwrite(offsetof(layout::Header, consumer) + offsetof(layout::RoleLine, sequence), le64(7));
  const ProgramRun run = run_tool({"verify", path()});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.out.find("consumer line (file offset 264): its sequence word says 7"), std::string::npos) << run.out;
}

// A consumer killed between the two stores of release() (sequence word, then position) leaves the
// word ahead of the position. The library accepts that state, and so must verify.
TEST_F(ToolVerify, ConsumerKilledInsideReleaseLeavesAHealthyQueue) {
  create();
  {
    Producer producer = Producer::open(path());
    send(producer, {"one", "two", "three"});
  }
  overwrite(offsetof(layout::Header, consumer) + offsetof(layout::RoleLine, sequence), le64(2));
  const ProgramRun run = run_tool({"verify", path()});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  Consumer consumer = Consumer::open(path());  // and the library agrees: it resumes at the position
  Result<Message> m = consumer.try_receive();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->sequence, 0u);
}

TEST_F(ToolVerify, DamagedHeaderIsExitOne) {
  create();
  overwrite(offsetof(layout::Identity, created_unix_ns), le64(12345));  // breaks the identity checksum
  const ProgramRun run = run_tool({"verify", path()});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.out.find(path() + ": damaged: header (file offsets 0-127): header checksum mismatch"),
            std::string::npos)
      << run.out;
}

TEST_F(ToolVerify, TruncatedIsExitOne) {
  create();
  std::filesystem::resize_file(path(), kHeader + 4096);
  const ProgramRun run = run_tool({"verify", path()});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.out.find("truncated"), std::string::npos) << run.out;
}

TEST_F(ToolVerify, NotAQueueIsExitTwo) {
  {
    std::ofstream f(path());
    f << std::string(20000, 'q');
  }
  const ProgramRun run = run_tool({"verify", path()});
  EXPECT_EQ(run.exit_code, 2) << describe(run);
  EXPECT_NE(run.err.find(path() + ": not a shmq queue file"), std::string::npos) << run.err;
}

// Across the end of the ring, with padding records, and across the wrap of the 64-bit positions.
TEST_F(ToolVerify, CleanAcrossTheWrap) {
  create(4096, /*checksums=*/true, /*initial_position=*/std::uint64_t{0} - 4096 + 8);
  Producer producer = Producer::open(path());
  Consumer consumer = Consumer::open(path());
  const std::string payload(900, 'p');
  for (int round = 0; round < 4; ++round) {
    send(producer, {payload, payload, payload});
    consume(consumer, 3);
  }
  send(producer, {payload, payload, payload});
  const ProgramRun run = run_tool({"verify", path()});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find("3 messages, sequences 12 to 14, checksums verified"), std::string::npos) << run.out;
}

class ToolVerifyDurable : public ToolTest {
 protected:
  void SetUp() override {
    CreateOptions options;
    options.capacity = 64 * 1024;
    options.durable = true;
    options.checkpoints.interval = std::chrono::milliseconds(0);
    create_queue(path(), options);
    Producer producer = Producer::open(path());
    send(producer, {"one", "two"});
    producer.sync();  // checkpoint 2, in slot 0 (checkpoint 1, from create, is in slot 1)
  }
};

TEST_F(ToolVerifyDurable, CleanWithBothSlots) {
  const ProgramRun run = run_tool({"verify", path()});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find("checkpoints  ok: newest 2 (durable sequence 2, position 48), slot 0 (file offset 4096): "
                         "checkpoint 2, slot 1 (file offset 8192): checkpoint 1"),
            std::string::npos)
      << run.out;
}

TEST_F(ToolVerifyDurable, OneTornSlotIsNotDamage) {
  overwrite(offsetof(layout::Header, slot0) + offsetof(layout::Checkpoint, unix_ns), le64(1));
  const ProgramRun run = run_tool({"verify", path()});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find("ok: newest 1"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("slot 0 (file offset 4096): invalid (torn or overwritten)"), std::string::npos) << run.out;
}

TEST_F(ToolVerifyDurable, NoValidCheckpointIsDamage) {
  overwrite(offsetof(layout::Header, slot0) + offsetof(layout::Checkpoint, unix_ns), le64(1));
  overwrite(offsetof(layout::Header, slot1) + offsetof(layout::Checkpoint, unix_ns), le64(1));
  const ProgramRun run = run_tool({"verify", path()});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.out.find(path() + ": damaged: checkpoint slots: neither holds a valid checkpoint"), std::string::npos)
      << run.out;
}

}  // namespace
}  // namespace shmq::test
