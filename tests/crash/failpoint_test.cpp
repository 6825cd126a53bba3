// Crash (SIGKILL) at every named step of publish, commit, wake, release, checkpoint, create and
// recovery (src/failpoint.hpp). After each: both checkpoint slots are never invalid at once,
// recovery from them works, and the consumer sees every message, in order, intact, with
// duplicates only of what it had not released.
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checkpoint.hpp"
#include "layout.hpp"
#include "queue_file.hpp"
#include "shmq/shmq.hpp"
#include "support/child_process.hpp"
#include "support/disk_image.hpp"
#include "support/fake_system.hpp"
#include "support/reopen_scenario.hpp"
#include "support/temp_queue.hpp"
#include "workload.hpp"

namespace shmq {
namespace {

using namespace crash_test;

std::string param_name(const ::testing::TestParamInfo<const char*>& p) {
  std::string n = p.param;
  for (char& c : n)
    if (c == '.') c = '_';
  return n;
}

class Failpoint : public ::testing::TestWithParam<const char*> {};

TEST_P(Failpoint, CrashThenRecoverAndResume) {
  const std::string name = GetParam();
  test::TempQueue q("/tmp");
  test::TempQueue log;
  create_queue(q.path(), durable_options());
  expect_killed_at(name + ":2", [&] { return run_workload(q.path(), log.path(), 300); });
  verify_after_crash(q.path(), log.path());
}

INSTANTIATE_TEST_SUITE_P(Steps, Failpoint,
                         ::testing::Values("publish.before_store", "publish.after_store", "commit.after_header",
                                           "release.before_store", "release.after_store", "wake.before_futex",
                                           "checkpoint.after_ring_sync", "checkpoint.after_slot_write",
                                           "checkpoint.after_slot_sync"),
                         param_name);

// A producer killed between writing a checkpoint slot and syncing it leaves a slot that the page
// cache shows and the disk does not have: the next producer must make it durable before it reuses
// the room the slot frees, or a power loss finds the older slot's records overwritten.
TEST(FailpointReopen, ProducerKilledBetweenSlotWriteAndSyncThenThePowerFails) {
  test::TempQueue q("/tmp");
  test::TempQueue image("/tmp");
  test::TempQueue disk_copy("/tmp");
  create_queue(q.path(), test::small_durable_queue());
  std::filesystem::copy_file(q.path(), image.path());
  expect_killed_at("checkpoint.after_slot_write:2", [&] {
    test::DiskImage disk(q.path(), image.path(), test::DiskImage::Start::use_the_image);
    Producer p = Producer::open(q.path(), {.checkpoints = test::kExplicitOnly});
    Consumer c = Consumer::open(q.path());
    test::send_ten(p);
    if (p.sync() != 10) return 3;
    test::drain(c);
    test::send_ten(p);
    (void)p.sync();  // killed after writing the slot, before syncing it
    return 4;
  });
  {
    test::DiskImage disk(q.path(), image.path(), test::DiskImage::Start::use_the_image);
    test::second_producer_runs_until_the_power_fails(q.path(), disk);
    disk.copy_image_to(disk_copy.path());
  }
  test::recover_and_check(disk_copy.path(), 10);
}

class RecoveryFailpoint : public ::testing::TestWithParam<const char*> {};

TEST_P(RecoveryFailpoint, CrashDuringRecoveryThenRecoverAgain) {
  test::TempQueue q("/tmp");
  test::TempQueue log;
  create_queue(q.path(), durable_options());
  ASSERT_EQ(run_workload(q.path(), log.path(), 200), 0);
  test::FakeSystem fake;  // the child inherits it: both see the same "new boot"
  fake.reboot();
  expect_killed_at(GetParam(), [&] {
    (void)Consumer::open(q.path());
    return 0;
  });
  verify_after_crash(q.path(), log.path());
}

INSTANTIATE_TEST_SUITE_P(Steps, RecoveryFailpoint,
                         ::testing::Values("recovery.after_clear", "recovery.after_positions",
                                           "recovery.after_records_sync", "recovery.after_slot_write",
                                           "recovery.after_slot_sync"),
                         param_name);

// Whether `dir` takes files with no name (O_TMPFILE), and /proc can name them: create then leaves
// nothing behind when it crashes.
bool makes_unnamed_files(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  const bool named = ::access(("/proc/self/fd/" + std::to_string(fd)).c_str(), F_OK) == 0;
  ::close(fd);
  return named;
}

class CreateFailpoint : public ::testing::TestWithParam<const char*> {};

TEST_P(CreateFailpoint, CrashBeforeLinkingLeavesNothingUnderTheName) {
  test::TempQueue q(GetParam());
  expect_killed_at("create.before_rename", [&] {
    create_queue(q.path(), durable_options());
    return 0;
  });
  EXPECT_FALSE(std::filesystem::exists(q.path())) << "a half-created queue is visible";
  // Without O_TMPFILE the file was built under a hidden temporary name, which the crash leaves
  // behind (never opened as a queue): clean it.
  const std::string prefix = "." + q.path().filename().string() + ".creating.";
  int leftovers = 0;
  for (const auto& e : std::filesystem::directory_iterator(q.path().parent_path())) {
    if (e.path().filename().string().rfind(prefix, 0) == 0) {
      std::filesystem::remove(e.path());
      ++leftovers;
    }
  }
  EXPECT_EQ(leftovers, makes_unnamed_files(GetParam()) ? 0 : 1);
  std::printf("%s: %s\n", GetParam(), makes_unnamed_files(GetParam()) ? "O_TMPFILE, nothing left" : "temporary name");
  create_queue(q.path(), durable_options());  // and the name is free
}

INSTANTIATE_TEST_SUITE_P(Dirs, CreateFailpoint, ::testing::Values("/tmp", "/dev/shm"),
                         [](const ::testing::TestParamInfo<const char*>& dir) {
                           return std::string(dir.param[1] == 't' ? "tmp" : "dev_shm");
                         });

}  // namespace
}  // namespace shmq
