// kill -9 of either side, at a random moment: nothing committed is lost, nothing released comes
// back, the survivor learns of the death, and a restarted process attaches at once.
#include <atomic>
#include <optional>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "layout.hpp"
#include "shmq/shmq.hpp"
#include "support/child_process.hpp"
#include "support/temp_queue.hpp"

namespace shmq {
namespace {

constexpr auto kHangDetector = std::chrono::seconds(60);

OpenOptions quick_liveness(bool return_on_peer_gone = true) {
  OpenOptions o;
  o.wait.liveness_interval = std::chrono::milliseconds(10);
  o.wait.return_on_peer_gone = return_on_peer_gone;
  return o;
}

std::span<const std::byte> bytes_of(const std::uint64_t& v) { return std::as_bytes(std::span(&v, 1)); }
std::uint64_t value_of(const Message& m) {
  std::uint64_t v = 0;
  std::memcpy(&v, m.bytes.data(), std::min(m.bytes.size(), sizeof v));
  return v;
}

// Polls `condition` until it holds; fails the test at the deadline instead of hanging.
template <class F>
bool eventually(F condition) {
  const auto until = std::chrono::steady_clock::now() + kHangDetector;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

TEST(PeerDeath, ProducerKilledMidStream) {
  const std::uint64_t seed = test::test_seed();
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  test::TempQueue q;
  create_queue(q.path(), {.capacity = 16 * 1024});
  Consumer consumer = Consumer::open(q.path(), quick_liveness());
  test::ChildProcess producer([&] {
    Producer p = Producer::open(q.path());
    for (std::uint64_t seq = 0;; ++seq) {
      if (!p.send(bytes_of(seq))) return 5;
    }
  });
  // Kill it after a random number of messages, with the ring in a random state.
  const std::uint64_t kill_after = 1000 + std::mt19937_64(seed)() % 50'000;
  std::uint64_t expected = 0;
  for (; expected < kill_after; ++expected) {
    Result<Message> m = consumer.receive_for(kHangDetector);
    ASSERT_TRUE(m) << to_string(m.status());
    ASSERT_EQ(m->sequence, expected);
    ASSERT_EQ(value_of(*m), expected);
    consumer.release();
  }
  producer.kill_hard();
  // Every message the producer published arrives, then "producer gone".
  for (;;) {
    Result<Message> m = consumer.receive_for(kHangDetector);
    if (!m) {
      EXPECT_EQ(m.status(), Status::peer_gone);
      break;
    }
    ASSERT_EQ(m->sequence, expected);
    ASSERT_EQ(value_of(*m), expected);
    ++expected;
    consumer.release();
  }
  // A restarted producer attaches at once and continues the sequence.
  Producer restarted = Producer::open(q.path());
  EXPECT_EQ(restarted.next_sequence(), expected);
  const std::uint64_t next = 424242;
  ASSERT_TRUE(restarted.send(bytes_of(next)));
  Result<Message> m = consumer.receive_for(kHangDetector);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->sequence, expected);
  EXPECT_EQ(value_of(*m), next);
}

TEST(PeerDeath, ConsumerKilledMidStreamRestartedConsumerResumesWithoutGap) {
  const std::uint64_t seed = test::test_seed();
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  constexpr std::uint64_t kTotal = 200'000;
  constexpr std::uint64_t kReleaseEvery = 10;
  test::TempQueue q;
  test::TempQueue seen;  // the child appends every sequence it received, before releasing it
  create_queue(q.path(), {.capacity = 8 * 1024});
  const int seen_fd = ::open(seen.path().c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  ASSERT_GE(seen_fd, 0);

  Producer producer = Producer::open(q.path(), quick_liveness(false));  // waits for a new consumer
  std::thread sender([&] {
    for (std::uint64_t seq = 0; seq < kTotal; ++seq) ASSERT_TRUE(producer.send(bytes_of(seq)));
  });

  test::ChildProcess child([&] {
    Consumer c = Consumer::open(q.path());
    for (std::uint64_t n = 1;; ++n) {
      Result<Message> m = c.receive();
      if (!m) return 5;
      const std::uint64_t sequence = m->sequence;
      if (::write(seen_fd, &sequence, sizeof sequence) != sizeof sequence) return 6;
      if (n % kReleaseEvery == 0) c.release();
    }
  });
  const std::uint64_t kill_after = 1000 + std::mt19937_64(seed)() % (kTotal / 2);
  ASSERT_TRUE(eventually([&] { return static_cast<std::uint64_t>(::lseek(seen_fd, 0, SEEK_END)) >= kill_after * 8; }));
  child.kill_hard();

  std::vector<std::uint64_t> first_run(static_cast<std::size_t>(::lseek(seen_fd, 0, SEEK_END)) / 8);
  ASSERT_EQ(::pread(seen_fd, first_run.data(), first_run.size() * 8, 0), static_cast<ssize_t>(first_run.size() * 8));
  ::close(seen_fd);
  for (std::uint64_t i = 0; i < first_run.size(); ++i) ASSERT_EQ(first_run[i], i) << "first run out of order";

  Consumer restarted = Consumer::open(q.path());
  const std::uint64_t resume = restarted.next_sequence();
  EXPECT_LE(resume, first_run.size()) << "gap: messages never delivered";
  EXPECT_LE(first_run.size() - resume, kReleaseEvery) << "redelivered more than the unreleased messages";
  for (std::uint64_t expected = resume; expected < kTotal; ++expected) {
    Result<Message> m = restarted.receive_for(kHangDetector);
    ASSERT_TRUE(m) << to_string(m.status());
    ASSERT_EQ(m->sequence, expected);
    ASSERT_EQ(value_of(*m), expected);
    restarted.release();
  }
  sender.join();
}

TEST(PeerDeath, SecondProducerIsRefusedWithTheHoldersPidThenAttachesOnceItDies) {
  test::TempQueue q;
  create_queue(q.path());
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  test::ChildProcess holder([&] {
    Producer p = Producer::open(q.path());
    const char byte = 1;
    if (::write(ready[1], &byte, 1) != 1) return 7;
    for (;;) ::pause();
  });
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);  // the child is attached
  try {
    (void)Producer::open(q.path());
    FAIL() << "a second producer attached";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::role_taken);
    EXPECT_NE(std::string(e.what()).find("pid " + std::to_string(holder.pid())), std::string::npos) << e.what();
  }
  holder.kill_hard();
  EXPECT_NO_THROW((void)Producer::open(q.path())) << "the kernel dropped the dead holder's lock";
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST(PeerDeath, ProducerBlockedOnFullQueueLearnsThatTheConsumerDied) {
  test::TempQueue q;
  create_queue(q.path(), {.capacity = 4096});
  Producer producer = Producer::open(q.path(), quick_liveness());
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  test::ChildProcess consumer([&] {
    Consumer c = Consumer::open(q.path());
    const char byte = 1;
    if (::write(ready[1], &byte, 1) != 1) return 7;
    for (;;) ::pause();  // attached, never reads
  });
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  const std::uint64_t v = 1;
  while (producer.try_send(bytes_of(v))) {
  }
  consumer.kill_hard();
  EXPECT_EQ(producer.send(bytes_of(v)).status(), Status::peer_gone);
  ::close(ready[0]);
  ::close(ready[1]);
}

// The parked waiter's announcement flag, read through a mapping of our own.
class WaitFlags {
 public:
  explicit WaitFlags(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    header_ = static_cast<const layout::Header*>(::mmap(nullptr, sizeof(layout::Header), PROT_READ, MAP_SHARED, fd, 0));
    ::close(fd);
  }
  ~WaitFlags() { ::munmap(const_cast<layout::Header*>(header_), sizeof(layout::Header)); }
  bool consumer_parked() const { return header_->data_ready.waiting.load() != 0; }
  bool producer_parked() const { return header_->space_ready.waiting.load() != 0; }

 private:
  const layout::Header* header_;
};

OpenOptions hour_long_liveness() {
  OpenOptions o;
  o.wait.spin = std::chrono::nanoseconds(0);
  o.wait.liveness_interval = std::chrono::hours(1);
  return o;
}

// A peer that detaches cleanly wakes the parked waiter, which must then ask about liveness at once,
// not at its next liveness interval (an hour here: without the check the hang detector fails).
TEST(PeerDeath, ParkedConsumerLearnsAtOnceThatTheProducerDetached) {
  test::TempQueue q;
  std::optional<Producer> producer(Producer::create(q.path()));
  Consumer consumer = Consumer::open(q.path(), hour_long_liveness());
  WaitFlags flags(q.path());
  std::atomic<int> outcome{-1};
  std::thread waiter([&] { outcome = static_cast<int>(consumer.receive().status()); });
  ASSERT_TRUE(eventually([&] { return flags.consumer_parked(); }));
  producer.reset();  // clean detach
  const bool returned = eventually([&] { return outcome.load() >= 0; });
  if (!returned) {  // unblock the waiter before failing
    Producer rescue = Producer::open(q.path());
    (void)rescue.send("rescue");
  }
  waiter.join();
  EXPECT_TRUE(returned) << "the parked consumer slept through the producer's clean detach";
  EXPECT_EQ(outcome.load(), static_cast<int>(Status::peer_gone));
}

TEST(PeerDeath, ParkedProducerLearnsAtOnceThatTheConsumerDetached) {
  test::TempQueue q;
  Producer producer = Producer::create(q.path(), {.capacity = 4096}, hour_long_liveness());
  std::optional<Consumer> consumer(Consumer::open(q.path()));
  const std::uint64_t v = 1;
  while (producer.try_send(bytes_of(v))) {
  }
  WaitFlags flags(q.path());
  std::atomic<int> outcome{-1};
  std::thread waiter([&] { outcome = static_cast<int>(producer.send(bytes_of(v)).status()); });
  ASSERT_TRUE(eventually([&] { return flags.producer_parked(); }));
  consumer.reset();  // clean detach
  const bool returned = eventually([&] { return outcome.load() >= 0; });
  if (!returned) {  // unblock the waiter before failing
    Consumer rescue = Consumer::open(q.path());
    while (rescue.try_receive()) {
    }
    rescue.release();
  }
  waiter.join();
  EXPECT_TRUE(returned) << "the parked producer slept through the consumer's clean detach";
  EXPECT_EQ(outcome.load(), static_cast<int>(Status::peer_gone));
}

TEST(PeerDeath, WaiterKilledWhileParkedCostsNothingButAWake) {
  test::TempQueue q;
  create_queue(q.path());
  test::ChildProcess parked([&] {
    Consumer c = Consumer::open(q.path());
    (void)c.receive();  // parks on the empty queue
    return 0;
  });
  ASSERT_TRUE(eventually([&] {
    const int fd = ::open(q.path().c_str(), O_RDONLY);
    std::uint32_t waiting = 0;
    const bool ok = ::pread(fd, &waiting, 4, offsetof(layout::Header, data_ready) + 4) == 4;
    ::close(fd);
    return ok && waiting == 1;
  }));
  parked.kill_hard();
  Producer producer = Producer::open(q.path());
  for (std::uint64_t i = 0; i < 1000; ++i) ASSERT_TRUE(producer.send(bytes_of(i)));
  Consumer c = Consumer::open(q.path());
  std::uint64_t n = 0;
  while (c.poll([&](const Message& m) { EXPECT_EQ(m.sequence, n++); }) > 0) {
  }
  EXPECT_EQ(n, 1000u);
}

}  // namespace
}  // namespace shmq
