// Two threads, one mapping: TSan sees every access of both sides. Positions start just below
// 2^64 and the futex words just below 2^32, so the overflow paths run in every run (the test
// without spinning checks that both words did pass 2^32).
#include <cstring>
#include <random>
#include <string>
#include <thread>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "layout.hpp"
#include "shmq/shmq.hpp"
#include "support/temp_queue.hpp"

namespace shmq {
namespace {

constexpr std::uint64_t kNearWrap = ~std::uint64_t{0} - 3 * 65536 + 1 - 7;  // rounded down to 8 below

constexpr std::uint32_t kEpochNearWrap = 0xFFFF'FFFEu;  // two wakes from 2^32
constexpr auto kThreadsHangDetector = std::chrono::seconds(120);

void start_futex_words_near_wrap(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  const std::uint32_t epoch = kEpochNearWrap;
  ASSERT_EQ(::pwrite(fd, &epoch, 4, offsetof(layout::Header, data_ready)), 4);
  ASSERT_EQ(::pwrite(fd, &epoch, 4, offsetof(layout::Header, space_ready)), 4);
  ::close(fd);
}

struct Epochs {
  std::uint32_t data_ready = 0;
  std::uint32_t space_ready = 0;
};
Epochs read_epochs(const std::filesystem::path& path) {
  Epochs e;
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (::pread(fd, &e.data_ready, 4, offsetof(layout::Header, data_ready)) != 4) e.data_ready = kEpochNearWrap;
  if (::pread(fd, &e.space_ready, 4, offsetof(layout::Header, space_ready)) != 4) e.space_ready = kEpochNearWrap;
  ::close(fd);
  return e;
}

// Payload of message `seq`: its size from the shared seeded generator, bytes derived from seq.
void fill(std::byte* out, std::size_t size, std::uint64_t seq) {
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::byte>((seq * 31 + i) & 0xff);
}
bool matches(std::span<const std::byte> bytes, std::uint64_t seq) {
  for (std::size_t i = 0; i < bytes.size(); ++i)
    if (bytes[i] != static_cast<std::byte>((seq * 31 + i) & 0xff)) return false;
  return true;
}

// Returns the futex words (epochs) at the end: each wake of a parked side advances its word.
Epochs run_two_threads(std::uint64_t count, std::chrono::nanoseconds spin, bool zero_copy, bool checksums) {
  const std::uint64_t seed = test::test_seed();
  std::printf("seed %llu (set SHMQ_TEST_SEED to repeat)\n", static_cast<unsigned long long>(seed));
  test::TempQueue q;
  create_queue(q.path(),
               {.capacity = 64 * 1024, .checksums = checksums, .initial_position = kNearWrap & ~std::uint64_t{7}});
  start_futex_words_near_wrap(q.path());
  OpenOptions options;
  options.wait.spin = spin;
  Producer producer = Producer::open(q.path(), options);
  Consumer consumer = Consumer::open(q.path(), options);

  // The sender reports a failure instead of asserting: an assertion would end the thread and leave
  // the receiver waiting.
  std::string sender_failure;
  std::thread sender([&] {
    std::mt19937_64 sizes(seed);
    std::vector<std::byte> buffer(1024);
    for (std::uint64_t seq = 0; seq < count && sender_failure.empty(); ++seq) {
      const std::size_t size = sizes() % 300;
      if (zero_copy) {
        Result<Reservation> r = producer.reserve_for(size, kThreadsHangDetector);
        if (!r) {
          sender_failure = "reserve " + std::to_string(seq) + ": " + to_string(r.status());
          break;
        }
        fill(r->bytes().data(), size, seq);
        if (r->commit(seq % 16 == 0 ? Publish::now : Publish::later) != seq)
          sender_failure = "sequence of " + std::to_string(seq);
      } else {
        fill(buffer.data(), size, seq);
        Result<std::uint64_t> sent = producer.send_for(std::span(buffer.data(), size), kThreadsHangDetector);
        if (!sent) {
          sender_failure = "send " + std::to_string(seq) + ": " + to_string(sent.status());
        } else if (*sent != seq) {
          sender_failure = "sequence of " + std::to_string(seq);
        }
      }
    }
    producer.publish();
  });

  std::mt19937_64 sizes(seed);
  std::uint64_t expected = 0;
  std::uint64_t bad = 0;
  while (expected < count) {
    Result<Message> m = consumer.receive_for(kThreadsHangDetector);
    if (!m) {
      ADD_FAILURE() << "receive " << expected << ": " << to_string(m.status());
      break;
    }
    if (m->sequence != expected || m->bytes.size() != sizes() % 300 || !matches(m->bytes, expected)) ++bad;
    ++expected;
    if (expected % 7 == 0) consumer.release();  // batches of several messages
  }
  consumer.release();
  sender.join();
  EXPECT_EQ(sender_failure, "");
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(consumer.try_receive().status(), Status::would_block);
  const Epochs e = read_epochs(q.path());
  std::printf("futex words: data_ready %u wakes, space_ready %u wakes\n", e.data_ready - kEpochNearWrap,
              e.space_ready - kEpochNearWrap);
  return e;
}

// Passed 2^32: the word now reads below where it started.
bool wrapped(std::uint32_t epoch) { return epoch < kEpochNearWrap; }

TEST(TwoThreads, TenMillionRandomSizedMessagesCopying) {
  run_two_threads(10'000'000, std::chrono::microseconds(20), false, false);
}

TEST(TwoThreads, OneMillionZeroCopyWithChecksumsAndNoSpinning) {
  run_two_threads(1'000'000, std::chrono::nanoseconds(0), true, true);
}

// 1 while the side waiting on `line` has announced that it parks.
bool parked(const std::filesystem::path& path, std::size_t line) {
  std::uint32_t waiting = 0;
  const int fd = ::open(path.c_str(), O_RDONLY);
  const bool read = ::pread(fd, &waiting, 4, static_cast<off_t>(line + offsetof(layout::WaitLine, waiting))) == 4;
  ::close(fd);
  return read && waiting == 1;
}

// Whether the random runs above park often enough to pass 2^32 depends on timing; this one parks
// each side three times on purpose, so both futex words pass 2^32 in every run.
TEST(TwoThreads, BothFutexWordsWrapPast2To32) {
  test::TempQueue q;
  create_queue(q.path(), {.capacity = 4096});
  start_futex_words_near_wrap(q.path());
  ASSERT_EQ(read_epochs(q.path()).data_ready, kEpochNearWrap);
  ASSERT_EQ(read_epochs(q.path()).space_ready, kEpochNearWrap);
  OpenOptions options;
  options.wait.spin = std::chrono::nanoseconds(0);
  Producer producer = Producer::open(q.path(), options);
  Consumer consumer = Consumer::open(q.path(), options);
  const std::string message(1000, 'm');  // four fill the ring
  for (int round = 0; round < 3; ++round) {
    // The consumer parks on the empty ring; the producer sends once it is parked.
    std::thread receiver([&] {
      Result<Message> m = consumer.receive_for(kThreadsHangDetector);
      EXPECT_TRUE(m.ok()) << to_string(m.status());
      consumer.release();
    });
    while (!parked(q.path(), offsetof(layout::Header, data_ready))) std::this_thread::yield();
    ASSERT_TRUE(producer.try_send(message).ok());
    receiver.join();

    // The producer parks on the full ring; the consumer makes room once it is parked.
    while (producer.try_send(message).ok()) {
    }
    std::thread sender([&] { EXPECT_TRUE(producer.send_for(message, kThreadsHangDetector).ok()); });
    while (!parked(q.path(), offsetof(layout::Header, space_ready))) std::this_thread::yield();
    while (consumer.try_receive().ok()) {
    }
    consumer.release();
    sender.join();
    while (consumer.try_receive().ok()) {
    }
    consumer.release();
  }
  const Epochs e = read_epochs(q.path());
  // Three wakes or more each (a wake may be repeated), so each word is past 2^32 now.
  EXPECT_GE(static_cast<std::uint32_t>(e.data_ready - kEpochNearWrap), 3u);
  EXPECT_GE(static_cast<std::uint32_t>(e.space_ready - kEpochNearWrap), 3u);
  EXPECT_TRUE(wrapped(e.data_ready)) << e.data_ready;
  EXPECT_TRUE(wrapped(e.space_ready)) << e.space_ready;
}

}  // namespace
}  // namespace shmq
