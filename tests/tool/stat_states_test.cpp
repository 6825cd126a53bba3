// `shmq stat` on the states a queue passes through besides "flowing": a producer parked on a full
// queue, a peer killed without detaching, impossible positions, a queue last used in another boot;
// and the depth line and the snapshot time. Peers that must block run in a child process; the test
// polls stat until it sees the state (a generous deadline guards against a hang, it is no timing
// assertion).
#include <chrono>

#include <unistd.h>

#include "support/child_process.hpp"
#include "tool_fixture.hpp"

namespace shmq::test {
namespace {

constexpr auto kHangGuard = std::chrono::seconds(60);

class ToolStatStates : public ToolTest {
 protected:
  // Runs `stat --json` until `role`.waiting is true; the last object.
  nlohmann::json stat_until_waiting(const char* role) const {
    const auto deadline = std::chrono::steady_clock::now() + kHangGuard;
    for (;;) {
      nlohmann::json j = stat_json();
      if (j[role]["waiting"] == true || std::chrono::steady_clock::now() > deadline) return j;
    }
  }
};

// Reads the byte a child writes once it is attached; false if it died first.
bool wait_for_child(int fd) {
  char byte = 0;
  return ::read(fd, &byte, 1) == 1;
}

TEST_F(ToolStatStates, ProducerParkedOnAFullQueueIsWaiting) {
  create(4096);
  Consumer consumer = Consumer::open(path());  // attached, consuming nothing: send() waits instead of failing
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  ChildProcess child([&] {
    Producer producer = Producer::open(path());
    const std::string payload(100, 'p');
    while (producer.try_send(payload).ok()) {
    }
    const char byte = 1;
    if (::write(ready[1], &byte, 1) != 1) return 1;
    return producer.send(payload).ok() ? 0 : 2;  // parks: the ring is full
  });
  ::close(ready[1]);
  ASSERT_TRUE(wait_for_child(ready[0]));
  ::close(ready[0]);

  const nlohmann::json j = stat_until_waiting("producer");
  EXPECT_EQ(j["producer"]["waiting"], true) << j.dump(2);
  EXPECT_EQ(j["producer"]["attached"], true);
  EXPECT_EQ(j["producer"]["pid"], child.pid());
  EXPECT_EQ(j["consumer"]["waiting"], false);
  const ProgramRun text = run_tool({"stat", path()});
  EXPECT_EQ(text.exit_code, 0) << describe(text);
  EXPECT_NE(text.out.find("producer   attached, pid " + std::to_string(child.pid()) +
                          " (recorded in the file: informative only), 1 attach, waiting for space (parked on its "
                          "futex)"),
            std::string::npos)
      << text.out;
  child.kill_hard();
}

// A consumer parked on an empty queue is killed: the kernel dropped its lock, the file still says
// attached and waiting.
TEST_F(ToolStatStates, KilledPeerIsNotAttachedWhileTheFileSaysAttached) {
  create();
  Producer producer = Producer::open(path());  // attached: receive() waits instead of returning peer_gone
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  ChildProcess child([&] {
    Consumer consumer = Consumer::open(path());
    const char byte = 1;
    if (::write(ready[1], &byte, 1) != 1) return 1;
    return consumer.receive().ok() ? 0 : 2;  // parks: the ring is empty
  });
  ::close(ready[1]);
  ASSERT_TRUE(wait_for_child(ready[0]));
  ::close(ready[0]);
  ASSERT_EQ(stat_until_waiting("consumer")["consumer"]["waiting"], true);
  const pid_t pid = child.pid();
  child.kill_hard();

  const nlohmann::json j = stat_json();
  EXPECT_EQ(j["consumer"]["attached"], false) << j.dump(2);
  EXPECT_EQ(j["consumer"]["attached_flag"], true);
  EXPECT_EQ(j["consumer"]["pid"], pid);
  EXPECT_EQ(j["consumer"]["attach_count"], 1);
  EXPECT_EQ(j["consumer"]["waiting"], true);
  EXPECT_EQ(j["producer"]["attached"], true);
  const ProgramRun text = run_tool({"stat", path()});
  EXPECT_EQ(text.exit_code, 0) << describe(text);
  EXPECT_NE(text.out.find("consumer   not attached (died without detaching: last pid " + std::to_string(pid) +
                          "), 1 attach, stale waiter flag (it died while parked)"),
            std::string::npos)
      << text.out;
}

TEST_F(ToolStatStates, ImpossiblePositionsAreAProblemAndExitOne) {
  create();
  overwrite(offsetof(layout::Header, producer), le64(3 * 64 * 1024 + 8));
  const std::string problem =
      "positions in the header (producer line at file offset 128, consumer line at file offset 256): impossible "
      "positions: read 0, write 196616, capacity 65536";
  const ProgramRun json = run_tool({"stat", "--json", path()});
  EXPECT_EQ(json.exit_code, 1) << describe(json);
  const nlohmann::json j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["problem"], problem);
  EXPECT_TRUE(j["depth"]["messages"].is_null());
  EXPECT_EQ(j["depth"]["note"], "not counted: the live region is damaged");
  EXPECT_NE(json.err.find(path() + ": damaged: " + problem), std::string::npos) << json.err;

  const ProgramRun text = run_tool({"stat", path()});
  EXPECT_EQ(text.exit_code, 1) << describe(text);
  EXPECT_NE(text.out.find("\nproblem    " + problem + "\n"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("depth      ? messages"), std::string::npos) << text.out;
}

// The boot id in the file is not this boot's: the next read-write open recovers the queue first.
TEST_F(ToolStatStates, LastUsedInAnotherBootIsRecoveryPending) {
  create();
  EXPECT_EQ(stat_json()["recovery_pending"], false);
  overwrite(offsetof(layout::Header, boot) + offsetof(layout::BootLine, boot_id), std::string(16, '\x5a'));
  EXPECT_EQ(stat_json()["recovery_pending"], true);
  const ProgramRun text = run_tool({"stat", path()});
  EXPECT_EQ(text.exit_code, 0) << describe(text);
  EXPECT_NE(text.out.find("\nrecovery   pending: last used in another boot of the machine"), std::string::npos)
      << text.out;
}

TEST_F(ToolStatStates, SnapshotTimeIsWhenStatRan) {
  create();
  const auto unix_ns = [] {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
  };
  const std::uint64_t before = unix_ns();
  const nlohmann::json j = stat_json();
  const std::uint64_t after = unix_ns();
  EXPECT_GE(j["snapshot_unix_ns"].get<std::uint64_t>(), before);
  EXPECT_LE(j["snapshot_unix_ns"].get<std::uint64_t>(), after);
}

// Three records of 1016 bytes in a 4 KiB ring: 3048 bytes, 74.4 %, 15 of the 20 marks.
TEST_F(ToolStatStates, TextDepthInBytesAndFillBar) {
  create(4096);
  Producer producer = Producer::open(path());
  const std::string payload(1000, 'd');
  send(producer, {payload, payload, payload});
  ASSERT_EQ(record_size(1000), 1016u);
  const ProgramRun run = run_tool({"stat", path()});
  EXPECT_EQ(run.exit_code, 0) << describe(run);
  EXPECT_NE(run.out.find("\ndepth      3 messages, 3.0 KiB (3048 bytes)  [###############.....] 74.4%\n"),
            std::string::npos)
      << run.out;
}

}  // namespace
}  // namespace shmq::test
