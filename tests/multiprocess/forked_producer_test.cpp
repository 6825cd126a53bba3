// Library-level multi-process test: a forked child is the producer, this process the consumer.
// Ten million messages of random sizes (from 33 bytes to the largest the ring takes), each the
// generated payload of shmq-producer (its sequence number and a checksum); the parent checks the
// order, the size, the content, and that nothing is missing or repeated.
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "shmq/shmq.hpp"
#include "shmq_sample/payload.hpp"
#include "support/child_process.hpp"
#include "support/temp_queue.hpp"

namespace shmq {
namespace {

constexpr std::uint64_t kMessages = 10'000'000;
constexpr std::uint64_t kCapacity = std::uint64_t{1} << 20;
constexpr std::size_t kLargest = kCapacity - 40;  // two record headers and 8 bytes of alignment (options.hpp)
// The largest size drawn: up to the whole ring. A message over half the ring that meets the end
// of the ring needs its padding released before it fits (RingWriter::room_needed).
constexpr std::size_t kLargestDrawn = kLargest;

// Mostly small messages, some large ones, and now and then one up to kLargestDrawn.
std::size_t draw_size(std::mt19937_64& rng) {
  const std::uint64_t kind = rng() % 1000;
  const std::uint64_t r = rng();
  if (kind < 700) return shmq_sample::kMinPayloadSize + r % 32;
  if (kind < 950) return 65 + r % 960;
  if (kind < 999) return 1025 + r % 15360;
  return 16385 + r % (kLargestDrawn - 16384 + 1);
}

TEST(ForkedProducer, TenMillionRandomSizedMessagesArriveInOrderIntact) {
  const std::uint64_t seed = test::test_seed();
  std::printf("seed %llu (set SHMQ_TEST_SEED to repeat)\n", static_cast<unsigned long long>(seed));
  test::TempQueue q;
  create_queue(q.path(), {.capacity = kCapacity});

  test::ChildProcess child([&] {
    Producer producer = Producer::open(q.path());
    if (producer.max_message_size() != kLargest) return 2;
    std::mt19937_64 sizes(seed);
    std::mt19937_64 publish(seed + 1);
    for (std::uint64_t i = 0; i < kMessages; ++i) {
      Result<Reservation> room = producer.reserve_for(draw_size(sizes), test::kHangDetector);
      if (!room) {
        std::fprintf(stderr, "child: reserve for message %llu: %s\n", static_cast<unsigned long long>(i),
                     to_string(room.status()));
        return 3;
      }
      if (room->sequence() != i) return 4;
      shmq_sample::write_payload(room->bytes(), room->sequence());
      // Sometimes at once, mostly staged: staged messages become visible in batches.
      room->commit(publish() % 8 == 0 ? Publish::now : Publish::later);
    }
    return 0;  // the Producer's destructor publishes what is staged, then detaches
  });

  Consumer consumer = Consumer::open(q.path());  // opened after the fork: the child holds no consumer lock
  std::mt19937_64 sizes(seed);
  std::uint64_t expected = 0;
  std::string failure;
  const auto check = [&](const Message& m) {
    if (!failure.empty()) return;
    const std::size_t size = draw_size(sizes);
    const shmq_sample::PayloadCheck content = shmq_sample::check_payload(m.bytes, m.sequence);
    if (m.sequence != expected) {
      failure = "expected sequence " + std::to_string(expected) + ", got " + std::to_string(m.sequence);
    } else if (m.bytes.size() != size) {
      failure = "message " + std::to_string(m.sequence) + " has " + std::to_string(m.bytes.size()) +
                " bytes, it was sent with " + std::to_string(size);
    } else if (content != shmq_sample::PayloadCheck::ok) {
      failure = "message " + std::to_string(m.sequence) + ": " + shmq_sample::to_string(content);
    }
    ++expected;
  };
  while (expected < kMessages && failure.empty()) {
    if (consumer.poll(check, 4096) > 0) continue;
    Result<Message> m = consumer.receive_for(test::kHangDetector);
    ASSERT_TRUE(m) << "after " << expected << " messages: " << to_string(m.status());
    check(*m);
    consumer.release();  // never wait while holding a message: it may fill the ring
  }
  ASSERT_TRUE(failure.empty()) << failure;
  // The child has sent everything; once it detaches the drained queue reports peer_gone.
  Result<Message> end = consumer.receive_for(test::kHangDetector);
  EXPECT_EQ(end.status(), Status::peer_gone) << (end ? "an extra message " + std::to_string(end->sequence) : "");
  EXPECT_TRUE(child.exited_cleanly());
}

}  // namespace
}  // namespace shmq
