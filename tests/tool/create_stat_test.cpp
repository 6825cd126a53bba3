// `shmq create` and `shmq stat` on known queues.
#include <sys/stat.h>
#include <unistd.h>

#include "tool_fixture.hpp"

namespace shmq::test {
namespace {

using ToolCreate = ToolTest;
using ToolStat = ToolTest;

TEST_F(ToolCreate, CreatesWithSizeModeAndChecksums) {
  const ProgramRun run = run_tool({"create", path(), "--capacity", "64KiB", "--mode", "0640", "--checksums"});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find("created " + path()), std::string::npos) << run.out;
  struct stat st {};
  ASSERT_EQ(::stat(path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), kHeader + 64 * 1024);
  const nlohmann::json j = stat_json();
  EXPECT_EQ(j["capacity"], 64 * 1024);
  EXPECT_EQ(j["flags"]["checksums"], true);
}

TEST_F(ToolCreate, AcceptsBinaryUnits) {
  const ProgramRun run = run_tool({"create", path(), "--capacity", "16MiB"});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_EQ(stat_json()["capacity"], std::uint64_t{16} << 20);
  EXPECT_EQ(stat_json()["flags"]["checksums"], false);
}

TEST_F(ToolCreate, RefusesAnExistingPath) {
  create();
  const std::vector<char> before = read_file(path());
  const ProgramRun run = run_tool({"create", path(), "--capacity", "4KiB"});
  EXPECT_EQ(run.exit_code, 2) << describe(run);
  EXPECT_NE(run.err.find(path()), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("already exists"), std::string::npos) << run.err;
  EXPECT_EQ(read_file(path()), before);
}

TEST_F(ToolCreate, RefusesBadCapacityAndMode) {
  ProgramRun run = run_tool({"create", path(), "--capacity", "5000"});  // not a power of two
  EXPECT_EQ(run.exit_code, 2) << describe(run);
  EXPECT_NE(run.err.find(path()), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("power of two"), std::string::npos) << run.err;

  run = run_tool({"create", path(), "--capacity", "64XiB"});
  EXPECT_EQ(run.exit_code, 64) << describe(run);
  EXPECT_NE(run.err.find("--capacity"), std::string::npos) << run.err;

  run = run_tool({"create", path(), "--capacity", "64KiB", "--mode", "0986"});
  EXPECT_EQ(run.exit_code, 64) << describe(run);
  EXPECT_NE(run.err.find("0986"), std::string::npos) << run.err;
  EXPECT_FALSE(std::filesystem::exists(path()));
}

TEST_F(ToolCreate, DurableWithItsCheckpointPolicy) {
  const ProgramRun run = run_tool({"create", path(), "--capacity", "64KiB", "--durable", "--checkpoint-bytes", "16KiB",
                                   "--checkpoint-interval", "250"});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find("checksums on, durable"), std::string::npos) << run.out;
  const nlohmann::json j = stat_json();
  EXPECT_EQ(j["flags"]["durable"], true);
  EXPECT_EQ(j["flags"]["checksums"], true);  // on by default for durable queues
  EXPECT_EQ(j["durable"]["policy"]["bytes"], 16 * 1024);
  EXPECT_EQ(j["durable"]["policy"]["interval_ms"], 250);
  EXPECT_EQ(j["durable"]["checkpoint"]["counter"], 1);  // written at create: the empty queue
  EXPECT_EQ(j["sequences"]["durable"], 0);
}

TEST_F(ToolCreate, CheckpointOptionsNeedDurable) {
  const ProgramRun run = run_tool({"create", path(), "--capacity", "64KiB", "--checkpoint-bytes", "1MiB"});
  EXPECT_EQ(run.exit_code, 64) << describe(run);
  EXPECT_FALSE(std::filesystem::exists(path()));
}

// Three messages published, one consumed: every field of `stat --json`.
TEST_F(ToolStat, JsonFieldByField) {
  create(64 * 1024, /*checksums=*/true);
  Producer producer = Producer::open(path());
  send(producer, {"alpha", "beta", "gamma"});
  Consumer consumer = Consumer::open(path());
  consume(consumer, 1);
  const std::uint64_t read = record_size(5);
  const std::uint64_t write = read + record_size(4) + record_size(5);

  const nlohmann::json j = stat_json();
  EXPECT_EQ(j["path"], path());
  EXPECT_EQ(j["format_version"], 2);
  EXPECT_EQ(j["layout_id"], layout::kLayoutId);
  EXPECT_EQ(j["header_size"], kHeader);
  EXPECT_EQ(j["capacity"], 64 * 1024);
  EXPECT_EQ(j["file_size"], kHeader + 64 * 1024);
  EXPECT_EQ(j["flags"]["checksums"], true);
  EXPECT_EQ(j["initial_position"], 0);
  EXPECT_GT(j["created_unix_ns"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(j["instance_id"].get<std::string>().size(), 16u);
  EXPECT_EQ(j["positions"]["read"], read);
  EXPECT_EQ(j["positions"]["write"], write);
  EXPECT_EQ(j["sequences"]["consumed"], 1);
  EXPECT_EQ(j["sequences"]["published"], 3);
  EXPECT_EQ(j["depth"]["messages"], 2);
  EXPECT_EQ(j["depth"]["bytes"], write - read);
  EXPECT_DOUBLE_EQ(j["depth"]["fill"].get<double>(), static_cast<double>(write - read) / (64 * 1024));
  EXPECT_EQ(j["depth"]["note"], "");
  EXPECT_EQ(j["flags"]["durable"], false);
  EXPECT_TRUE(j["sequences"]["durable"].is_null());
  EXPECT_TRUE(j["durable"].is_null());
  EXPECT_EQ(j["recovery_pending"], false);
  EXPECT_TRUE(j["problem"].is_null());
  for (const char* role : {"producer", "consumer"}) {
    SCOPED_TRACE(role);
    const nlohmann::json& r = j[role];
    EXPECT_EQ(r["attached"], true);
    EXPECT_EQ(r["attached_flag"], true);
    EXPECT_EQ(r["pid"], ::getpid());
    EXPECT_EQ(r["attach_count"], 1);
    EXPECT_EQ(r["waiting"], false);
  }
  EXPECT_EQ(j["producer"]["position"], write);
  EXPECT_EQ(j["producer"]["sequence"], 3);
  EXPECT_EQ(j["consumer"]["position"], read);
  EXPECT_EQ(j["consumer"]["sequence"], 1);
}

TEST_F(ToolStat, JsonAfterPeersDetach) {
  create();
  {
    Producer producer = Producer::open(path());
    send(producer, {"x"});
  }
  { Consumer consumer = Consumer::open(path()); }
  const nlohmann::json j = stat_json();
  EXPECT_EQ(j["producer"]["attached"], false);
  EXPECT_EQ(j["producer"]["attached_flag"], false);
  EXPECT_EQ(j["producer"]["attach_count"], 1);
  EXPECT_EQ(j["consumer"]["attached"], false);
  EXPECT_EQ(j["depth"]["messages"], 1);
  EXPECT_EQ(j["sequences"]["published"], 1);
}

TEST_F(ToolStat, TextNamesEveryFact) {
  create();
  Producer producer = Producer::open(path());
  send(producer, {"alpha", "beta", "gamma"});
  const ProgramRun run = run_tool({"stat", path()});
  ASSERT_EQ(run.exit_code, 0) << describe(run);
  const std::string pid = std::to_string(::getpid());
  for (const std::string& expected :
       {"queue      " + path(), std::string("format     version 2"), std::string("capacity   64 KiB (65536 bytes)"),
        std::string("flags      none"), std::string("published  3 messages"), std::string("consumed   0 messages"),
        std::string("depth      3 messages"), std::string("durable    n/a (not a durable queue)"),
        "producer   attached, pid " + pid + " (recorded in the file: informative only)",
        std::string("consumer   never attached")}) {
    EXPECT_NE(run.out.find(expected), std::string::npos) << "missing: " << expected << "\n" << run.out;
  }
}

// Sequences and depth stay right across the end of the ring (padding records included).
TEST_F(ToolStat, DepthAcrossTheWrap) {
  create(4096);
  Producer producer = Producer::open(path());
  Consumer consumer = Consumer::open(path());
  const std::string payload(1000, 'w');
  for (int round = 0; round < 5; ++round) {
    send(producer, {payload, payload});
    consume(consumer, 2);
  }
  send(producer, {payload, payload, payload});  // straddles the end: a padding record
  const nlohmann::json j = stat_json();
  EXPECT_EQ(j["sequences"]["consumed"], 10);
  EXPECT_EQ(j["sequences"]["published"], 13);
  EXPECT_EQ(j["depth"]["messages"], 3);
}

// A durable queue: the checkpoint the producer's sync() took is the durable watermark.
TEST_F(ToolStat, DurableWatermarkAndCheckpoint) {
  CreateOptions options;
  options.capacity = 64 * 1024;
  options.durable = true;
  options.checkpoints.interval = std::chrono::milliseconds(0);  // explicit sync() only: nothing moves behind our back
  create_queue(path(), options);
  Producer producer = Producer::open(path());
  send(producer, {"one", "two"});
  producer.sync();
  send(producer, {"three"});
  const nlohmann::json j = stat_json();
  EXPECT_EQ(j["sequences"]["published"], 3);
  EXPECT_EQ(j["sequences"]["durable"], 2);
  const nlohmann::json& c = j["durable"]["checkpoint"];
  EXPECT_EQ(c["counter"], 2);
  EXPECT_EQ(c["sequence"], 2);
  EXPECT_EQ(c["position"], 2 * record_size(3));
  EXPECT_EQ(c["read_position"], 0);
  EXPECT_GE(c["age_s"].get<double>(), 0.0);

  const ProgramRun text = run_tool({"stat", path()});
  EXPECT_NE(text.out.find("durable    sequence 2 (position 48), checkpoint 2 at "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("policy     checkpoint only when the producer calls sync()"), std::string::npos) << text.out;
  const ProgramRun watch = run_tool({"watch", path(), "--count", "1"});
  EXPECT_NE(watch.out.find(" durable=2 durable_lag_messages=1 checkpoint_age_s="), std::string::npos) << watch.out;
}

// Another user's queue: refused unless --any-owner (the test runs as root, which may chown).
TEST_F(ToolStat, AnotherUsersQueueNeedsAnyOwner) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give the file to another uid";
  create();
  ASSERT_EQ(::chown(path().c_str(), 65534, 65534), 0);
  ProgramRun run = run_tool({"stat", path()});
  EXPECT_EQ(run.exit_code, 2) << describe(run);
  EXPECT_NE(run.err.find(path() + ": owned by uid 65534"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("use --any-owner"), std::string::npos) << run.err;
  run = run_tool({"stat", "--any-owner", path()});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  run = run_tool({"remove", path()});
  EXPECT_EQ(run.exit_code, 2) << describe(run);
  EXPECT_TRUE(std::filesystem::exists(path()));
  run = run_tool({"remove", "--any-owner", path()});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
}

}  // namespace
}  // namespace shmq::test
