// shmq-consumer --verify catches every payload that is lost, repeated or damaged on the way: this
// process plays the producer and slips such payloads in among good ones.
#include <cstdint>
#include <string>
#include <vector>

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

std::vector<std::byte> generated(std::uint64_t sequence, std::size_t size = 64) {
  std::vector<std::byte> bytes(size);
  shmq_sample::write_payload(bytes, sequence);
  return bytes;
}

TEST(ConsumerVerify, EveryLostRepeatedOrDamagedPayloadIsCounted) {
  constexpr std::uint64_t kGood = 10'000;
  test::TempQueue q;
  create_queue(q.path(), {.capacity = 4 << 20});
  {
    Producer producer = Producer::open(q.path());
    for (std::uint64_t s = 0; s < kGood; ++s) ASSERT_TRUE(producer.send(generated(s)));
    const std::uint64_t next = producer.next_sequence();
    ASSERT_TRUE(producer.send(generated(next - 1)));  // the previous payload again
    ASSERT_TRUE(producer.send(generated(next + 2)));  // the payload after it: this one was lost
    std::vector<std::byte> flipped = generated(next + 2);
    flipped[50] ^= std::byte{1};  // one bit of the filler
    ASSERT_TRUE(producer.send(flipped));
    std::vector<std::byte> truncated = generated(next + 3);
    truncated.pop_back();
    ASSERT_TRUE(producer.send(truncated));
    ASSERT_TRUE(producer.send(generated(next + 4)));  // and a good one to end with
  }
  ChildProcess consumer({SHMQ_CONSUMER_PATH, "--queue", q.str(), "--verify", "--json"});
  EXPECT_EQ(consumer.exit_code(), shmq_sample::kExitDamaged) << consumer.describe();
  const nlohmann::json s = nlohmann::json::parse(test::last_line(consumer.out()));
  EXPECT_EQ(s.value("messages", 0ULL), kGood + 5) << s.dump();
  EXPECT_EQ(s.value("corrupt", 0ULL), 4U) << s.dump();
  EXPECT_EQ(s.value("gaps", 1ULL) + s.value("duplicates", 1ULL), 0U) << "the queue's own sequence is whole" << s.dump();
  for (const char* cause : {"embedded sequence number differs", "checksum mismatch"}) {
    EXPECT_NE(consumer.err().find(cause), std::string::npos) << consumer.describe();
  }
}

}  // namespace
}  // namespace shmq
