// fork() does not hand a role to the child: the child of a process that holds the producer role
// does not keep it alive after the parent dies, and destroying the child's copy of a Producer
// leaves the parent's queue alone (lib/src/fork_guard.hpp).
#include <csignal>
#include <cstring>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "shmq/shmq.hpp"
#include "support/child_process.hpp"
#include "support/temp_queue.hpp"

namespace shmq {
namespace {

constexpr auto kForkHangDetector = std::chrono::seconds(30);

std::string text_of(const Message& m) {
  return std::string(reinterpret_cast<const char*>(m.bytes.data()), m.bytes.size());
}

TEST(Fork, TheChildDoesNotKeepADeadParentsRoleAlive) {
  test::TempQueue q;
  create_queue(q.path(), {.capacity = 4096});
  int ready[2];
  int hold[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(hold), 0);
  test::ChildProcess parent([&] {
    ::close(ready[0]);
    ::close(hold[1]);
    Producer producer = Producer::open(q.path());
    if (!producer.try_send("before the fork").ok()) return 2;
    const pid_t child = ::fork();
    if (child == 0) {  // lives, holding its copies, until the test closes `hold`
      char b;
      [[maybe_unused]] const ssize_t n = ::read(hold[0], &b, 1);
      ::_exit(0);
    }
    if (child < 0 || ::write(ready[1], &child, sizeof child) != sizeof child) return 3;
    for (;;) ::pause();  // until the test kills it
  });
  ::close(ready[1]);
  ::close(hold[0]);
  pid_t child = 0;
  ASSERT_EQ(::read(ready[0], &child, sizeof child), static_cast<ssize_t>(sizeof child));
  ::close(ready[0]);

  OpenOptions options;
  options.wait.liveness_interval = std::chrono::milliseconds(10);
  Consumer consumer = Consumer::open(q.path(), options);
  Result<Message> first = consumer.receive_for(kForkHangDetector);
  ASSERT_TRUE(first.ok()) << to_string(first.status());
  EXPECT_EQ(text_of(*first), "before the fork");
  consumer.release();

  parent.kill_hard();
  const Result<Message> end = consumer.receive_for(kForkHangDetector);
  EXPECT_EQ(end.status(), Status::peer_gone);
  EXPECT_NO_THROW((void)Producer::open(q.path()));  // a restarted producer attaches at once
  EXPECT_EQ(::kill(child, 0), 0) << "the fork's child must still be alive for this test to mean anything";
  ::close(hold[1]);  // the child exits
}

// The copy's destructor must not publish what the parent staged, write the attach fields, or
// join the checkpointer thread (it exists only in the parent): a durable queue, so there is one.
TEST(Fork, DestroyingTheChildsCopyLeavesTheParentsProducerAlone) {
  test::TempQueue q(std::filesystem::temp_directory_path());
  CreateOptions create;
  create.capacity = 64 * 1024;
  create.durable = true;
  create.checkpoints = {.bytes = 0, .interval = std::chrono::milliseconds(1)};
  create_queue(q.path(), create);
  Producer producer = Producer::open(q.path());
  Consumer consumer = Consumer::open(q.path());
  ASSERT_TRUE(producer.try_send("published").ok());
  ASSERT_TRUE(producer.try_send("staged", Publish::later).ok());

  test::ChildProcess child([&] {
    { Producer copy = std::move(producer); }  // destroyed here, in the child
    return 0;
  });
  EXPECT_TRUE(child.exited_cleanly());  // a join of the parent's thread would hang (hang detector)

  Result<Message> m = consumer.try_receive();
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(text_of(*m), "published");
  EXPECT_EQ(consumer.try_receive().status(), Status::would_block);  // the copy published nothing
  EXPECT_THROW((void)Producer::open(q.path()), Error);              // the parent still holds the role
  producer.publish();
  m = consumer.try_receive();
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(text_of(*m), "staged");
  consumer.release();
  EXPECT_NO_THROW(producer.sync());
}

}  // namespace
}  // namespace shmq
