// producer -> queue A -> shmq-bridge out -> JetStream -> shmq-bridge in -> queue B -> consumer:
// every message arrives once, in order, intact: 1 M messages of 64 B and 10 k of 64 KiB
// (SHMQ_BRIDGE_SMALL_COUNT and SHMQ_BRIDGE_LARGE_COUNT change the counts).
#include <string>

#include <gtest/gtest.h>

#include "bridge_programs.hpp"
#include "nats_server.hpp"
#include "shmq/shmq.hpp"
#include "support/temp_queue.hpp"

namespace shmq {
namespace {

using test::ChildProcess;

void round_trip(std::uint64_t count, const std::string& size, std::uint64_t capacity) {
  test::NatsServer server;
  test::TempQueue a;
  test::InQueue b;
  create_queue(a.path(), {.capacity = capacity});
  create_queue(b.path(), {.capacity = capacity});
  ChildProcess consumer(test::verifying_consumer_argv(b.str(), count));
  ChildProcess producer(test::producer_argv(a.str(), count, size));
  ChildProcess out(test::out_argv(a.str(), server.url(), "ROUND", count));
  ChildProcess in(test::in_argv(server.url(), "ROUND", b.str(), count));
  ASSERT_EQ(producer.exit_code(), 0) << producer.describe();
  ASSERT_EQ(out.exit_code(), 0) << out.describe();
  ASSERT_EQ(in.exit_code(), 0) << in.describe();
  test::expect_exactly_once_in_order(consumer, count);
}

TEST(BridgeRoundTrip, SmallMessagesArriveOnceInOrder) {
  round_trip(test::count_from_env("SHMQ_BRIDGE_SMALL_COUNT", 1'000'000), "64", 4 << 20);
}

TEST(BridgeRoundTrip, LargeMessagesArriveOnceInOrder) {
  round_trip(test::count_from_env("SHMQ_BRIDGE_LARGE_COUNT", 10'000), "64KiB", 16 << 20);
}

}  // namespace
}  // namespace shmq
