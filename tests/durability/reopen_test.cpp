// A durable producer opened after another one trusts nothing the page cache shows until it has
// made it durable itself: its predecessor may have been killed between writing a checkpoint slot
// and syncing it, or its msync may have failed, after which Linux marks the pages clean and a
// later msync "succeeds" without writing them (fsyncgate). The disk model keeps only what an msync
// wrote; the power loss uses it as the file.
#include <cerrno>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "shmq/shmq.hpp"
#include "support/fake_system.hpp"
#include "support/reopen_scenario.hpp"
#include "support/temp_queue.hpp"

namespace shmq {
namespace {

using namespace test;

TEST(Reopen, ACheckpointSlotWhoseSyncFailedIsMadeDurableBeforeItIsTrusted) {
  TempQueue q("/tmp");
  TempQueue image("/tmp");
  TempQueue disk_copy("/tmp");
  create_queue(q.path(), small_durable_queue());
  DiskImage disk(q.path(), image.path(), DiskImage::Start::copy_the_file);
  std::uint64_t acknowledged = 0;
  {
    Producer p = Producer::open(q.path(), {.checkpoints = kExplicitOnly});
    Consumer c = Consumer::open(q.path());
    send_ten(p);
    acknowledged = p.sync();
    drain(c);  // released: the next checkpoint lets a producer reuse their room
    send_ten(p);
    disk.fail_next_msync(DiskImage::kSlotPages[0], DiskImage::kSlotPages[1], EIO);
    EXPECT_THROW((void)p.sync(), Error);  // the slot is in the page cache, not on the disk
  }
  second_producer_runs_until_the_power_fails(q.path(), disk);
  disk.copy_image_to(disk_copy.path());
  recover_and_check(disk_copy.path(), acknowledged);
}

// fsyncgate: the ring pages whose msync failed are clean afterwards. A new producer that syncs
// only what changed would acknowledge records that never reached the disk.
TEST(Reopen, RecordsWhoseSyncFailedAreWrittenAgainBeforeANewProducerAcknowledgesThem) {
  TempQueue q("/tmp");
  TempQueue image("/tmp");
  TempQueue disk_copy("/tmp");
  create_queue(q.path(), small_durable_queue());
  DiskImage disk(q.path(), image.path(), DiskImage::Start::copy_the_file);
  {
    Producer p = Producer::open(q.path(), {.checkpoints = kExplicitOnly});
    send_ten(p);
    EXPECT_EQ(p.sync(), 10u);
    send_ten(p);
    disk.fail_next_msync(DiskImage::kFirstRingPage, SIZE_MAX, EIO);
    EXPECT_THROW((void)p.sync(), Error);
  }
  std::uint64_t acknowledged = 0;
  {
    Producer p = Producer::open(q.path(), {.checkpoints = kExplicitOnly});
    acknowledged = p.sync();
    EXPECT_EQ(acknowledged, 20u);
  }
  disk.cut_now();
  disk.copy_image_to(disk_copy.path());
  recover_and_check(disk_copy.path(), acknowledged);
}

// A failure while making the predecessor's state durable again fails the open: nothing is
// acknowledged or reused on the strength of it.
TEST(Reopen, OpenFailsWhenThePredecessorsStateCannotBeMadeDurable) {
  TempQueue q("/tmp");
  create_queue(q.path(), small_durable_queue());
  {
    Producer p = Producer::open(q.path(), {.checkpoints = kExplicitOnly});
    send_ten(p);
  }
  FakeSystem fake;
  fake.fail_msync(EIO, 1, 1);
  try {
    Producer p = Producer::open(q.path());
    FAIL() << "opened although the last checkpoint could not be made durable";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::io);
    EXPECT_EQ(e.sys_errno(), EIO);
    EXPECT_NE(std::string(e.what()).find(q.str()), std::string::npos);
  }
  Producer again = Producer::open(q.path());  // the error was transient: the next open succeeds
  EXPECT_EQ(again.next_sequence(), 10u);
}

}  // namespace
}  // namespace shmq
