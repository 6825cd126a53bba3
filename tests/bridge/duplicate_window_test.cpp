// Resuming beyond JetStream's duplicate window: a predecessor of `shmq-bridge out` had JetStream
// store messages 0..K-1 but died before it released them from the queue. Once the stream's
// duplicate window (1 s here) has passed, JetStream would store a resend again; the bridge must
// read the last stored message and resume after it. The test plays the predecessor with libnats
// (the same ids and headers the bridge writes) and waits out the window: that sleep is the
// scenario, not a synchronisation.
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nats/nats.h>

#include "bridge_programs.hpp"
#include "jetstream_client.hpp"
#include "nats_server.hpp"
#include "queue_identity.hpp"
#include "shmq/shmq.hpp"
#include "shmq_headers.hpp"
#include "shmq_sample/payload.hpp"
#include "support/temp_queue.hpp"

namespace shmq {
namespace {

using test::ChildProcess;

constexpr std::uint64_t kDupCount = 1'000;
constexpr std::uint64_t kStoredByPredecessor = 600;
constexpr std::chrono::seconds kDuplicateWindow{1};
const std::string kDupStream = "DUP";
const std::string kDupSubject = "DUP.data";

void create_stream(const test::JetStreamClient& client) {
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = kDupStream.c_str();
  const char* subjects[] = {kDupSubject.c_str()};
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  config.Duplicates = std::chrono::duration_cast<std::chrono::nanoseconds>(kDuplicateWindow).count();
  jsStreamInfo* info = nullptr;
  ASSERT_EQ(js_AddStream(&info, client.js, &config, nullptr, nullptr), NATS_OK);
  jsStreamInfo_Destroy(info);
}

// Stores messages 0..count-1 of `queue` as `shmq-bridge out` would.
void store_as_the_bridge_would(const test::JetStreamClient& client, const test::TempQueue& queue, std::uint64_t count) {
  const std::string instance = shmq_bridge::queue_instance_id(queue.path());
  shmq_sample::PayloadTemplate payloads(64);
  for (std::uint64_t seq = 0; seq < count; ++seq) {
    const std::span<const std::byte> payload = payloads.payload(seq);
    natsMsg* msg = nullptr;
    ASSERT_EQ(natsMsg_Create(&msg, kDupSubject.c_str(), nullptr, reinterpret_cast<const char*>(payload.data()),
                             static_cast<int>(payload.size())),
              NATS_OK);
    natsMsgHeader_Set(msg, shmq_bridge::kMsgIdHeader, shmq_bridge::message_id(instance, seq).c_str());
    natsMsgHeader_Set(msg, shmq_bridge::kInstanceHeader, instance.c_str());
    natsMsgHeader_Set(msg, shmq_bridge::kSequenceHeader, std::to_string(seq).c_str());
    jsPubAck* ack = nullptr;
    ASSERT_EQ(js_PublishMsg(&ack, client.js, msg, nullptr, nullptr), NATS_OK);
    jsPubAck_Destroy(ack);
    natsMsg_Destroy(msg);
  }
}

TEST(BridgeDuplicateWindow, OutResumesAfterTheLastStoredMessageOnceTheWindowHasPassed) {
  test::NatsServer server;
  test::TempQueue a;
  test::TempQueue b;
  create_queue(a.path(), {.capacity = 1 << 20});
  ChildProcess producer(test::producer_argv(a.str(), kDupCount, "64"));
  ASSERT_EQ(producer.exit_code(), 0) << producer.describe();

  test::JetStreamClient client(server.url());
  ASSERT_NO_FATAL_FAILURE(create_stream(client));
  ASSERT_NO_FATAL_FAILURE(store_as_the_bridge_would(client, a, kStoredByPredecessor));
  std::this_thread::sleep_for(3 * kDuplicateWindow);  // the scenario: JetStream forgets the ids

  ChildProcess out({SHMQ_BRIDGE_PATH, "out", "--queue", a.str(), "--server", server.url(), "--subject", kDupSubject,
                    "--stream", kDupStream, "--count", std::to_string(kDupCount)});
  ASSERT_EQ(out.exit_code(), 0) << out.describe();
  EXPECT_NE(out.err().find("holds this queue's messages up to sequence " + std::to_string(kStoredByPredecessor - 1)),
            std::string::npos)
      << out.describe();
  EXPECT_EQ(client.stored_messages(kDupStream), kDupCount) << "a message was stored twice (or lost)";

  create_queue(b.path(), {.capacity = 1 << 20});
  ChildProcess consumer(test::verifying_consumer_argv(b.str(), kDupCount));
  ChildProcess in(test::in_argv(server.url(), kDupStream, b.str(), kDupCount));
  ASSERT_EQ(in.exit_code(), 0) << in.describe();
  test::expect_exactly_once_in_order(consumer, kDupCount);
}

const auto* const libnats_environment = ::testing::AddGlobalTestEnvironment(new test::LibnatsEnvironment);

}  // namespace
}  // namespace shmq
