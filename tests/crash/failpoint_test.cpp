// Crash (SIGKILL) at every named step of publish, commit, wake, release, checkpoint, create and
// recovery (src/failpoint.hpp). After each: both checkpoint slots are never invalid at once,
// recovery from them works, and the consumer sees every message, in order, intact, with
// duplicates only of what it had not released.
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
#include "support/fake_system.hpp"
#include "support/temp_queue.hpp"
#include "workload.hpp"

namespace shmq {
namespace {

using namespace crash_test;

// Runs `body` in a child with SHMQ_FAILPOINT=spec and expects the failpoint to kill it.
void expect_killed_at(const std::string& spec, const std::function<int()>& body) {
  test::ChildProcess child([&] {
    ::setenv("SHMQ_FAILPOINT", spec.c_str(), 1);
    return body();
  });
  const int status = child.wait();
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "failpoint " << spec << " was not hit (exit status " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1) << ")";
}

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
                                           "recovery.after_slot_write", "recovery.after_slot_sync"),
                         param_name);

TEST(CreateFailpoint, CrashBeforeRenameLeavesNothingUnderTheName) {
  test::TempQueue q("/tmp");
  expect_killed_at("create.before_rename", [&] {
    create_queue(q.path(), durable_options());
    return 0;
  });
  EXPECT_FALSE(std::filesystem::exists(q.path())) << "a half-created queue is visible";
  // The temporary file is left behind by the crash (hidden, never opened as a queue): clean it.
  const std::string prefix = "." + q.path().filename().string() + ".creating.";
  int leftovers = 0;
  for (const auto& e : std::filesystem::directory_iterator(q.path().parent_path())) {
    if (e.path().filename().string().rfind(prefix, 0) == 0) {
      std::filesystem::remove(e.path());
      ++leftovers;
    }
  }
  EXPECT_EQ(leftovers, 1);
  create_queue(q.path(), durable_options());  // and the name is free
}

}  // namespace
}  // namespace shmq
