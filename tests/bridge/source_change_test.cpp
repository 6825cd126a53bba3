// What `shmq-bridge in` does when the queues at either end are not the ones it has been serving:
// the source queue A created again (a new instance on the stream: in stops, names both, and a new
// B takes the new source), a B holding messages the bridge did not put there (refused, nothing
// dropped), a B created again or restored from a copy (filled from the stream, from its own
// position, at once).
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "bridge_programs.hpp"
#include "jetstream_client.hpp"
#include "nats_server.hpp"
#include "queue_identity.hpp"
#include "shmq/shmq.hpp"
#include "shmq_sample/exit_codes.hpp"
#include "support/temp_queue.hpp"

namespace shmq {
namespace {

using test::ChildProcess;

constexpr std::uint64_t kFirstRun = 1'000;
constexpr std::uint64_t kSecondRun = 500;

// Creates queue A (when missing) and fills it with messages 0..count-1.
void fill_source(const test::TempQueue& a, std::uint64_t count) {
  if (!std::filesystem::exists(a.path())) create_queue(a.path(), {.capacity = 1 << 20});
  ChildProcess producer(test::producer_argv(a.str(), count, "64"));
  ASSERT_EQ(producer.exit_code(), 0) << producer.describe();
}

// A's messages 0..count-1 into the stream, then out exits.
void publish_source(const test::NatsServer& server, const test::TempQueue& a, const std::string& stream,
                    std::uint64_t count) {
  ChildProcess out(test::out_argv(a.str(), server.url(), stream, count));
  ASSERT_EQ(out.exit_code(), 0) << out.describe();
}

std::uint64_t next_in(const test::TempQueue& queue) { return Producer::open(queue.path()).next_sequence(); }

std::vector<std::string> in_without_count(const test::NatsServer& server, const std::string& stream,
                                          const test::TempQueue& b) {
  return {SHMQ_BRIDGE_PATH, "in",   "--server", server.url(), "--stream", stream,
          "--consumer",     "to-b", "--queue",  b.str(),      "--create"};
}

TEST(BridgeSourceChange, InStopsWhenTheSourceQueueIsCreatedAgainAndANewQueueBTakesTheNewSource) {
  test::NatsServer server;
  test::TempQueue a;
  test::InQueue b;
  ASSERT_NO_FATAL_FAILURE(fill_source(a, kFirstRun));
  const std::string first = shmq_bridge::queue_instance_id(a.path());
  ASSERT_NO_FATAL_FAILURE(publish_source(server, a, "CHANGE", kFirstRun));
  ChildProcess in(in_without_count(server, "CHANGE", b));
  ASSERT_TRUE(test::eventually([&] { return test::published_in(b.str()) == kFirstRun; })) << in.describe();

  // The source host reboots: A is created again and its new out publishes 0.. under a new instance.
  remove_queue(a.path(), {.force = true});
  ASSERT_NO_FATAL_FAILURE(fill_source(a, kSecondRun));
  const std::string second = shmq_bridge::queue_instance_id(a.path());
  ASSERT_NE(first, second);
  ASSERT_NO_FATAL_FAILURE(publish_source(server, a, "CHANGE", kSecondRun));

  EXPECT_EQ(in.exit_code(), shmq_sample::kExitFailed) << in.describe();
  EXPECT_NE(in.err().find("instance " + second), std::string::npos) << in.describe();
  EXPECT_NE(in.err().find("instead of instance " + first), std::string::npos) << in.describe();
  EXPECT_NE(in.err().find("start in again with --create"), std::string::npos) << in.describe();
  EXPECT_EQ(next_in(b), kFirstRun) << "B's sequence numbers never go back, and B took nothing of the new source";
  test::JetStreamClient client(server.url());
  EXPECT_EQ(client.stored_messages("CHANGE"), kFirstRun + kSecondRun);

  // The documented way on: B's consumer finishes B, B is removed, in starts again with --create.
  {
    ChildProcess old_consumer(test::verifying_consumer_argv(b.str(), kFirstRun));
    test::expect_exactly_once_in_order(old_consumer, kFirstRun);
  }
  remove_queue(b.path());
  ChildProcess again(test::in_argv(server.url(), "CHANGE", b.str(), kSecondRun));
  ASSERT_EQ(again.exit_code(), 0) << again.describe();
  ChildProcess consumer(test::verifying_consumer_argv(b.str(), kSecondRun));
  test::expect_exactly_once_in_order(consumer, kSecondRun);
  EXPECT_NE(again.err().find("follows source queue instance " + second), std::string::npos) << again.describe();
}

TEST(BridgeSourceChange, InRefusesAQueueBHoldingMessagesItDidNotPutThere) {
  test::NatsServer server;
  test::TempQueue a;
  test::InQueue b;
  ASSERT_NO_FATAL_FAILURE(fill_source(a, kSecondRun));
  ASSERT_NO_FATAL_FAILURE(publish_source(server, a, "LOCAL", kSecondRun));
  create_queue(b.path(), {.capacity = 1 << 20});
  {
    ChildProcess local(test::producer_argv(b.str(), 5, "64"));
    ASSERT_EQ(local.exit_code(), 0) << local.describe();
  }
  ChildProcess in(test::in_argv(server.url(), "LOCAL", b.str(), kSecondRun));
  EXPECT_EQ(in.exit_code(), shmq_sample::kExitFailed) << in.describe();
  EXPECT_NE(in.err().find("holds messages 0..4 that shmq-bridge in did not put there"), std::string::npos)
      << in.describe();
  EXPECT_NE(in.err().find("Give in an empty queue"), std::string::npos) << in.describe();
  EXPECT_EQ(next_in(b), 5U);
}

TEST(BridgeSourceChange, InRefusesAQueueBAnotherProducerWroteInto) {
  test::NatsServer server;
  test::TempQueue a;
  test::InQueue b;
  ASSERT_NO_FATAL_FAILURE(fill_source(a, kSecondRun));
  ASSERT_NO_FATAL_FAILURE(publish_source(server, a, "MIXED", kSecondRun));
  {
    ChildProcess in(test::in_argv(server.url(), "MIXED", b.str(), kSecondRun));
    ASSERT_EQ(in.exit_code(), 0) << in.describe();
  }
  {
    // Messages 500..502, not the source's (the producer counts over the life of the queue).
    ChildProcess local(test::producer_argv(b.str(), kSecondRun + 3, "64"));
    ASSERT_EQ(local.exit_code(), 0) << local.describe();
  }
  ASSERT_NO_FATAL_FAILURE(fill_source(a, 2 * kSecondRun));
  ASSERT_NO_FATAL_FAILURE(publish_source(server, a, "MIXED", 2 * kSecondRun));
  ChildProcess in(test::in_argv(server.url(), "MIXED", b.str(), 2 * kSecondRun));
  EXPECT_EQ(in.exit_code(), shmq_sample::kExitFailed) << in.describe();
  EXPECT_NE(in.err().find("something other than shmq-bridge in wrote into it"), std::string::npos) << in.describe();
  EXPECT_EQ(next_in(b), kSecondRun + 3);
}

// The receiving host rebooted: B is gone, the stream and the consumer are not. A new B receives
// the source's whole history at once (no new message needed), from its message 0.
TEST(BridgeSourceChange, AQueueBCreatedAgainReceivesTheSourcesHistoryAtOnce) {
  test::NatsServer server;
  test::TempQueue a;
  test::InQueue b;
  ASSERT_NO_FATAL_FAILURE(fill_source(a, kFirstRun));
  ASSERT_NO_FATAL_FAILURE(publish_source(server, a, "REBOOT", kFirstRun));
  {
    ChildProcess in(test::in_argv(server.url(), "REBOOT", b.str(), kFirstRun));
    ASSERT_EQ(in.exit_code(), 0) << in.describe();
  }
  remove_queue(b.path());
  std::filesystem::remove(b.record());
  ChildProcess in(test::in_argv(server.url(), "REBOOT", b.str(), kFirstRun));
  ASSERT_EQ(in.exit_code(), 0) << in.describe();
  ChildProcess consumer(test::verifying_consumer_argv(b.str(), kFirstRun));
  test::expect_exactly_once_in_order(consumer, kFirstRun);
}

// B restored from a copy taken earlier (same queue file, an earlier position): in delivers from
// B's own position again, though the consumer had acknowledged more.
TEST(BridgeSourceChange, AQueueBRestoredToAnEarlierPositionIsFilledFromThere) {
  test::NatsServer server;
  test::TempQueue a;
  test::InQueue b;
  test::TempQueue copy;
  ASSERT_NO_FATAL_FAILURE(fill_source(a, kFirstRun));
  ASSERT_NO_FATAL_FAILURE(publish_source(server, a, "RESTORE", kFirstRun));
  {
    ChildProcess in(test::in_argv(server.url(), "RESTORE", b.str(), kSecondRun));
    ASSERT_EQ(in.exit_code(), 0) << in.describe();
  }
  std::filesystem::copy_file(b.path(), copy.path());
  {
    ChildProcess in(test::in_argv(server.url(), "RESTORE", b.str(), kFirstRun));
    ASSERT_EQ(in.exit_code(), 0) << in.describe();
  }
  std::filesystem::copy_file(copy.path(), b.path(), std::filesystem::copy_options::overwrite_existing);
  ASSERT_EQ(next_in(b), kSecondRun);
  ChildProcess in(test::in_argv(server.url(), "RESTORE", b.str(), kFirstRun));
  ASSERT_EQ(in.exit_code(), 0) << in.describe();
  EXPECT_NE(in.err().find("delivering 500.. again from the stream"), std::string::npos) << in.describe();
  ChildProcess consumer(test::verifying_consumer_argv(b.str(), kFirstRun));
  test::expect_exactly_once_in_order(consumer, kFirstRun);
}

}  // namespace
}  // namespace shmq
