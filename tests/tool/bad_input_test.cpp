// Every subcommand, on every kind of bad input: a message naming the file and a non-zero exit,
// never a crash. And the read-only subcommands leave a queue file byte for byte unchanged.
#include <fstream>

#include "tool_fixture.hpp"

namespace shmq::test {
namespace {

enum class Input { missing, not_a_queue, empty, too_short, truncated, bad_magic, symlink, directory };

const char* name(Input input) {
  switch (input) {
    case Input::missing:
      return "missing";
    case Input::not_a_queue:
      return "not_a_queue";
    case Input::empty:
      return "empty";
    case Input::too_short:
      return "too_short";
    case Input::truncated:
      return "truncated";
    case Input::bad_magic:
      return "bad_magic";
    case Input::symlink:
      return "symlink";
    case Input::directory:
      return "directory";
  }
  return "?";
}

const std::vector<std::vector<std::string>> kCommands = {
    {"stat"}, {"stat", "--json"}, {"watch", "--count", "1"}, {"verify"}, {"dump"}, {"dump", "--json"}, {"remove"}};

class ToolBadInput : public ToolTest, public ::testing::WithParamInterface<Input> {
 protected:
  // Puts the bad input at path() and returns the path the commands get.
  std::string prepare() {
    switch (GetParam()) {
      case Input::missing:
        break;
      case Input::not_a_queue:
        std::ofstream(path()) << std::string(20000, 'x');
        break;
      case Input::empty:
        std::ofstream{path()};
        break;
      case Input::too_short:
        std::ofstream(path()) << "shmq";
        break;
      case Input::truncated:
        create();
        std::filesystem::resize_file(path(), kHeader + 100);
        break;
      case Input::bad_magic:
        create();
        overwrite(0, "NOTSHMQ!");
        break;
      case Input::symlink:
        create();
        link_ = path() + ".link";
        std::filesystem::create_symlink(path(), link_);
        return link_;
      case Input::directory:
        std::filesystem::create_directory(path());
        break;
    }
    return path();
  }
  ~ToolBadInput() override {
    if (!link_.empty()) std::filesystem::remove(link_);
    if (GetParam() == Input::directory) std::filesystem::remove(path());
  }

 private:
  std::string link_;
};

TEST_P(ToolBadInput, EveryCommandNamesTheFileAndFails) {
  const std::string target = prepare();
  for (std::vector<std::string> args : kCommands) {
    args.push_back(target);
    const ProgramRun run = run_tool(args);
    SCOPED_TRACE(args.front() + " " + args[1]);
    EXPECT_EQ(run.signal, 0) << describe(run);
    EXPECT_NE(run.exit_code, 0) << describe(run);
    EXPECT_NE(run.exit_code, 64) << describe(run);  // not mistaken for a usage error
    // verify reports damage as its finding, on stdout; everything else goes to stderr
    EXPECT_NE((run.out + run.err).find(target + ": "), std::string::npos) << describe(run);
    EXPECT_EQ(run.err.find("terminate called"), std::string::npos) << describe(run);
  }
  if (GetParam() == Input::symlink) {
    EXPECT_TRUE(std::filesystem::exists(path()));  // the target survives
  }
}

INSTANTIATE_TEST_SUITE_P(Inputs, ToolBadInput,
                         ::testing::Values(Input::missing, Input::not_a_queue, Input::empty, Input::too_short,
                                           Input::truncated, Input::bad_magic, Input::symlink, Input::directory),
                         [](const ::testing::TestParamInfo<Input>& input) { return std::string(name(input.param)); });

// Where "not a queue file" (2) ends and "a truncated queue" (1) begins: the 128-byte identity
// block at the start of the file, which records the size the file must have.
using ToolTruncated = ToolTest;

TEST_F(ToolTruncated, BelowTheIdentityBlockIsNotAQueueAboveItIsDamaged) {
  for (const auto& [size, exit_code] :
       {std::pair<std::uint64_t, int>{sizeof(layout::Identity) - 1, 2},
        std::pair<std::uint64_t, int>{sizeof(layout::Identity), 1}, std::pair<std::uint64_t, int>{kHeader, 1}}) {
    std::filesystem::remove(path());
    create();
    std::filesystem::resize_file(path(), size);
    for (std::vector<std::string> args : kCommands) {
      args.push_back(path());
      const ProgramRun run = run_tool(args);
      SCOPED_TRACE(args.front() + " on " + std::to_string(size) + " bytes");
      EXPECT_EQ(run.exit_code, exit_code) << describe(run);
      EXPECT_NE((run.out + run.err).find(path() + ": "), std::string::npos) << describe(run);
    }
  }
}

class ToolReadOnly : public ToolTest {
 protected:
  // With both peers attached and messages in flight (consumed, received-not-released, waiting).
  void expect_inspection_changes_nothing() {
    Producer producer = Producer::open(path());
    send(producer, {"one", "two", "three", "four"});
    Consumer consumer = Consumer::open(path());
    consume(consumer, 1);
    ASSERT_TRUE(consumer.try_receive().ok());  // received, not released
    const std::vector<char> before = read_file(path());
    for (const std::vector<std::string>& args :
         std::vector<std::vector<std::string>>{{"stat", path()},
                                               {"stat", "--json", path()},
                                               {"verify", path()},
                                               {"dump", path()},
                                               {"dump", "--hex", path()},
                                               {"dump", "--json", path(), "--from", "2"},
                                               {"watch", path(), "--interval", "10", "--count", "2"}}) {
      const ProgramRun run = run_tool(args);
      EXPECT_EQ(run.exit_code, 0) << args.front() << "\n" << describe(run);
      EXPECT_TRUE(read_file(path()) == before) << args.front() << " changed the file";
    }
  }
};

TEST_F(ToolReadOnly, InspectingLeavesTheFileUnchanged) {
  create(64 * 1024, /*checksums=*/true);
  expect_inspection_changes_nothing();
}

TEST_F(ToolReadOnly, InspectingADurableQueueLeavesItUnchanged) {
  CreateOptions options;
  options.durable = true;
  options.checkpoints.interval = std::chrono::milliseconds(0);  // no background checkpoints during the comparison
  create_queue(path(), options);
  expect_inspection_changes_nothing();
}

}  // namespace
}  // namespace shmq::test
