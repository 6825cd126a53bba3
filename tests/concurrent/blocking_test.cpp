// Cross-process ping-pong through blocking receive. A lost wakeup would leave one side asleep:
// receive() has no deadline and the liveness poll is turned off (a one-hour interval), so nothing
// can hide one; the test waits for both sides with a generous hang detector that fails it
// instead of hanging CI.
#include <cstring>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "layout.hpp"
#include "shmq/shmq.hpp"
#include "waiting.hpp"
#include "support/child_process.hpp"
#include "support/temp_queue.hpp"

namespace shmq {
namespace {

constexpr auto kPingPongHangDetector = std::chrono::seconds(300);

std::uint32_t read_epoch(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  std::uint32_t epoch = 0;
  if (::pread(fd, &epoch, 4, offsetof(layout::Header, data_ready)) != 4) epoch = 0;
  ::close(fd);
  return epoch;
}

// `handoffs` messages cross (half each way) between two child processes that wait in receive()
// with no deadline. Returns how many times the pinger was woken through the futex.
std::uint32_t ping_pong(std::uint64_t handoffs, std::chrono::nanoseconds spin) {
  test::TempQueue ping;
  test::TempQueue pong;
  create_queue(ping.path(), {.capacity = 4096});
  create_queue(pong.path(), {.capacity = 4096});
  OpenOptions options;
  options.wait.spin = spin;
  options.wait.liveness_interval = std::chrono::hours(1);
  const std::uint32_t epoch_before = read_epoch(pong.path());

  // Each side returns 0, or the step at which it went wrong.
  test::ChildProcess echo([&] {
    Consumer in = Consumer::open(ping.path(), options);
    Producer out = Producer::open(pong.path(), options);
    for (std::uint64_t i = 0; i < handoffs / 2; ++i) {
      Result<Message> m = in.receive();
      if (!m) return 10;
      std::uint64_t value = 0;
      std::memcpy(&value, m->bytes.data(), sizeof value);
      in.release();
      if (value != i) return 11;
      if (!out.send(std::as_bytes(std::span(&value, 1)))) return 12;
    }
    return 0;
  });
  test::ChildProcess pinger([&] {
    Producer out = Producer::open(ping.path(), options);
    Consumer in = Consumer::open(pong.path(), options);
    for (std::uint64_t i = 0; i < handoffs / 2; ++i) {
      if (!out.send(std::as_bytes(std::span(&i, 1)))) return 20;
      Result<Message> m = in.receive();
      if (!m) return 21;
      std::uint64_t value = 0;
      std::memcpy(&value, m->bytes.data(), sizeof value);
      in.release();
      if (value != i) return 22;
    }
    return 0;
  });
  // A lost wakeup leaves a side asleep for good (no deadline, no liveness poll to rescue it): the
  // hang detector then kills it and fails the test.
  const int pinger_status = pinger.wait(kPingPongHangDetector);
  EXPECT_TRUE(WIFEXITED(pinger_status) && WEXITSTATUS(pinger_status) == 0) << "pinger: wait status " << pinger_status;
  const int echo_status = echo.wait(std::chrono::seconds(30));  // done, or asleep because the pinger was killed
  EXPECT_TRUE(WIFEXITED(echo_status) && WEXITSTATUS(echo_status) == 0) << "echo: wait status " << echo_status;
  return read_epoch(pong.path()) - epoch_before;
}

// Every receive that finds the queue empty parks at once: each handoff is a FUTEX_WAKE and a
// FUTEX_WAIT, so a million of them run the lost-wakeup window a million times.
TEST(BlockingPingPong, OneMillionHandoffsParkingEveryTime) {
  const std::uint64_t handoffs = 1'000'000;
  const std::uint32_t wakes = ping_pong(handoffs, std::chrono::nanoseconds(0));
  std::printf("futex wakes of the pinger: %u of %llu receives\n", wakes, static_cast<unsigned long long>(handoffs / 2));
  EXPECT_GT(wakes, 0u) << "the futex path never ran";
}

// The default path: spin first, park only when the peer is slow.
TEST(BlockingPingPong, HandoffsWithSpinning) {
  const std::uint32_t wakes = ping_pong(100'000, std::chrono::microseconds(50));
  std::printf("futex wakes of the pinger: %u\n", wakes);
}

// A peer that bumps the epoch and wakes again and again while publishing nothing (broken or
// hostile) must not keep a parked waiter looping with a liveness system call per wake. The bounds
// follow from the protocol (waiting.hpp, kTrustedWakes): at most kTrustedWakes wakes are trusted
// before each nap of at least kPollingPark, plus one liveness check per interval. Without them the
// waiter makes one round, and one check, per bump: tens of thousands here.
TEST(Waiting, APeerThatKeepsBumpingTheEpochCannotKeepAWaiterLooping) {
  layout::WaitLine line{};  // the protocol works on any memory
  const std::atomic<std::uint32_t> waker_fencing{layout::kFencingFull};
  std::atomic<bool> stop{false};
  std::thread bumper([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      line.epoch.fetch_add(1, std::memory_order_seq_cst);
      detail::futex_wake(line.epoch, 1);
    }
  });
  WaitOptions options;
  options.spin = std::chrono::nanoseconds(0);
  options.liveness_interval = std::chrono::milliseconds(50);
  std::int64_t rounds = 0;
  std::int64_t liveness_checks = 0;
  const std::int64_t start = detail::monotonic_ns();
  const Status status = detail::wait_until(
      line, waker_fencing, options, detail::deadline_after(std::chrono::milliseconds(300)),
      [&] {
        ++rounds;
        return false;
      },
      [&] {
        ++liveness_checks;
        return false;
      });
  const std::int64_t elapsed = detail::monotonic_ns() - start;
  stop = true;
  bumper.join();
  EXPECT_EQ(status, Status::timed_out);
  const std::int64_t naps = elapsed / detail::kPollingPark + 1;
  const std::int64_t intervals = elapsed / 50'000'000 + 1;
  EXPECT_LE(liveness_checks, detail::kTrustedWakes * naps + intervals + 1) << "in " << elapsed << " ns";
  EXPECT_LE(rounds, 3 * ((detail::kTrustedWakes + 1) * naps + intervals + 2)) << "in " << elapsed << " ns";
  std::printf("%lld rounds, %lld liveness checks in %lld ms\n", static_cast<long long>(rounds),
              static_cast<long long>(liveness_checks), static_cast<long long>(elapsed / 1'000'000));
}

}  // namespace
}  // namespace shmq
