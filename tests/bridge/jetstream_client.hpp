// The tests' own libnats connection, to look at what JetStream holds.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <nats/nats.h>

namespace shmq::test {

struct JetStreamClient {
  natsConnection* connection = nullptr;
  jsCtx* js = nullptr;

  explicit JetStreamClient(const std::string& url) {
    EXPECT_EQ(natsConnection_ConnectTo(&connection, url.c_str()), NATS_OK);
    EXPECT_EQ(natsConnection_JetStream(&js, connection, nullptr), NATS_OK);
  }
  ~JetStreamClient() {
    jsCtx_Destroy(js);
    natsConnection_Destroy(connection);
  }
  JetStreamClient(const JetStreamClient&) = delete;
  JetStreamClient& operator=(const JetStreamClient&) = delete;

  // How many messages the stream holds.
  std::uint64_t stored_messages(const std::string& stream) const {
    jsStreamInfo* info = nullptr;
    EXPECT_EQ(js_GetStreamInfo(&info, js, stream.c_str(), nullptr, nullptr), NATS_OK);
    const std::uint64_t messages = info != nullptr ? info->State.Msgs : 0;
    jsStreamInfo_Destroy(info);
    return messages;
  }

  // Creates a file-storage stream of one subject; `adjust` changes the configuration first.
  void add_stream(const std::string& stream, const std::string& subject,
                  const std::function<void(jsStreamConfig&)>& adjust = {}) const {
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    config.Name = stream.c_str();
    const char* subjects[] = {subject.c_str()};
    config.Subjects = subjects;
    config.SubjectsLen = 1;
    config.Storage = js_FileStorage;
    if (adjust) adjust(config);
    jsStreamInfo* info = nullptr;
    jsErrCode error = static_cast<jsErrCode>(0);
    EXPECT_EQ(js_AddStream(&info, js, &config, nullptr, &error), NATS_OK) << "error " << error;
    jsStreamInfo_Destroy(info);
  }

  // The headers of the message at stream sequence `sequence` (empty when there is none).
  std::map<std::string, std::string> headers_at(const std::string& stream, std::uint64_t sequence) const {
    std::map<std::string, std::string> headers;
    natsMsg* msg = nullptr;
    if (js_GetMsg(&msg, js, stream.c_str(), sequence, nullptr, nullptr) != NATS_OK) return headers;
    for (const char* key : {"Nats-Msg-Id", "Shmq-Instance", "Shmq-Sequence"}) {
      const char* value = nullptr;
      if (natsMsgHeader_Get(msg, key, &value) == NATS_OK) headers[key] = value;
    }
    natsMsg_Destroy(msg);
    return headers;
  }

  // The consumer's max_ack_pending (-1 when it does not exist).
  std::int64_t max_ack_pending(const std::string& stream, const std::string& consumer) const {
    jsConsumerInfo* info = nullptr;
    if (js_GetConsumerInfo(&info, js, stream.c_str(), consumer.c_str(), nullptr, nullptr) != NATS_OK) return -1;
    const std::int64_t value = info->Config->MaxAckPending;
    jsConsumerInfo_Destroy(info);
    return value;
  }
};

// Closes libnats once the tests are done (its threads and global state; LeakSanitizer checks).
class LibnatsEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { nats_Close(); }
};

}  // namespace shmq::test
