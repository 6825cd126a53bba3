// `shmq remove`: refuses while a peer is attached, removes exactly the queue file otherwise.
#include <fstream>

#include "tool_fixture.hpp"

namespace shmq::test {
namespace {

using ToolRemove = ToolTest;

TEST_F(ToolRemove, RefusesWhileAConsumerIsAttachedThenRemoves) {
  create();
  {
    Consumer consumer = Consumer::open(path());
    const ProgramRun run = run_tool({"remove", path()});
    EXPECT_EQ(run.exit_code, 1) << describe(run);
    EXPECT_NE(run.err.find(path() + ": not removed: the consumer is attached (pid " + std::to_string(::getpid())),
              std::string::npos)
        << run.err;
    EXPECT_TRUE(std::filesystem::exists(path()));
    Result<Message> m = consumer.try_receive();  // the consumer still works
    EXPECT_EQ(m.status(), Status::would_block);
  }
  const ProgramRun run = run_tool({"remove", path()});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_EQ(run.out, "removed " + path() + "\n");
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(path())));
}

TEST_F(ToolRemove, RefusesWhileAProducerIsAttached) {
  create();
  Producer producer = Producer::open(path());
  const ProgramRun run = run_tool({"remove", path()});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.err.find("the producer is attached"), std::string::npos) << run.err;
  EXPECT_TRUE(std::filesystem::exists(path()));
}

TEST_F(ToolRemove, ForceRemovesWhileAttached) {
  create();
  Producer producer = Producer::open(path());
  const ProgramRun run = run_tool({"remove", "--force", path()});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.err.find("removing it anyway"), std::string::npos) << run.err;
  EXPECT_FALSE(std::filesystem::exists(path()));
  EXPECT_TRUE(producer.try_send("still mapped").ok());  // the producer keeps its (now unnamed) file
}

TEST_F(ToolRemove, NeverFollowsASymlink) {
  create();
  const std::string link = path() + ".link";
  std::filesystem::create_symlink(path(), link);
  const ProgramRun run = run_tool({"remove", link});
  EXPECT_EQ(run.exit_code, 2) << describe(run);
  EXPECT_NE(run.err.find(link + ": is a symbolic link"), std::string::npos) << run.err;
  EXPECT_TRUE(std::filesystem::exists(path()));
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  std::filesystem::remove(link);
}

TEST_F(ToolRemove, NeverRemovesAFileThatIsNotAQueue) {
  {
    std::ofstream f(path());
    f << std::string(20000, 'n');
  }
  const ProgramRun run = run_tool({"remove", "--force", path()});
  EXPECT_EQ(run.exit_code, 2) << describe(run);
  EXPECT_NE(run.err.find(path() + ": not a shmq queue file"), std::string::npos) << run.err;
  EXPECT_TRUE(std::filesystem::exists(path()));
}

TEST_F(ToolRemove, DamagedQueueOnlyWithForce) {
  create();
  std::filesystem::resize_file(path(), kHeader);
  ProgramRun run = run_tool({"remove", path()});
  EXPECT_EQ(run.exit_code, 1) << describe(run);
  EXPECT_NE(run.err.find(path() + ": not removed: damaged or incompatible queue file"), std::string::npos) << run.err;
  EXPECT_TRUE(std::filesystem::exists(path()));
  run = run_tool({"remove", "--force", path()});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_FALSE(std::filesystem::exists(path()));
}

}  // namespace
}  // namespace shmq::test
