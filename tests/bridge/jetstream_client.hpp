// The tests' own libnats connection, to look at what JetStream holds.
#pragma once

#include <cstdint>
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
};

// Closes libnats once the tests are done (its threads and global state; LeakSanitizer checks).
class LibnatsEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { nats_Close(); }
};

}  // namespace shmq::test
