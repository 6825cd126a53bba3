// SIGTERM in the middle of the stream: `shmq-bridge out` finishes its window, releases exactly what
// JetStream acknowledged, and exits 0; its --stat lines say how far it got. A restart then
// completes the stream without a duplicate.
#include <cstdint>
#include <csignal>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bridge_programs.hpp"
#include "jetstream_client.hpp"
#include "nats_server.hpp"
#include "shmq/shmq.hpp"
#include "support/temp_queue.hpp"

namespace shmq {
namespace {

using test::ChildProcess;

constexpr std::uint64_t kStopCount = 200'000;

TEST(BridgeStop, SigtermReleasesExactlyWhatJetStreamHoldsAndExitsZero) {
  test::NatsServer server;
  test::TempQueue a;
  create_queue(a.path(), {.capacity = 1 << 20});
  ChildProcess producer(test::producer_argv(a.str(), kStopCount, "64"));
  std::vector<std::string> argv = test::out_argv(a.str(), server.url(), "STOP", kStopCount);
  argv.insert(argv.end(), {"--stat", "1"});
  {
    ChildProcess out(argv, test::ProgramIo::output_to_pipe());
    std::string line;
    std::int64_t last_acked = -1;
    while (last_acked < 0) {  // the first line after JetStream acknowledged a window
      ASSERT_TRUE(out.read_line(line)) << out.describe();
      last_acked = nlohmann::json::parse(line).value("last_acked", std::int64_t{-1});
    }
    out.send_signal(SIGTERM);
    ASSERT_EQ(out.exit_code(), 0) << out.describe();
  }
  const std::uint64_t released = Consumer::open(a.path()).next_sequence();
  test::JetStreamClient client(server.url());
  EXPECT_EQ(client.stored_messages("STOP"), released) << "released must be exactly what JetStream holds";

  ChildProcess rest(test::out_argv(a.str(), server.url(), "STOP", kStopCount));
  ASSERT_EQ(rest.exit_code(), 0) << rest.describe();
  ASSERT_EQ(producer.exit_code(), 0) << producer.describe();
  EXPECT_EQ(client.stored_messages("STOP"), kStopCount);
}

}  // namespace
}  // namespace shmq
