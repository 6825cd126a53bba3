// The read-only subcommands (verify, stat, watch, dump) against a queue in use: a child process
// runs a producer and a consumer flat out through a small ring (so records are overwritten all the
// time) while the tool inspects it. Whatever the interleaving, the tool must never report damage,
// and what dump prints must be exactly what was sent. The outcome does not depend on timing; only
// how many races occur does.
#include <thread>

#include <unistd.h>

#include "support/child_process.hpp"
#include "tool_fixture.hpp"

namespace shmq::test {
namespace {

using ToolLivePeers = ToolTest;

std::string payload(std::uint64_t sequence) {
  std::string p = "message " + std::to_string(sequence) + " ";
  p.append(static_cast<std::size_t>(sequence % 7) * 90,
           static_cast<char>('a' + sequence % 26));  // varied sizes: padding at the wrap
  return p;
}

TEST_F(ToolLivePeers, NeverReportsDamageAndDumpsExactlyWhatWasSent) {
  create(4096, /*checksums=*/true);
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  ChildProcess peers([&] {
    ::close(ready[0]);
    Producer producer = Producer::open(path());
    Consumer consumer = Consumer::open(path());
    std::thread drain([&] {
      for (std::uint64_t n = 0;; ++n) {
        if (!consumer.receive().ok()) return;
        if (n % 3 == 0) consumer.release();  // release in small batches
      }
    });
    const char byte = 1;
    if (::write(ready[1], &byte, 1) != 1) return 1;
    for (std::uint64_t i = 0;; ++i) {
      if (!producer.send(payload(i)).ok()) break;
    }
    drain.join();
    return 0;  // never reached: the test kills this process
  });
  ::close(ready[1]);
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);  // both peers attached and running
  ::close(ready[0]);

  int verified = 0;
  for (int round = 0; round < 10; ++round) {
    const ProgramRun verify = run_tool({"verify", path()});
    EXPECT_NE(verify.exit_code, 1) << describe(verify);  // 0, or 2 when every attempt raced
    if (verify.exit_code == 0) ++verified;

    const ProgramRun stat = run_tool({"stat", "--json", path()});
    ASSERT_EQ(stat.exit_code, 0) << describe(stat);
    const nlohmann::json j = nlohmann::json::parse(stat.out);
    EXPECT_TRUE(j["problem"].is_null()) << stat.out;
    EXPECT_EQ(j["producer"]["attached"], true);
    EXPECT_EQ(j["consumer"]["attached"], true);
    EXPECT_LE(j["depth"]["bytes"].get<std::uint64_t>(), 4096u);

    // Each refresh checks the positions and the first live record: a race is never damage.
    const ProgramRun watch = run_tool({"watch", path(), "--interval", "10", "--count", "3"});
    EXPECT_EQ(watch.exit_code, 0) << describe(watch);
    EXPECT_EQ(watch.out.find("problem="), std::string::npos) << watch.out;

    const ProgramRun dump = run_tool({"dump", "--json", path()});
    ASSERT_EQ(dump.exit_code, 0) << describe(dump);
    std::optional<std::uint64_t> previous;
    for (const std::string& line : lines(dump.out)) {
      const nlohmann::json m = nlohmann::json::parse(line);
      const auto sequence = m["sequence"].get<std::uint64_t>();
      EXPECT_EQ(m["text"], payload(sequence));
      if (previous) {
        EXPECT_EQ(sequence, *previous + 1);
      }
      previous = sequence;
    }
  }
  const nlohmann::json last = stat_json();
  peers.kill_hard();
  EXPECT_GT(last["sequences"]["published"].get<std::uint64_t>(), 0u);
  RecordProperty("verify_runs_that_completed", verified);
  RecordProperty("messages_published", std::to_string(last["sequences"]["published"].get<std::uint64_t>()));
}

}  // namespace
}  // namespace shmq::test
