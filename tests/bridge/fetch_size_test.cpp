// How `shmq-bridge in` sizes its fetches: a batch of large messages stays within what the server
// lets a client have pending (else it drops the client as a slow consumer, again and again), and
// a --batch above JetStream's default max_ack_pending (1000) is served by a consumer that allows it
// (else every fetch waits out its timeout).
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "bridge_programs.hpp"
#include "jetstream_client.hpp"
#include "nats_server.hpp"
#include "shmq/shmq.hpp"
#include "support/temp_queue.hpp"

namespace shmq {
namespace {

using test::ChildProcess;

// 256 messages of 320 KiB are 80 MiB, beyond the server's 64 MiB for a client's pending data by
// default; the test's server allows 16 MiB (max_pending), so that the overflow does not depend
// on how fast in happens to read.
constexpr std::uint64_t kLargeCount = 300;

TEST(BridgeFetchSize, LargeMessagesInFullBatchesArriveWithoutTheServerDroppingIn) {
  test::TempQueue config("/tmp");  // a unique file name; not a queue
  std::ofstream(config.path()) << "max_pending: 16MB\n";
  test::NatsServer server({"-c", config.str()});
  test::TempQueue a;
  test::InQueue b;
  create_queue(a.path(), {.capacity = 32 << 20});
  create_queue(b.path(), {.capacity = 32 << 20});
  {
    ChildProcess producer(test::producer_argv(a.str(), kLargeCount, "320KiB"));
    ChildProcess out(test::out_argv(a.str(), server.url(), "LARGE", kLargeCount));
    ASSERT_EQ(out.exit_code(), 0) << out.describe();
    ASSERT_EQ(producer.exit_code(), 0) << producer.describe();
  }
  // Everything is in the stream before in starts: its first fetch asks for a full batch.
  ChildProcess consumer(test::verifying_consumer_argv(b.str(), kLargeCount));
  std::vector<std::string> argv = test::in_argv(server.url(), "LARGE", b.str(), kLargeCount);
  argv.insert(argv.end(), {"--batch", "256"});
  ChildProcess in(argv);
  ASSERT_EQ(in.exit_code(), 0) << in.describe();
  EXPECT_EQ(in.err().find("reconnecting"), std::string::npos) << in.describe();
  test::expect_exactly_once_in_order(consumer, kLargeCount);
}

TEST(BridgeFetchSize, ABatchAboveTheDefaultMaxAckPendingGetsAConsumerThatAllowsIt) {
  constexpr std::uint64_t kBigBatchCount = 5'000;
  test::NatsServer server;
  test::TempQueue a;
  test::InQueue b;
  create_queue(a.path(), {.capacity = 1 << 20});
  {
    ChildProcess producer(test::producer_argv(a.str(), kBigBatchCount, "64"));
    ChildProcess out(test::out_argv(a.str(), server.url(), "BATCH", kBigBatchCount));
    ASSERT_EQ(out.exit_code(), 0) << out.describe();
    ASSERT_EQ(producer.exit_code(), 0) << producer.describe();
  }
  std::vector<std::string> argv = test::in_argv(server.url(), "BATCH", b.str(), kBigBatchCount);
  argv.insert(argv.end(), {"--batch", "2048"});
  ChildProcess in(argv);
  ASSERT_EQ(in.exit_code(), 0) << in.describe();
  test::JetStreamClient client(server.url());
  EXPECT_GE(client.max_ack_pending("BATCH", "to-b"), 2048);
  ChildProcess consumer(test::verifying_consumer_argv(b.str(), kBigBatchCount));
  test::expect_exactly_once_in_order(consumer, kBigBatchCount);
}

}  // namespace
}  // namespace shmq
