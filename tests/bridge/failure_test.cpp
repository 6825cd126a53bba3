// What the bridge does when it cannot do its job: a missing stream (out: a clear error; in: it
// waits for the stream), the server down at start (it waits, then delivers), a wrong token (a
// clear error). Whatever happens, nothing is released from the source queue before JetStream
// holds it.
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "bridge_programs.hpp"
#include "nats_server.hpp"
#include "shmq/shmq.hpp"
#include "shmq_sample/exit_codes.hpp"
#include "support/temp_queue.hpp"

namespace shmq {
namespace {

using test::ChildProcess;

constexpr std::uint64_t kFailureCount = 1'000;

// Fills queue A with kFailureCount generated messages (the producer exits once they are in).
void fill_queue(const test::TempQueue& a) {
  create_queue(a.path(), {.capacity = 1 << 20});
  ChildProcess producer(test::producer_argv(a.str(), kFailureCount, "64"));
  ASSERT_EQ(producer.exit_code(), 0) << producer.describe();
}

std::uint64_t released_from(const test::TempQueue& a) { return Consumer::open(a.path()).next_sequence(); }

TEST(BridgeFailures, OutRefusesAMissingStreamAndReleasesNothing) {
  test::NatsServer server;
  test::TempQueue a;
  ASSERT_NO_FATAL_FAILURE(fill_queue(a));
  ChildProcess out({SHMQ_BRIDGE_PATH, "out", "--queue", a.str(), "--server", server.url(), "--subject", "x.data",
                    "--stream", "MISSING"});
  EXPECT_EQ(out.exit_code(), shmq_sample::kExitFailed) << out.describe();
  EXPECT_NE(out.err().find("stream MISSING does not exist on the server"), std::string::npos) << out.describe();
  EXPECT_NE(out.err().find("--create-stream"), std::string::npos) << out.describe();
  EXPECT_EQ(released_from(a), 0U);
}

TEST(BridgeFailures, InWaitsForTheStreamThenDelivers) {
  test::NatsServer server;
  test::TempQueue a;
  test::InQueue b;
  create_queue(b.path(), {.capacity = 1 << 20});
  ChildProcess in(test::in_argv(server.url(), "LATE", b.str(), kFailureCount));
  ASSERT_TRUE(test::stderr_says(in, "does not exist (yet); waiting for it to be created")) << in.describe();
  ASSERT_NO_FATAL_FAILURE(fill_queue(a));
  ChildProcess consumer(test::verifying_consumer_argv(b.str(), kFailureCount));
  ChildProcess out(test::out_argv(a.str(), server.url(), "LATE", kFailureCount));
  ASSERT_EQ(out.exit_code(), 0) << out.describe();
  ASSERT_EQ(in.exit_code(), 0) << in.describe();
  test::expect_exactly_once_in_order(consumer, kFailureCount);
}

TEST(BridgeFailures, OutWaitsForAServerThatIsDownAndReleasesNothingMeanwhile) {
  test::NatsServer server;
  server.stop();
  test::TempQueue a;
  ASSERT_NO_FATAL_FAILURE(fill_queue(a));
  {
    ChildProcess out(test::out_argv(a.str(), server.url(), "LATER", kFailureCount));
    ASSERT_TRUE(test::stderr_says(out, "waiting for the NATS server at " + server.url())) << out.describe();
    ASSERT_TRUE(out.running()) << out.describe();
    out.kill_hard();  // while it waits: nothing may have been released
  }
  EXPECT_EQ(released_from(a), 0U);
  ChildProcess out(test::out_argv(a.str(), server.url(), "LATER", kFailureCount));
  ASSERT_TRUE(test::stderr_says(out, "waiting for the NATS server")) << out.describe();
  server.start();
  ASSERT_EQ(out.exit_code(), 0) << out.describe();
  EXPECT_NE(out.err().find("connected to NATS at " + server.url()), std::string::npos) << out.describe();
  EXPECT_EQ(released_from(a), kFailureCount);
}

TEST(BridgeFailures, AWrongTokenIsAClearErrorAndTheRightOneWorks) {
  test::NatsServer server({"--auth", "right-token"});
  test::TempQueue a;
  test::TempQueue token;  // a unique file name; not a queue
  ASSERT_NO_FATAL_FAILURE(fill_queue(a));
  std::vector<std::string> argv = test::out_argv(a.str(), server.url(), "AUTH", kFailureCount);
  argv.insert(argv.end(), {"--token-file", token.str()});

  std::ofstream(token.path()) << "wrong-token\n";
  ChildProcess refused(argv);
  EXPECT_EQ(refused.exit_code(), shmq_sample::kExitFailed) << refused.describe();
  EXPECT_NE(refused.err().find("refused the connection"), std::string::npos) << refused.describe();
  EXPECT_NE(refused.err().find("Authorization"), std::string::npos) << refused.describe();
  EXPECT_EQ(refused.err().find("right-token"), std::string::npos) << refused.describe();
  EXPECT_EQ(released_from(a), 0U);

  std::ofstream(token.path()) << "right-token\n";
  ChildProcess accepted(argv);
  EXPECT_EQ(accepted.exit_code(), 0) << accepted.describe();
  EXPECT_EQ(released_from(a), kFailureCount);
}

// A user/password server: the password comes from a file or the environment, never the command
// line, and is never printed.
TEST(BridgeFailures, AUserPasswordFromAFileOrTheEnvironmentWorksAndAWrongOneIsAClearError) {
  test::NatsServer server({"--user", "bridge", "--pass", "right-password"});
  test::TempQueue a;
  test::TempQueue password;  // a unique file name; not a queue
  ASSERT_NO_FATAL_FAILURE(fill_queue(a));
  std::vector<std::string> argv = test::out_argv(a.str(), server.url(), "USER", kFailureCount / 2);
  argv.insert(argv.end(), {"--user", "bridge", "--password-file", password.str()});

  std::ofstream(password.path()) << "wrong-password\n";
  ChildProcess refused(argv);
  EXPECT_EQ(refused.exit_code(), shmq_sample::kExitFailed) << refused.describe();
  EXPECT_NE(refused.err().find("Authorization"), std::string::npos) << refused.describe();
  EXPECT_EQ(refused.err().find("wrong-password"), std::string::npos) << refused.describe();
  EXPECT_EQ(released_from(a), 0U);

  std::ofstream(password.path()) << "right-password\n";
  ChildProcess from_file(argv);
  EXPECT_EQ(from_file.exit_code(), 0) << from_file.describe();
  EXPECT_EQ(released_from(a), kFailureCount / 2);

  std::vector<std::string> from_env = {"/usr/bin/env", "SHMQ_NATS_USER=bridge", "SHMQ_NATS_PASSWORD=right-password"};
  const std::vector<std::string> rest = test::out_argv(a.str(), server.url(), "USER", kFailureCount);
  from_env.insert(from_env.end(), rest.begin(), rest.end());
  ChildProcess with_env(from_env);
  EXPECT_EQ(with_env.exit_code(), 0) << with_env.describe();
  EXPECT_EQ(released_from(a), kFailureCount);
}

}  // namespace
}  // namespace shmq
