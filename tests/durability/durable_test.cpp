// Durable mode on a real file system: checkpoints, the three watermarks, policies, and a failed
// sync that stays failed.
#include <cerrno>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "checkpoint.hpp"
#include "layout.hpp"
#include "queue_file.hpp"
#include "shmq/shmq.hpp"
#include "support/fake_system.hpp"
#include "support/temp_queue.hpp"

namespace shmq {
namespace {

using test::TempQueue;

constexpr CheckpointPolicy kExplicitOnly{.bytes = 0, .interval = std::chrono::milliseconds(0)};

CreateOptions durable(std::uint64_t capacity = 64 * 1024, CheckpointPolicy policy = kExplicitOnly) {
  CreateOptions o;
  o.capacity = capacity;
  o.durable = true;
  o.checkpoints = policy;
  return o;
}

layout::Checkpoint newest(const std::filesystem::path& path) {
  detail::QueueFile f = detail::QueueFile::open(path, detail::Access::read_only, {});
  const auto c = detail::newest_checkpoint(f.header(), f.identity());
  EXPECT_TRUE(c.has_value());
  return c.value_or(layout::Checkpoint{});
}

template <class F>
bool eventually(F condition) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

TEST(Durable, CreateWritesTheFirstCheckpointAndTurnsChecksumsOn) {
  TempQueue q("/tmp");
  create_queue(q.path(), durable());
  const layout::Checkpoint c = newest(q.path());
  EXPECT_EQ(c.counter, 1u);
  EXPECT_EQ(c.write_position, 0u);
  EXPECT_EQ(c.write_sequence, 0u);
  detail::QueueFile f = detail::QueueFile::open(q.path(), detail::Access::read_only, {});
  EXPECT_NE(f.identity().flags & layout::kFlagChecksums, 0u);
  EXPECT_NE(f.identity().flags & layout::kFlagDurable, 0u);
}

TEST(Durable, SyncMakesEverythingSentDurableAndReportsIt) {
  TempQueue q("/tmp");
  Producer p = Producer::create(q.path(), durable());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(p.send("message"));
  EXPECT_EQ(p.watermarks().durable, 0u);
  EXPECT_EQ(p.sync(), 10u);
  Watermarks w = p.watermarks();
  EXPECT_TRUE(w.durable_mode);
  EXPECT_EQ(w.published, 10u);
  EXPECT_EQ(w.durable, 10u);
  EXPECT_EQ(w.consumed, 0u);
  const layout::Checkpoint c = newest(q.path());
  EXPECT_EQ(c.counter, 2u);
  EXPECT_EQ(c.write_sequence, 10u);
  EXPECT_EQ(c.write_position, 10u * layout::record_size(7));
}

TEST(Durable, ConsumerPositionIsCheckpointedToo) {
  TempQueue q("/tmp");
  Producer p = Producer::create(q.path(), durable());
  Consumer c = Consumer::open(q.path());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(p.send("m"));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(c.try_receive());
  c.release();
  p.sync();
  EXPECT_EQ(newest(q.path()).read_position, 4u * layout::record_size(1));
  EXPECT_EQ(c.watermarks().durable, 10u);
  EXPECT_EQ(c.watermarks().consumed, 4u);
}

TEST(Durable, WaitDurableCoversTheMessage) {
  TempQueue q("/tmp");
  Producer p = Producer::create(q.path(), durable());
  const std::uint64_t seq = *p.send("important");
  p.wait_durable(seq);
  EXPECT_GT(p.watermarks().durable, seq);
  EXPECT_THROW(p.wait_durable(seq + 5), Error) << "not sent yet";
}

// Released records need not reach the disk (recovery starts at the checkpoint's read position):
// a checkpoint syncs the ring only for records not yet released, and always its slot.
TEST(Durable, CheckpointSyncsOnlyRecordsNotYetReleased) {
  TempQueue q("/tmp");
  Producer p = Producer::create(q.path(), durable());
  Consumer c = Consumer::open(q.path());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(p.send("released"));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.try_receive());
  c.release();
  test::FakeSystem fake;  // forwards to the real calls and counts them
  EXPECT_EQ(p.sync(), 3u);
  EXPECT_EQ(fake.msync_calls(), 1) << "all released: only the checkpoint slot is synced";
  ASSERT_TRUE(p.send("waiting"));
  EXPECT_EQ(p.sync(), 4u);
  EXPECT_EQ(fake.msync_calls(), 3) << "one unreleased record: the ring, then the slot";
  EXPECT_EQ(newest(q.path()).read_position, 3u * layout::record_size(8));
}

// With a background policy the producer also asks for a checkpoint each time half the ring has
// been published, so the checkpointed read position (below which space is reused) keeps up.
TEST(Durable, HalfARingPublishedAsksForACheckpoint) {
  TempQueue q("/tmp");
  // An interval no test outlives: only the half-ring request can take a checkpoint here.
  Producer p = Producer::create(q.path(), durable(64 * 1024, {.bytes = 0, .interval = std::chrono::hours(1)}));
  const std::string m(1000, 'h');
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(p.send(m));  // 40 records of 1016 bytes: past 32 KiB
  EXPECT_TRUE(eventually([&] { return p.watermarks().durable >= 32; }));
}

TEST(Durable, SyncOnANonDurableQueueIsAUsageError) {
  TempQueue q;
  Producer p = Producer::create(q.path());
  try {
    (void)p.sync();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::usage);
  }
}

TEST(Durable, BytesPolicyCheckpointsWithoutBeingAsked) {
  TempQueue q("/tmp");
  Producer p =
      Producer::create(q.path(), durable(64 * 1024, {.bytes = 4096, .interval = std::chrono::milliseconds(0)}));
  const std::string m(1000, 'b');
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(p.send(m));  // > 4096 bytes published
  EXPECT_TRUE(eventually([&] { return p.watermarks().durable >= 4; }));
}

TEST(Durable, IntervalPolicyCheckpointsWithoutBeingAsked) {
  TempQueue q("/tmp");
  Producer p = Producer::create(q.path(), durable(64 * 1024, {.bytes = 0, .interval = std::chrono::milliseconds(5)}));
  ASSERT_TRUE(p.send("tick"));
  EXPECT_TRUE(eventually([&] { return p.watermarks().durable == 1; }));
}

TEST(Durable, OpenOverridesThePolicyStoredAtCreate) {
  TempQueue q("/tmp");
  create_queue(q.path(), durable(64 * 1024, kExplicitOnly));
  OpenOptions o;
  o.checkpoints = CheckpointPolicy{.bytes = 0, .interval = std::chrono::milliseconds(5)};
  Producer p = Producer::open(q.path(), o);
  ASSERT_TRUE(p.send("tick"));
  EXPECT_TRUE(eventually([&] { return p.watermarks().durable == 1; }));
}

// The producer reuses space only once a checkpoint has recorded its release: with explicit
// checkpoints only, a full ring still moves, because the producer takes the checkpoint itself.
TEST(Durable, ReleasedSpaceIsReusedOnlyAfterACheckpoint) {
  TempQueue q("/tmp");
  Producer p = Producer::create(q.path(), durable(4096));
  Consumer c = Consumer::open(q.path());
  const std::string m(200, 'r');
  int sent = 0;
  while (p.try_send(m)) ++sent;
  while (c.try_receive()) {
  }
  c.release();
  const std::uint64_t before = newest(q.path()).counter;
  ASSERT_TRUE(p.try_send(m)) << "released space must become usable";
  const layout::Checkpoint after = newest(q.path());
  EXPECT_GT(after.counter, before) << "reuse needed a checkpoint";
  // 18 records; the padding to the ring's end needs the first one's header for the commit word
  // after it, so the failing try_send staged nothing.
  EXPECT_EQ(static_cast<std::uint64_t>(sent) * layout::record_size(200), 3888u);
  EXPECT_EQ(after.read_position, 3888u);
}

TEST(Durable, CleanDetachLeavesEverythingDurable) {
  TempQueue q("/tmp");
  {
    Producer p = Producer::create(q.path(), durable());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(p.send("x"));
  }
  EXPECT_EQ(newest(q.path()).write_sequence, 3u);
}

// ---- injected I/O errors ----

TEST(DurableErrors, FailedMsyncIsStickyAndFatal) {
  for (int err : {EIO, ENOSPC}) {
    TempQueue q("/tmp");
    Producer p = Producer::create(q.path(), durable());
    ASSERT_TRUE(p.send("a"));
    ASSERT_EQ(p.sync(), 1u);
    test::FakeSystem fake;
    fake.fail_msync(err, 1, 1);  // fail once, then "succeed" (fsyncgate: the data may be gone)
    ASSERT_TRUE(p.send("b"));
    try {
      (void)p.sync();
      FAIL() << "sync succeeded over a failed msync";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::io);
      EXPECT_EQ(e.sys_errno(), err);
      EXPECT_NE(std::string(e.what()).find(q.str()), std::string::npos);
    }
    // The next msync would succeed, but nothing is acknowledged any more and every call fails.
    EXPECT_THROW((void)p.sync(), Error);
    EXPECT_THROW((void)p.send("c"), Error);
    EXPECT_THROW(p.wait_durable(1), Error);
    EXPECT_EQ(p.watermarks().durable, 1u);
    EXPECT_EQ(newest(q.path()).write_sequence, 1u) << "no checkpoint after the failure";
  }
}

TEST(DurableErrors, FailedCheckpointSlotSyncIsFatalToo) {
  TempQueue q("/tmp");
  Producer p = Producer::create(q.path(), durable());
  test::FakeSystem fake;
  ASSERT_TRUE(p.send("a"));
  fake.fail_msync(EIO, 2, 1);  // the ring syncs, the slot does not
  EXPECT_THROW((void)p.sync(), Error);
  EXPECT_EQ(p.watermarks().durable, 0u);
  EXPECT_THROW((void)p.sync(), Error);
}

TEST(DurableErrors, InterruptedCallsAreRetried) {
  TempQueue q("/tmp");
  test::FakeSystem fake;
  fake.interrupt(3);  // fallocate and fsync at create
  Producer p = Producer::create(q.path(), durable());
  ASSERT_TRUE(p.send("a"));
  fake.interrupt(5);
  EXPECT_EQ(p.sync(), 1u);
}

TEST(DurableErrors, FallocateAndFsyncFailuresFailCreateAndLeaveNothing) {
  TempQueue q("/tmp");
  {
    test::FakeSystem fake;
    fake.fail_fallocate(ENOSPC);
    try {
      create_queue(q.path(), durable());
      FAIL();
    } catch (const Error& e) {
      EXPECT_EQ(e.sys_errno(), ENOSPC);
    }
    EXPECT_FALSE(std::filesystem::exists(q.path()));
  }
  {
    test::FakeSystem fake;
    fake.fail_fsync(EIO);
    try {
      create_queue(q.path(), durable());
      FAIL();
    } catch (const Error& e) {
      EXPECT_EQ(e.sys_errno(), EIO);
    }
    EXPECT_FALSE(std::filesystem::exists(q.path()));
  }
}

}  // namespace
}  // namespace shmq
