// Two threads, one mapping: TSan sees every access of both sides. Positions start just below
// 2^64 and the futex words just below 2^32, so the overflow paths run in every run.
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

void start_futex_words_near_wrap(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  const std::uint32_t epoch = 0xFFFF'FFF0u;
  ASSERT_EQ(::pwrite(fd, &epoch, 4, offsetof(layout::Header, data_ready)), 4);
  ASSERT_EQ(::pwrite(fd, &epoch, 4, offsetof(layout::Header, space_ready)), 4);
  ::close(fd);
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

void run_two_threads(std::uint64_t count, std::chrono::nanoseconds spin, bool zero_copy, bool checksums) {
  const std::uint64_t seed = test::test_seed();
  std::printf("seed %llu (set SHMQ_TEST_SEED to repeat)\n", static_cast<unsigned long long>(seed));
  test::TempQueue q;
  create_queue(q.path(), {.capacity = 64 * 1024, .checksums = checksums, .initial_position = kNearWrap & ~std::uint64_t{7}});
  start_futex_words_near_wrap(q.path());
  OpenOptions options;
  options.wait.spin = spin;
  Producer producer = Producer::open(q.path(), options);
  Consumer consumer = Consumer::open(q.path(), options);

  std::thread sender([&] {
    std::mt19937_64 sizes(seed);
    std::vector<std::byte> buffer(1024);
    for (std::uint64_t seq = 0; seq < count; ++seq) {
      const std::size_t size = sizes() % 300;
      if (zero_copy) {
        Result<Reservation> r = producer.reserve(size);
        ASSERT_TRUE(r);
        fill(r->bytes().data(), size, seq);
        ASSERT_EQ(r->commit(seq % 16 == 0 ? Publish::now : Publish::later), seq);
      } else {
        fill(buffer.data(), size, seq);
        Result<std::uint64_t> sent = producer.send(std::span(buffer.data(), size));
        ASSERT_TRUE(sent);
        ASSERT_EQ(*sent, seq);
      }
    }
    producer.publish();
  });

  std::mt19937_64 sizes(seed);
  std::uint64_t expected = 0;
  std::uint64_t bad = 0;
  while (expected < count) {
    Result<Message> m = consumer.receive();
    ASSERT_TRUE(m) << to_string(m.status());
    if (m->sequence != expected || m->bytes.size() != sizes() % 300 || !matches(m->bytes, expected)) ++bad;
    ++expected;
    if (expected % 7 == 0) consumer.release();  // batches of several messages
  }
  consumer.release();
  sender.join();
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(consumer.try_receive().status(), Status::would_block);
}

#if defined(__SANITIZE_THREAD__)
// TSan runs this about 50x slower; a million random-sized messages still wrap the ring thousands
// of times and cross every interleaving TSan can observe.
constexpr std::uint64_t kMessages = 1'000'000;
#else
constexpr std::uint64_t kMessages = 10'000'000;
#endif

TEST(TwoThreads, TenMillionRandomSizedMessagesCopyingOneMillionUnderTSan) { run_two_threads(kMessages, std::chrono::microseconds(20), false, false); }
TEST(TwoThreads, ZeroCopyWithChecksumsAndShortSpins) { run_two_threads(kMessages / 10, std::chrono::nanoseconds(0), true, true); }

}  // namespace
}  // namespace shmq
