// When JetStream refuses a message for good (over the stream's max_msg_size, the stream full with
// discard=new) `out` stops with JetStream's reason, the stream holding exactly the messages before
// the refused one, and stores nothing twice, even long after the duplicate window; once the stream
// is changed a new out completes the job. A stream that does not store out's subject, a missing
// stream and a wrong token are reported at start, before any message exists.
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nats/nats.h>

#include "bridge_programs.hpp"
#include "jetstream_client.hpp"
#include "nats_server.hpp"
#include "shmq/shmq.hpp"
#include "shmq_sample/exit_codes.hpp"
#include "shmq_sample/payload.hpp"
#include "support/temp_queue.hpp"

namespace shmq {
namespace {

using test::ChildProcess;

constexpr std::chrono::seconds kRefusalDuplicateWindow{1};
constexpr std::int64_t kDuplicateWindowNs =
    std::chrono::duration_cast<std::chrono::nanoseconds>(kRefusalDuplicateWindow).count();

std::vector<std::string> out_to(const test::TempQueue& a, const test::NatsServer& server, const std::string& stream,
                                std::uint64_t count) {
  return {SHMQ_BRIDGE_PATH, "out",      "--queue", a.str(),   "--server",           server.url(), "--subject",
          stream + ".data", "--stream", stream,    "--count", std::to_string(count)};
}

// Queue A with one message per size, sequence i carrying the generated payload of its size.
void fill_with_sizes(const test::TempQueue& a, const std::vector<std::size_t>& sizes) {
  create_queue(a.path(), {.capacity = 1 << 20});
  Producer p = Producer::open(a.path());
  for (std::uint64_t i = 0; i < sizes.size(); ++i) {
    shmq_sample::PayloadTemplate payload(sizes[i]);
    ASSERT_TRUE(p.send(payload.payload(i)));
  }
}

std::uint64_t released_by_out(const test::TempQueue& a) { return Consumer::open(a.path()).next_sequence(); }

TEST(BridgeRefusal, AMessageOverTheStreamsMaxSizeStopsOutWithTheReasonAndNoDuplicate) {
  test::NatsServer server;
  test::TempQueue a;
  std::vector<std::size_t> sizes(20, 64);
  sizes[10] = 4096;
  ASSERT_NO_FATAL_FAILURE(fill_with_sizes(a, sizes));
  test::JetStreamClient client(server.url());
  client.add_stream("SIZE", "SIZE.data", [](jsStreamConfig& c) {
    c.MaxMsgSize = 1024;
    c.Duplicates = kDuplicateWindowNs;
  });
  for (int attempt = 0; attempt < 2; ++attempt) {
    ChildProcess out(out_to(a, server, "SIZE", sizes.size()));
    EXPECT_EQ(out.exit_code(), shmq_sample::kExitFailed) << out.describe();
    EXPECT_NE(out.err().find("JetStream refused message 10 of " + a.str()), std::string::npos) << out.describe();
    EXPECT_NE(out.err().find("message size exceeds maximum allowed"), std::string::npos) << out.describe();
    EXPECT_EQ(client.stored_messages("SIZE"), 10U) << "the messages before the refused one, once each";
    EXPECT_LE(released_by_out(a), 10U);
    // The scenario: JetStream forgets the ids before the second attempt.
    if (attempt == 0) std::this_thread::sleep_for(2 * kRefusalDuplicateWindow);
  }
  jsStreamInfo* info = nullptr;
  ASSERT_EQ(js_GetStreamInfo(&info, client.js, "SIZE", nullptr, nullptr), NATS_OK);
  info->Config->MaxMsgSize = 8192;
  jsStreamInfo* updated = nullptr;
  ASSERT_EQ(js_UpdateStream(&updated, client.js, info->Config, nullptr, nullptr), NATS_OK);
  jsStreamInfo_Destroy(updated);
  jsStreamInfo_Destroy(info);
  ChildProcess out(out_to(a, server, "SIZE", sizes.size()));
  ASSERT_EQ(out.exit_code(), 0) << out.describe();
  EXPECT_EQ(client.stored_messages("SIZE"), sizes.size());
  EXPECT_EQ(client.headers_at("SIZE", 11)["Shmq-Sequence"], "10");
  EXPECT_EQ(released_by_out(a), sizes.size());
}

TEST(BridgeRefusal, AFullStreamThatDiscardsNewMessagesStopsOutWithTheReason) {
  test::NatsServer server;
  test::TempQueue a;
  ASSERT_NO_FATAL_FAILURE(fill_with_sizes(a, std::vector<std::size_t>(10, 64)));
  test::JetStreamClient client(server.url());
  client.add_stream("FULL", "FULL.data", [](jsStreamConfig& c) {
    c.MaxMsgs = 5;
    c.Discard = js_DiscardNew;
    c.Duplicates = kDuplicateWindowNs;
  });
  for (int attempt = 0; attempt < 2; ++attempt) {
    ChildProcess out(out_to(a, server, "FULL", 10));
    EXPECT_EQ(out.exit_code(), shmq_sample::kExitFailed) << out.describe();
    EXPECT_NE(out.err().find("JetStream refused message 5 of " + a.str()), std::string::npos) << out.describe();
    EXPECT_NE(out.err().find("maximum messages exceeded"), std::string::npos) << out.describe();
    EXPECT_EQ(client.stored_messages("FULL"), 5U);
    EXPECT_LE(released_by_out(a), 5U);
    // The scenario: JetStream forgets the ids before the second attempt.
    if (attempt == 0) std::this_thread::sleep_for(2 * kRefusalDuplicateWindow);
  }
  for (std::uint64_t s = 1; s <= 5; ++s)
    EXPECT_EQ(client.headers_at("FULL", s)["Shmq-Sequence"], std::to_string(s - 1));
}

// At start, with queue A empty: nothing waits for the first message to show what is wrong.
TEST(BridgeRefusal, AStreamWithoutOutsSubjectIsAnErrorAtStartAlsoWithCreateStream) {
  test::NatsServer server;
  test::TempQueue a;
  create_queue(a.path(), {.capacity = 1 << 20});
  test::JetStreamClient client(server.url());
  client.add_stream("OTHER", "elsewhere");
  for (const bool create : {false, true}) {
    std::vector<std::string> argv = out_to(a, server, "OTHER", 10);
    if (create) argv.push_back("--create-stream");
    ChildProcess out(argv);
    EXPECT_EQ(out.exit_code(), shmq_sample::kExitFailed) << out.describe();
    EXPECT_NE(out.err().find("stream OTHER stores the subjects elsewhere, not OTHER.data"), std::string::npos)
        << out.describe();
  }
}

TEST(BridgeRefusal, AMissingStreamAndAWrongTokenAreErrorsAtStart) {
  test::NatsServer server({"--auth", "the-token"});
  test::TempQueue a;
  test::TempQueue token;  // a unique file name; not a queue
  create_queue(a.path(), {.capacity = 1 << 20});
  std::ofstream(token.path()) << "the-token\n";
  std::vector<std::string> missing = out_to(a, server, "NONE", 10);
  missing.insert(missing.end(), {"--token-file", token.str()});
  ChildProcess no_stream(missing);
  EXPECT_EQ(no_stream.exit_code(), shmq_sample::kExitFailed) << no_stream.describe();
  EXPECT_NE(no_stream.err().find("stream NONE does not exist"), std::string::npos) << no_stream.describe();

  std::ofstream(token.path()) << "not-the-token\n";
  ChildProcess refused(missing);
  EXPECT_EQ(refused.exit_code(), shmq_sample::kExitFailed) << refused.describe();
  EXPECT_NE(refused.err().find("Authorization"), std::string::npos) << refused.describe();
}

}  // namespace
}  // namespace shmq
