// Kill storm: kill -9 of the producer, the consumer or both at random moments, each restarted
// on the same durable queue, again and again. In the end the consumers have seen every sequence
// number, none corrupt, and duplicates only of messages received after the last release.
// SHMQ_KILL_STORM_ITERATIONS sets the number of kills (CI: 200; the `soak` target: 10,000).
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shmq/shmq.hpp"
#include "support/child_process.hpp"
#include "support/temp_queue.hpp"

namespace shmq {
namespace {

constexpr std::uint64_t kTotal = 200'000;
constexpr std::uint64_t kReleaseEvery = 5;
constexpr std::uint64_t kRunStart = ~std::uint64_t{0};  // log marker: a consumer run starts; its first sequence follows
constexpr std::uint64_t kCorrupt = ~std::uint64_t{0} - 1;  // log marker: an invalid message was received

std::vector<std::byte> payload(std::uint64_t seq) {
  std::vector<std::byte> b(8 + seq % 200);
  std::memcpy(b.data(), &seq, 8);
  for (std::size_t i = 8; i < b.size(); ++i) b[i] = static_cast<std::byte>((seq * 7 + i) & 0xff);
  return b;
}

int produce(const std::filesystem::path& queue) {
  OpenOptions wait_for_consumer;
  wait_for_consumer.wait.return_on_peer_gone = false;
  Producer p = Producer::open(queue, wait_for_consumer);
  while (p.next_sequence() < kTotal) {
    if (!p.send(payload(p.next_sequence()))) return 2;
  }
  return 0;
}

int consume(const std::filesystem::path& queue, int log_fd) {
  OpenOptions wait_for_producer;
  wait_for_producer.wait.return_on_peer_gone = false;
  Consumer c = Consumer::open(queue, wait_for_producer);
  const std::uint64_t start[2] = {kRunStart, c.next_sequence()};
  if (::write(log_fd, start, sizeof start) != sizeof start) return 3;
  if (start[1] == kTotal) return 0;
  for (std::uint64_t n = 1;; ++n) {
    Result<Message> m = c.receive();
    if (!m) return 4;
    std::uint64_t seq = m->sequence;
    const std::vector<std::byte> expected = payload(seq);
    if (m->bytes.size() != expected.size() || std::memcmp(m->bytes.data(), expected.data(), expected.size()) != 0) {
      seq = kCorrupt;
    }
    if (::write(log_fd, &seq, 8) != 8) return 5;
    if (m->sequence + 1 == kTotal) {
      c.release();
      return 0;
    }
    if (n % kReleaseEvery == 0) c.release();
  }
}

TEST(KillStorm, RandomKillsOfEitherSideLoseNothing) {
  const char* env = std::getenv("SHMQ_KILL_STORM_ITERATIONS");
  const int iterations = env != nullptr ? std::atoi(env) : 200;
  const std::uint64_t seed = test::test_seed();
  std::printf("seed %llu, %d kills (set SHMQ_TEST_SEED to repeat)\n", static_cast<unsigned long long>(seed),
              iterations);
  std::mt19937_64 rng(seed);
  test::TempQueue q("/tmp");
  test::TempQueue log;
  CreateOptions options;
  options.capacity = 64 * 1024;
  options.durable = true;
  options.checkpoints = {.bytes = 16 * 1024, .interval = std::chrono::milliseconds(1)};
  create_queue(q.path(), options);
  const int log_fd = ::open(log.path().c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  ASSERT_GE(log_fd, 0);

  std::optional<test::ChildProcess> producer;
  std::optional<test::ChildProcess> consumer;
  int kills[3] = {0, 0, 0};
  for (int k = 0; k < iterations; ++k) {
    if (!producer) producer.emplace([&] { return produce(q.path()); });
    if (!consumer) consumer.emplace([&] { return consume(q.path(), log_fd); });
    // A random moment: how long the pair runs before the kill (not a synchronisation).
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 3000));
    const int victim = static_cast<int>(rng() % 3);
    ++kills[victim];
    if (victim != 1) producer.reset();  // SIGKILL and reap
    if (victim != 0) consumer.reset();
  }
  std::printf("killed the producer alone %d times, the consumer alone %d, both %d\n", kills[0], kills[1], kills[2]);
  if (!producer) producer.emplace([&] { return produce(q.path()); });
  if (!consumer) consumer.emplace([&] { return consume(q.path(), log_fd); });
  EXPECT_TRUE(consumer->exited_cleanly()) << "the last consumer did not finish";
  EXPECT_TRUE(producer->exited_cleanly()) << "the last producer did not finish";

  std::vector<std::uint64_t> entries(static_cast<std::size_t>(::lseek(log_fd, 0, SEEK_END)) / 8);
  ASSERT_EQ(::pread(log_fd, entries.data(), entries.size() * 8, 0), static_cast<ssize_t>(entries.size() * 8));
  ::close(log_fd);
  std::uint64_t next_new = 0;  // one past the highest sequence seen so far
  std::uint64_t expected = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t runs = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (entries[i] == kRunStart) {
      ASSERT_LT(i + 1, entries.size());
      expected = entries[++i];
      ++runs;
      ASSERT_LE(expected, next_new) << "run " << runs << " skipped messages " << expected << ".." << next_new;
      ASSERT_LE(next_new - expected, kReleaseEvery) << "run " << runs << " redelivered released messages";
      continue;
    }
    ASSERT_NE(entries[i], kCorrupt) << "a corrupt message was delivered after " << expected;
    ASSERT_EQ(entries[i], expected) << "out of order in run " << runs;
    if (expected < next_new) ++duplicates;
    ++expected;
    next_new = std::max(next_new, expected);
  }
  EXPECT_EQ(next_new, kTotal) << "not every message was delivered";
  std::printf("%llu consumer runs, %llu duplicates (all after the last release of a killed run)\n",
              static_cast<unsigned long long>(runs), static_cast<unsigned long long>(duplicates));
}

}  // namespace
}  // namespace shmq
