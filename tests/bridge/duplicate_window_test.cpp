// Resuming beyond JetStream's duplicate window: a predecessor of `shmq-bridge out` had JetStream
// store messages 0..K-1 but died before it released them from the queue. Once the stream's
// duplicate window (1 s here) has passed, JetStream would store a resend again; the bridge must
// read the last stored message and resume after it. The test plays the predecessor with libnats
// (the same ids and headers the bridge writes) and waits out the window: that sleep is the
// scenario, not a synchronisation. The same with a predecessor from before the queue's own instance
// id was public: it named the queue by the id it derived from the file, and the upgraded bridge
// must recognise those messages as this queue's (neither resend nor skip them).
#include <chrono>
#include <functional>
#include <optional>
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

// Stores messages 0..count-1 of a queue as `shmq-bridge out` would, under `instance`.
void store_as_the_bridge_would(const test::JetStreamClient& client, const std::string& instance, std::uint64_t count) {
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

// The predecessor stored 0..kStoredByPredecessor-1 under `instance`; out must send only the rest.
void resume_beyond_the_window(const std::function<std::string(const test::TempQueue&)>& instance_of) {
  test::NatsServer server;
  test::TempQueue a;
  test::InQueue b;
  create_queue(a.path(), {.capacity = 1 << 20});
  ChildProcess producer(test::producer_argv(a.str(), kDupCount, "64"));
  ASSERT_EQ(producer.exit_code(), 0) << producer.describe();

  test::JetStreamClient client(server.url());
  ASSERT_NO_FATAL_FAILURE(create_stream(client));
  const std::string instance = instance_of(a);
  ASSERT_NO_FATAL_FAILURE(store_as_the_bridge_would(client, instance, kStoredByPredecessor));
  std::this_thread::sleep_for(3 * kDuplicateWindow);  // the scenario: JetStream forgets the ids

  ChildProcess out({SHMQ_BRIDGE_PATH, "out", "--queue", a.str(), "--server", server.url(), "--subject", kDupSubject,
                    "--stream", kDupStream, "--count", std::to_string(kDupCount)});
  ASSERT_EQ(out.exit_code(), 0) << out.describe();
  EXPECT_NE(out.err().find("holds this queue's messages up to sequence " + std::to_string(kStoredByPredecessor - 1)),
            std::string::npos)
      << out.describe();
  EXPECT_EQ(client.stored_messages(kDupStream), kDupCount) << "a message was stored twice (or lost)";
  EXPECT_EQ(client.headers_at(kDupStream, kDupCount)["Shmq-Instance"], instance) << "one source, one instance";

  create_queue(b.path(), {.capacity = 1 << 20});
  ChildProcess consumer(test::verifying_consumer_argv(b.str(), kDupCount));
  ChildProcess in(test::in_argv(server.url(), kDupStream, b.str(), kDupCount));
  ASSERT_EQ(in.exit_code(), 0) << in.describe();
  test::expect_exactly_once_in_order(consumer, kDupCount);
}

TEST(BridgeDuplicateWindow, OutResumesAfterTheLastStoredMessageOnceTheWindowHasPassed) {
  resume_beyond_the_window([](const test::TempQueue& a) { return shmq_bridge::queue_instance_id(a.path()); });
}

TEST(BridgeDuplicateWindow, AnUpgradedOutRecognisesThisQueuesMessagesUnderTheIdItUsedToDerive) {
  resume_beyond_the_window([](const test::TempQueue& a) {
    const std::optional<std::string> legacy = shmq_bridge::legacy_instance_id(a.path());
    EXPECT_TRUE(legacy) << "/dev/shm records birth times";
    return legacy.value_or("");
  });
}

// The bridge names the source by the queue's own instance id, the one `shmq stat` shows.
TEST(BridgeDuplicateWindow, MessagesCarryTheInstanceIdShmqStatShows) {
  test::NatsServer server;
  test::TempQueue a;
  create_queue(a.path(), {.capacity = 1 << 20});
  ChildProcess producer(test::producer_argv(a.str(), 10, "64"));
  ASSERT_EQ(producer.exit_code(), 0) << producer.describe();
  ChildProcess out(test::out_argv(a.str(), server.url(), "ID", 10));
  ASSERT_EQ(out.exit_code(), 0) << out.describe();
  ChildProcess stat({SHMQ_TOOL_PATH, "stat", "--json", a.str()});
  const test::ProgramRun run = stat.finish();
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string shown = nlohmann::json::parse(run.out).value("instance_id", "");
  ASSERT_EQ(shown.size(), 16U) << run.out;
  test::JetStreamClient client(server.url());
  EXPECT_EQ(client.headers_at("ID", 1)["Shmq-Instance"], shown);
  EXPECT_EQ(client.headers_at("ID", 10)["Nats-Msg-Id"], shown + "-9");
  EXPECT_EQ(shmq_bridge::format_instance(inspect_queue(a.path()).instance_id), shown);
}

const auto* const libnats_environment = ::testing::AddGlobalTestEnvironment(new test::LibnatsEnvironment);

}  // namespace
}  // namespace shmq
