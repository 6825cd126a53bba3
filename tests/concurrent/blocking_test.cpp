// Cross-process ping-pong through blocking receive. A lost wakeup would leave one side asleep:
// the liveness poll is turned off (a one-hour interval) so that it cannot hide one, and every
// wait has a generous deadline that fails the test instead of hanging CI.
#include <cstring>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "layout.hpp"
#include "shmq/shmq.hpp"
#include "support/child_process.hpp"
#include "support/temp_queue.hpp"

namespace shmq {
namespace {

constexpr auto kHangDetector = std::chrono::seconds(60);

std::uint32_t read_epoch(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  std::uint32_t epoch = 0;
  if (::pread(fd, &epoch, 4, offsetof(layout::Header, data_ready)) != 4) epoch = 0;
  ::close(fd);
  return epoch;
}

// `handoffs` messages cross (half each way). Returns how many times the parent's consumer was
// woken through the futex.
std::uint32_t ping_pong(std::uint64_t handoffs, std::chrono::nanoseconds spin) {
  test::TempQueue ping;
  test::TempQueue pong;
  create_queue(ping.path(), {.capacity = 4096});
  create_queue(pong.path(), {.capacity = 4096});
  OpenOptions options;
  options.wait.spin = spin;
  options.wait.liveness_interval = std::chrono::hours(1);

  test::ChildProcess echo([&] {
    Consumer in = Consumer::open(ping.path(), options);
    Producer out = Producer::open(pong.path(), options);
    for (std::uint64_t i = 0; i < handoffs / 2; ++i) {
      Result<Message> m = in.receive_for(kHangDetector);
      if (!m) return 10;
      std::uint64_t value = 0;
      std::memcpy(&value, m->bytes.data(), sizeof value);
      in.release();
      if (value != i || !out.send(std::as_bytes(std::span(&value, 1)))) return 11;
    }
    return 0;
  });

  Producer out = Producer::open(ping.path(), options);
  Consumer in = Consumer::open(pong.path(), options);
  const std::uint32_t epoch_before = read_epoch(pong.path());
  for (std::uint64_t i = 0; i < handoffs / 2; ++i) {
    EXPECT_TRUE(out.send(std::as_bytes(std::span(&i, 1))));
    Result<Message> m = in.receive_for(kHangDetector);
    if (!m) {
      ADD_FAILURE() << "round trip " << i << ": " << to_string(m.status()) << " (a lost wakeup?)";
      break;
    }
    std::uint64_t value = 0;
    std::memcpy(&value, m->bytes.data(), sizeof value);
    in.release();
    if (value != i) {
      ADD_FAILURE() << "round trip " << i << " echoed " << value;
      break;
    }
  }
  EXPECT_TRUE(echo.exited_cleanly());
  return read_epoch(pong.path()) - epoch_before;
}

TEST(BlockingPingPong, OneMillionHandoffsWithSpinning) {
  const std::uint32_t wakes = ping_pong(1'000'000, std::chrono::microseconds(50));
  std::printf("futex wakes of the parent: %u\n", wakes);
}

TEST(BlockingPingPong, ParkingOnEveryHandoff) {
  const std::uint64_t handoffs = 40'000;
  const std::uint32_t wakes = ping_pong(handoffs, std::chrono::nanoseconds(0));
  std::printf("futex wakes of the parent: %u of %llu receives\n", wakes, static_cast<unsigned long long>(handoffs / 2));
  EXPECT_GT(wakes, 0u) << "the futex path never ran";
}

}  // namespace
}  // namespace shmq
