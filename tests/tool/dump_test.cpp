// `shmq dump`: the live messages in each format, without consuming them.
#include "tool_fixture.hpp"

namespace shmq::test {
namespace {

using ToolDump = ToolTest;

class ToolDumpKnown : public ToolTest {
 protected:
  void SetUp() override {
    create();
    Producer producer = Producer::open(path());
    send(producer, {"consumed", "hello", std::string("bin\x00\x01\n\\", 7), "world"});
    Consumer consumer = Consumer::open(path());
    consume(consumer, 1);
  }
};

TEST_F(ToolDumpKnown, TextEscapesWhatIsNotPrintable) {
  const ProgramRun run = run_tool({"dump", path()});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_EQ(run.out, "#1 5 bytes: hello\n#2 7 bytes: bin\\x00\\x01\\n\\\\\n#3 5 bytes: world\n");
  EXPECT_EQ(run_tool({"dump", "--text", path()}).out, run.out);
}

TEST_F(ToolDumpKnown, FromAndCount) {
  ProgramRun run = run_tool({"dump", path(), "--from", "2", "--count", "1"});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_EQ(run.out, "#2 7 bytes: bin\\x00\\x01\\n\\\\\n");
  run = run_tool({"dump", path(), "--from", "3"});
  EXPECT_EQ(run.out, "#3 5 bytes: world\n");
  run = run_tool({"dump", path(), "--from", "0", "--count", "1"});  // 0 is consumed: starts at the first live one
  EXPECT_EQ(run.out, "#1 5 bytes: hello\n");
  run = run_tool({"dump", path(), "--from", "9"});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_EQ(run.out, "");
  EXPECT_NE(run.err.find("nothing from sequence 9"), std::string::npos) << run.err;
}

TEST_F(ToolDumpKnown, Hex) {
  const ProgramRun run = run_tool({"dump", "--hex", path(), "--count", "2"});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  const std::uint64_t first = record_size(8);
  EXPECT_EQ(run.out, "#1 5 bytes at position " + std::to_string(first) +
                         "\n"
                         "  00000000  68 65 6c 6c 6f                                    |hello|\n"
                         "#2 7 bytes at position " +
                         std::to_string(first + record_size(5)) +
                         "\n"
                         "  00000000  62 69 6e 00 01 0a 5c                              |bin...\\|\n");
}

TEST_F(ToolDumpKnown, JsonLines) {
  const ProgramRun run = run_tool({"dump", "--json", path()});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  const std::vector<std::string> out = lines(run.out);
  ASSERT_EQ(out.size(), 3u) << run.out;
  const nlohmann::json a = nlohmann::json::parse(out[0]);
  EXPECT_EQ(a["sequence"], 1);
  EXPECT_EQ(a["position"], record_size(8));
  EXPECT_EQ(a["length"], 5);
  EXPECT_EQ(a["text"], "hello");
  EXPECT_FALSE(a.contains("hex"));
  const nlohmann::json b = nlohmann::json::parse(out[1]);  // valid UTF-8 (NUL and control characters are)
  EXPECT_EQ(b["text"], std::string("bin\x00\x01\n\\", 7));
  EXPECT_EQ(nlohmann::json::parse(out[2])["sequence"], 3);
}

TEST_F(ToolDump, JsonGivesHexForBytesThatAreNotUtf8) {
  create();
  Producer producer = Producer::open(path());
  send(producer, {std::string("\xff\xfe", 2)});
  const ProgramRun run = run_tool({"dump", "--json", path()});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  const nlohmann::json j = nlohmann::json::parse(run.out);
  EXPECT_EQ(j["hex"], "fffe");
  EXPECT_FALSE(j.contains("text"));
}

TEST_F(ToolDump, FormatsExcludeEachOther) {
  create();
  const ProgramRun run = run_tool({"dump", "--hex", "--json", path()});
  EXPECT_EQ(run.exit_code, 64) << describe(run);
}

TEST_F(ToolDump, ConsumesNothing) {
  create();
  Producer producer = Producer::open(path());
  send(producer, {"a", "b"});
  ASSERT_EQ(run_tool({"dump", path()}).exit_code, 0);
  Consumer consumer = Consumer::open(path());
  Result<Message> m = consumer.try_receive();
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->sequence, 0u);
  EXPECT_EQ(m->text(), "a");
}

TEST_F(ToolDump, AcrossTheWrap) {
  create(4096);
  Producer producer = Producer::open(path());
  Consumer consumer = Consumer::open(path());
  for (int i = 0; i < 9; ++i) {
    send(producer, {std::string(1000, static_cast<char>('a' + i))});
    if (i < 6) consume(consumer, 1);
  }
  const ProgramRun run = run_tool({"dump", path()});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  const std::vector<std::string> out = lines(run.out);
  ASSERT_EQ(out.size(), 3u) << run.out;
  EXPECT_EQ(out[0], "#6 1000 bytes: " + std::string(1000, 'g'));
  EXPECT_EQ(out[2], "#8 1000 bytes: " + std::string(1000, 'i'));
}

TEST_F(ToolDump, StopsAtDamageAndSaysWhere) {
  create(64 * 1024, /*checksums=*/true);
  {
    Producer producer = Producer::open(path());
    send(producer, {"one", "two"});
  }
  overwrite(kHeader + record_size(3) + sizeof(layout::RecordHeader), "T");
  const ProgramRun run = run_tool({"dump", path()});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_EQ(run.out, "#0 3 bytes: one\n");
  EXPECT_NE(run.err.find(path() + ": damaged: record at ring position " + std::to_string(record_size(3))),
            std::string::npos)
      << run.err;
}

}  // namespace
}  // namespace shmq::test
