#include "support/reopen_scenario.hpp"

#include <optional>

#include <gtest/gtest.h>

#include "support/fake_system.hpp"

namespace shmq::test {

CreateOptions small_durable_queue() {
  CreateOptions o;
  o.capacity = 16 * 1024;
  o.durable = true;
  o.checkpoints = kExplicitOnly;
  return o;
}

std::string reopen_text(std::uint64_t seq) { return "message " + std::to_string(seq) + std::string(180, '.'); }

void send_ten(Producer& p) {
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(p.send(reopen_text(p.next_sequence())));
}

void drain(Consumer& c) {
  while (c.poll([](const Message&) {}) > 0) {
  }
}

void second_producer_runs_until_the_power_fails(const std::filesystem::path& path, DiskImage& disk) {
  Producer p = Producer::open(path, {.checkpoints = kExplicitOnly});
  Consumer c = Consumer::open(path);
  drain(c);
  disk.cut_at_next_msync(DiskImage::kSlotPages[0], DiskImage::kSlotPages[1]);
  for (int i = 0; i < 1000 && !disk.cut(); ++i) (void)p.try_send(reopen_text(p.next_sequence()));
  ASSERT_TRUE(disk.cut()) << "the producer never needed a checkpoint";
}

void recover_and_check(const std::filesystem::path& disk_copy, std::uint64_t acknowledged) {
  FakeSystem after;
  after.reboot();
  std::optional<Consumer> c;
  try {
    c.emplace(Consumer::open(disk_copy));
  } catch (const Error& e) {
    FAIL() << "messages acknowledged durable were lost: " << e.what();
  }
  const RecoveryReport report = c->recovery_report();
  ASSERT_TRUE(report.ran);
  EXPECT_GE(report.next_sequence, acknowledged) << "a message acknowledged durable was lost";
  std::uint64_t expected = report.read_sequence;
  while (c->poll([&](const Message& m) {
    EXPECT_EQ(m.sequence, expected);
    EXPECT_EQ(m.text(), reopen_text(m.sequence));
    ++expected;
  }) > 0) {
  }
  EXPECT_EQ(expected, report.next_sequence);
}

}  // namespace shmq::test
