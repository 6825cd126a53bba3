// The window between a publication's commit word and the producer's position store. A producer
// killed or stopped there leaves its position word one publication behind the records, and the
// consumer, which learns of records from their commit words, may receive and release that
// publication: its read position is then ahead of the word. The commit words are the truth:
// every open, a restarted producer and the tools must follow them (queue_file.hpp,
// published_lower_bound).
#include <csignal>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "layout.hpp"
#include "shmq/shmq.hpp"
#include "support/child_process.hpp"
#include "support/temp_queue.hpp"
#include "workload.hpp"

namespace shmq {
namespace {

std::string text(std::uint64_t seq) { return "message " + std::to_string(seq); }

// The third publication stops at its position store: messages 0 to 2 are published, the
// position word covers 0 and 1.
constexpr const char* kThirdPositionStore = "publish.after_store:3";

int send_ten(const std::filesystem::path& queue) {
  Producer p = Producer::open(queue);
  for (std::uint64_t i = 0; i < 10; ++i)
    if (!p.send(text(i))) return 3;
  return 0;
}

std::uint64_t word_at(const std::filesystem::path& path, std::size_t offset) {
  std::uint64_t word = 0;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_EQ(::pread(fd, &word, 8, static_cast<off_t>(offset)), 8);
  ::close(fd);
  return word;
}
std::uint64_t producer_position(const std::filesystem::path& path) {
  return word_at(path, offsetof(layout::Header, producer) + offsetof(layout::RoleLine, position));
}
std::uint64_t consumer_position(const std::filesystem::path& path) {
  return word_at(path, offsetof(layout::Header, consumer) + offsetof(layout::RoleLine, position));
}

// Receives `n` messages, checking their sequences from `first` and their payloads, then releases.
void receive(Consumer& c, std::uint64_t first, std::uint64_t n) {
  for (std::uint64_t i = first; i < first + n; ++i) {
    Result<Message> m = c.receive_for(std::chrono::seconds(60));
    ASSERT_TRUE(m) << "message " << i;
    EXPECT_EQ(m->sequence, i);
    EXPECT_EQ(m->text(), text(i));
  }
  c.release();
}

TEST(PositionWindow, ConsumerPastAKilledProducersPositionWordReopensAndTheSequenceGoesOn) {
  test::TempQueue q;
  create_queue(q.path(), {.capacity = 64 * 1024});
  crash_test::expect_killed_at(kThirdPositionStore, [&] { return send_ten(q.path()); });
  {
    Consumer c = Consumer::open(q.path());
    receive(c, 0, 3);
  }
  ASSERT_GT(consumer_position(q.path()), producer_position(q.path())) << "the consumer released past the word";
  // Every open succeeds, in either order, and nothing is lost or repeated.
  Consumer c = Consumer::open(q.path());
  EXPECT_EQ(c.next_sequence(), 3u);
  Producer p = Producer::open(q.path());
  EXPECT_EQ(p.next_sequence(), 3u);
  ASSERT_TRUE(p.send(text(3)));
  receive(c, 3, 1);
  EXPECT_FALSE(c.try_receive());
}

// A restarted producer stores the position its attach walk found at once: one that never sends
// would otherwise leave the word behind the records for its whole life (tools, a restarting
// consumer and power-loss recovery read it).
TEST(PositionWindow, AnIdleRestartedProducerStoresThePositionItFound) {
  test::TempQueue q;
  create_queue(q.path(), {.capacity = 64 * 1024});
  crash_test::expect_killed_at(kThirdPositionStore, [&] { return send_ten(q.path()); });
  const std::uint64_t end_of_three = 3 * layout::record_size(text(0).size());
  ASSERT_EQ(producer_position(q.path()), 2 * layout::record_size(text(0).size()));
  Producer p = Producer::open(q.path());
  EXPECT_EQ(p.next_sequence(), 3u);
  EXPECT_EQ(producer_position(q.path()), end_of_three);
  Consumer c = Consumer::open(q.path());
  EXPECT_EQ(c.watermarks().published, 3u) << "the producer's sequence word follows its walk too";
}

#ifdef SHMQ_TOOL_PATH
test::ProgramRun run_tool(const std::vector<std::string>& args) {
  std::vector<std::string> argv{SHMQ_TOOL_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return test::ChildProcess(argv).finish();
}

// While the producer is stopped inside the window (SIGSTOP, as a preempted or debugged process
// is) and the consumer has released past its word, the queue is healthy: no tool may call it
// damaged, and the producer goes on when it is continued.
TEST(PositionWindow, ToolsCallAQueueWhoseProducerIsStoppedInTheWindowHealthy) {
  for (const bool checksums : {false, true}) {
    SCOPED_TRACE(checksums ? "checksums" : "no checksums");
    test::TempQueue q;
    create_queue(q.path(), {.capacity = 64 * 1024, .checksums = checksums});
    test::ChildProcess producer([&] {
      ::setenv("SHMQ_FAILPOINT", (std::string(kThirdPositionStore) + ":stop").c_str(), 1);
      return send_ten(q.path());
    });
    int status = 0;
    ASSERT_EQ(::waitpid(producer.pid(), &status, WUNTRACED), producer.pid());
    ASSERT_TRUE(WIFSTOPPED(status)) << "the failpoint did not stop the producer";
    Consumer c = Consumer::open(q.path());
    receive(c, 0, 3);
    ASSERT_GT(consumer_position(q.path()), producer_position(q.path()));

    const std::string path = q.str();
    for (const std::vector<std::string>& args :
         std::vector<std::vector<std::string>>{{"stat", path},
                                               {"stat", "--json", path},
                                               {"verify", path},
                                               {"dump", path},
                                               {"watch", path, "--interval", "10", "--count", "2"}}) {
      const test::ProgramRun run = run_tool(args);
      EXPECT_EQ(run.exit_code, 0) << test::describe(run);
      EXPECT_EQ((run.out + run.err).find("damaged"), std::string::npos) << test::describe(run);
    }
    const test::ProgramRun verify = run_tool({"verify", path});
    EXPECT_NE(verify.out.find("none live (next sequence 3)"), std::string::npos) << verify.out;

    producer.send_signal(SIGCONT);
    receive(c, 3, 7);
    EXPECT_TRUE(producer.exited_cleanly());
  }
}
#endif

}  // namespace
}  // namespace shmq
