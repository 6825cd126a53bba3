// The kill storm: while a producer fills queue A and a consumer verifies queue B, both bridges are
// killed with SIGKILL at random points (random message counts
// reached in queue B) and restarted, and the NATS server is restarted three times.
// Queue B must still receive messages 0..N-1 exactly once, in order. Seeded (the seed is printed;
// SHMQ_TEST_SEED repeats a run); SHMQ_BRIDGE_STORM_COUNT and SHMQ_BRIDGE_STORM_KILLS scale it.
#include <algorithm>
#include <chrono>
#include <memory>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "bridge_programs.hpp"
#include "nats_server.hpp"
#include "shmq/shmq.hpp"
#include "support/temp_queue.hpp"

namespace shmq {
namespace {

using test::ChildProcess;

enum class Event { kill_out, kill_in, restart_server };

TEST(BridgeKillStorm, ExactlyOnceInOrderThroughKillsAndServerRestarts) {
  const std::uint64_t seed = test::test_seed();
  const std::uint64_t count = test::count_from_env("SHMQ_BRIDGE_STORM_COUNT", 100'000);
  const std::uint64_t kills = test::count_from_env("SHMQ_BRIDGE_STORM_KILLS", 30);
  std::printf("kill storm: seed %llu, %llu messages, %llu kills of each bridge, 3 server restarts\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(count),
              static_cast<unsigned long long>(kills));
  std::mt19937_64 random(seed);
  std::vector<Event> events(kills, Event::kill_out);
  events.insert(events.end(), kills, Event::kill_in);
  events.insert(events.end(), 3, Event::restart_server);
  std::shuffle(events.begin(), events.end(), random);

  test::NatsServer server;
  test::TempQueue a;
  test::InQueue b;
  create_queue(a.path(), {.capacity = 1 << 20});
  create_queue(b.path(), {.capacity = 1 << 20});
  std::vector<std::string> consumer_argv = test::verifying_consumer_argv(b.str(), count);
  consumer_argv.push_back("--follow");  // through the restarts of its producer, `in`
  ChildProcess consumer(consumer_argv);
  ChildProcess producer(test::producer_argv(a.str(), count, "64"));
  auto out = std::make_unique<ChildProcess>(test::out_argv(a.str(), server.url(), "STORM", count));
  auto in = std::make_unique<ChildProcess>(test::in_argv(server.url(), "STORM", b.str(), count));

  // The random points: how far queue B has got when each event happens.
  std::uniform_int_distribution<std::uint64_t> point(0, count - 1);
  std::vector<std::uint64_t> points(events.size());
  for (std::uint64_t& p : points) p = point(random);
  std::sort(points.begin(), points.end());
  for (std::size_t i = 0; i < events.size(); ++i) {
    const Event event = events[i];
    ASSERT_TRUE(test::eventually([&] { return test::published_in(b.str()) >= points[i]; }))
        << "queue B is stuck below " << points[i] << out->describe() << in->describe();
    switch (event) {
      case Event::kill_out:
        out->kill_hard();
        out = std::make_unique<ChildProcess>(test::out_argv(a.str(), server.url(), "STORM", count));
        break;
      case Event::kill_in:
        in->kill_hard();
        in = std::make_unique<ChildProcess>(test::in_argv(server.url(), "STORM", b.str(), count));
        break;
      case Event::restart_server:
        server.restart();
        ASSERT_FALSE(HasFailure()) << "nats-server did not restart";
        break;
    }
  }
  ASSERT_EQ(producer.exit_code(), 0) << producer.describe();
  ASSERT_EQ(out->exit_code(), 0) << out->describe();
  ASSERT_EQ(in->exit_code(), 0) << in->describe();
  test::expect_exactly_once_in_order(consumer, count);
}

}  // namespace
}  // namespace shmq
