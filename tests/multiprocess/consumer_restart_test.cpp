// shmq-producer outlives its consumer: when the consumer leaves while the queue is full, the
// producer says once that it waits and for whom, and the next consumer gets the rest without a
// gap; --exit-on-consumer-gone restores the exit with status 3 for scripts that want it.
#include <cstdint>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "shmq/shmq.hpp"
#include "shmq_sample/exit_codes.hpp"
#include "shmq_sample/payload.hpp"
#include "support/child_process.hpp"
#include "support/temp_queue.hpp"

namespace shmq {
namespace {

using test::ChildProcess;
using test::ProgramIo;

constexpr std::uint64_t kProducerSends = 20'000;  // 1.1 MB of records: many times the 64 KiB ring
constexpr std::uint64_t kFirstConsumerTakes = 100;
const std::string kWaitNotice = "is gone and the queue is full: waiting for the next consumer to attach";

// Plays a first consumer that takes a few messages and leaves while the ring is full.
void consume_a_few_and_leave(const std::filesystem::path& queue) {
  Consumer consumer = Consumer::open(queue);
  for (std::uint64_t i = 0; i < kFirstConsumerTakes; ++i) {
    Result<Message> m = consumer.receive_for(test::kHangDetector);
    ASSERT_TRUE(m) << to_string(m.status());
    ASSERT_EQ(shmq_sample::check_payload(m->bytes, m->sequence), shmq_sample::PayloadCheck::ok);
  }
  consumer.release();
}

std::size_t occurrences(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(ProducerAndConsumerRestart, ProducerWaitsForTheNextConsumerWhichGetsTheRest) {
  test::TempQueue q;
  create_queue(q.path(), {.capacity = 64 * 1024});
  ChildProcess producer(
      {SHMQ_PRODUCER_PATH, "--queue", q.str(), "--count", std::to_string(kProducerSends), "--size", "40"});
  ASSERT_NO_FATAL_FAILURE(consume_a_few_and_leave(q.path()));
  ASSERT_TRUE(
      test::eventually([&] { return producer.err().find(kWaitNotice) != std::string::npos || !producer.running(); }));
  ASSERT_TRUE(producer.running()) << "the producer must wait for the next consumer" << producer.describe();

  ChildProcess consumer({SHMQ_CONSUMER_PATH, "--queue", q.str(), "--verify", "--json"});
  ASSERT_EQ(producer.exit_code(), 0) << producer.describe();
  ASSERT_EQ(consumer.exit_code(), 0) << consumer.describe();
  EXPECT_EQ(occurrences(producer.err(), kWaitNotice), 1U) << producer.describe();
  EXPECT_NE(producer.err().find(q.str()), std::string::npos) << "the notice names the queue" << producer.describe();
  const nlohmann::json s = nlohmann::json::parse(test::last_line(consumer.out()));
  EXPECT_EQ(s.value("first_sequence", 0ULL), kFirstConsumerTakes) << s.dump();
  EXPECT_EQ(s.value("last_sequence", 0ULL), kProducerSends - 1) << s.dump();
  EXPECT_EQ(s.value("messages", 0ULL), kProducerSends - kFirstConsumerTakes) << s.dump();
  EXPECT_EQ(s.value("gaps", 1ULL) + s.value("duplicates", 1ULL) + s.value("corrupt", 1ULL), 0U) << s.dump();
}

TEST(ProducerAndConsumerRestart, ExitOnConsumerGoneExitsWithStatusThree) {
  test::TempQueue q;
  create_queue(q.path(), {.capacity = 64 * 1024});
  ChildProcess producer({SHMQ_PRODUCER_PATH, "--queue", q.str(), "--count", std::to_string(kProducerSends), "--size",
                         "40", "--exit-on-consumer-gone"});
  ASSERT_NO_FATAL_FAILURE(consume_a_few_and_leave(q.path()));
  EXPECT_EQ(producer.exit_code(), shmq_sample::kExitPeerGone) << producer.describe();
  EXPECT_NE(producer.err().find("is gone and the queue is full: stopping"), std::string::npos) << producer.describe();
}

}  // namespace
}  // namespace shmq
