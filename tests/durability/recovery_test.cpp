// Recovery after the machine lost its page cache (simulated by a new boot id): from the newest
// checkpoint, keep what validates after it, clear the rest; refuse what cannot be trusted.
#include <cerrno>
#include <cstring>
#include <string>

#include <csignal>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "layout.hpp"
#include "shmq/shmq.hpp"
#include "support/child_process.hpp"
#include "support/disk_image.hpp"
#include "support/fake_system.hpp"
#include "support/temp_queue.hpp"

namespace shmq {
namespace {

using test::TempQueue;

CreateOptions durable(std::uint64_t capacity = 64 * 1024) {
  CreateOptions o;
  o.capacity = capacity;
  o.durable = true;
  o.checkpoints = {.bytes = 0, .interval = std::chrono::milliseconds(0)};
  return o;
}

std::string text(std::uint64_t seq) { return "message number " + std::to_string(seq); }

void patch(const std::filesystem::path& path, std::uint64_t offset, const void* bytes, std::size_t n) {
  const int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, bytes, n, static_cast<off_t>(offset)), static_cast<ssize_t>(n));
  ::close(fd);
}

// Sends `checkpointed` messages and syncs, has the consumer release `consumed` of them, then
// sends `more` that no checkpoint covers. Returns the ring offset of the first uncovered record.
std::uint64_t fill(const std::filesystem::path& path, int checkpointed, int consumed, int more) {
  std::optional<Producer> p(Producer::open(path, {.checkpoints = CheckpointPolicy{0, std::chrono::milliseconds(0)}}));
  Consumer c = Consumer::open(path);
  std::uint64_t seq = 0;
  for (int i = 0; i < checkpointed; ++i) EXPECT_TRUE(p->send(text(seq++)));
  for (int i = 0; i < consumed; ++i) EXPECT_TRUE(c.try_receive());
  c.release();
  EXPECT_EQ(p->sync(), static_cast<std::uint64_t>(checkpointed));
  std::uint64_t offset = 0;
  for (int i = 0; i < checkpointed; ++i) offset += layout::record_size(text(i).size());
  for (int i = 0; i < more; ++i) EXPECT_TRUE(p->try_send(text(seq++)));
  // Simulate a crash of the producer: no final checkpoint on detach.
  p.reset();  // (the destructor syncs; the tests below do not depend on whether it did)
  return offset;
}

std::vector<std::uint64_t> drain(Consumer& c) {
  std::vector<std::uint64_t> seqs;
  while (c.poll([&](const Message& m) {
    EXPECT_EQ(m.text(), text(m.sequence));
    seqs.push_back(m.sequence);
  }) > 0) {
  }
  return seqs;
}

TEST(Recovery, NothingToRecoverInTheSameBoot) {
  TempQueue q("/tmp");
  create_queue(q.path(), durable());
  fill(q.path(), 5, 0, 0);
  Consumer c = Consumer::open(q.path());
  EXPECT_FALSE(c.recovery_report().ran);
}

TEST(Recovery, AfterARebootEverythingValidIsKept) {
  TempQueue q("/tmp");
  test::FakeSystem fake;
  create_queue(q.path(), durable());
  fill(q.path(), 10, 3, 0);
  fake.reboot();
  Consumer c = Consumer::open(q.path());
  const RecoveryReport& r = c.recovery_report();
  EXPECT_TRUE(r.ran);
  EXPECT_EQ(r.durable_sequence, 10u);
  EXPECT_EQ(r.read_sequence, 3u);
  EXPECT_EQ(r.next_sequence, 10u);
  std::vector<std::uint64_t> seqs = drain(c);
  ASSERT_EQ(seqs.size(), 7u);
  EXPECT_EQ(seqs.front(), 3u);
  EXPECT_EQ(seqs.back(), 9u);
  Producer p = Producer::open(q.path());
  EXPECT_FALSE(p.recovery_report().ran) << "recovered once per boot";
  EXPECT_EQ(p.next_sequence(), 10u);
}

TEST(Recovery, TornTailIsCutAtTheFirstInvalidRecordAndCleared) {
  TempQueue q("/tmp");
  test::FakeSystem fake;
  create_queue(q.path(), durable());
  {
    // Records after the checkpoint, then no final checkpoint: open the producer without the
    // destructor's sync by making the final msync fail.
    Producer p = Producer::open(q.path());
    for (std::uint64_t s = 0; s < 10; ++s) ASSERT_TRUE(p.send(text(s)));
    ASSERT_EQ(p.sync(), 10u);
    for (std::uint64_t s = 10; s < 15; ++s) ASSERT_TRUE(p.send(text(s)));
    fake.fail_msync(EIO);
  }
  fake.fail_msync(0);
  // Tear record 12: flip a payload byte.
  std::uint64_t offset = layout::kHeaderSize;
  for (std::uint64_t s = 0; s < 12; ++s) offset += layout::record_size(text(s).size());
  const char junk = '#';
  patch(q.path(), offset + 16 + 3, &junk, 1);

  fake.reboot();
  Producer p = Producer::open(q.path());
  const RecoveryReport& r = p.recovery_report();
  EXPECT_TRUE(r.ran);
  EXPECT_EQ(r.durable_sequence, 10u);
  EXPECT_EQ(r.recovered_messages, 2u);
  EXPECT_EQ(r.next_sequence, 12u);
  EXPECT_NE(r.stopped_because.find("checksum"), std::string::npos) << r.stopped_because;
  EXPECT_EQ(p.next_sequence(), 12u);
  // Records 13 and 14 were valid but followed the tear: cleared, so they can never come back.
  std::vector<char> bytes = test::read_file(q.path());
  for (std::uint64_t i = offset; i < offset + 300; ++i) ASSERT_EQ(bytes[i], 0) << "byte " << i;
  ASSERT_TRUE(p.send("after recovery"));
  Consumer c = Consumer::open(q.path());
  std::vector<std::uint64_t> seqs;
  while (c.poll([&](const Message& m) { seqs.push_back(m.sequence); }) > 0) {
  }
  ASSERT_EQ(seqs.size(), 13u);
  EXPECT_EQ(seqs.back(), 12u);
}

TEST(Recovery, BothCheckpointSlotsInvalidIsRefusedAndTheFileUntouched) {
  TempQueue q("/tmp");
  test::FakeSystem fake;
  create_queue(q.path(), durable());
  fill(q.path(), 4, 0, 0);
  const std::uint64_t garbage = 0xdeadbeef;
  patch(q.path(), offsetof(layout::Header, slot0) + 8, &garbage, 8);
  patch(q.path(), offsetof(layout::Header, slot1) + 8, &garbage, 8);
  fake.reboot();
  const std::vector<char> before = test::read_file(q.path());
  try {
    (void)Consumer::open(q.path());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::damaged_file);
    EXPECT_NE(std::string(e.what()).find("both checkpoint slots"), std::string::npos) << e.what();
  }
  EXPECT_EQ(test::read_file(q.path()), before);
}

TEST(Recovery, OneTornSlotFallsBackToTheOther) {
  TempQueue q("/tmp");
  test::FakeSystem fake;
  create_queue(q.path(), durable());
  fill(q.path(), 4, 0, 0);  // checkpoint 2 (slot 0) covers 4; the destructor's is not taken (nothing new)
  const std::uint64_t garbage = 0xdeadbeef;
  patch(q.path(), offsetof(layout::Header, slot0) + 8, &garbage, 8);  // tear checkpoint 2
  fake.reboot();
  Consumer c = Consumer::open(q.path());
  EXPECT_EQ(c.recovery_report().checkpoint, 1u);
  EXPECT_EQ(c.recovery_report().recovered_messages, 4u) << "valid records after checkpoint 1 are kept";
  EXPECT_EQ(drain(c).size(), 4u);
}

TEST(Recovery, DamagedDurableRecordIsRefusedAndTheFileUntouched) {
  TempQueue q("/tmp");
  test::FakeSystem fake;
  create_queue(q.path(), durable());
  fill(q.path(), 6, 0, 0);
  const char junk = '#';
  patch(q.path(), layout::kHeaderSize + 16 + 2, &junk, 1);  // message 0, made durable by the checkpoint
  fake.reboot();
  const std::vector<char> before = test::read_file(q.path());
  try {
    (void)Producer::open(q.path());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::damaged_file);
    EXPECT_NE(std::string(e.what()).find("checksum"), std::string::npos) << e.what();
  }
  EXPECT_EQ(test::read_file(q.path()), before);
}

TEST(Recovery, FailureDuringRecoveryLeavesItToBeRunAgain) {
  TempQueue q("/tmp");
  test::FakeSystem fake;
  create_queue(q.path(), durable());
  fill(q.path(), 8, 2, 0);
  fake.reboot();
  fake.fail_msync(EIO);
  EXPECT_THROW((void)Consumer::open(q.path()), Error);
  fake.fail_msync(0);
  Consumer c = Consumer::open(q.path());
  EXPECT_TRUE(c.recovery_report().ran);
  EXPECT_EQ(drain(c).size(), 6u);
}

// A held role lock proves the page cache is live: an open that finds another boot's id in the file
// while a peer is attached must not "recover" it (clearing the ring under a reservation the
// producer is filling, resetting positions and waiting flags).
TEST(Recovery, NeverWhileAPeerIsAttached) {
  TempQueue q("/tmp");
  create_queue(q.path(), durable());
  test::FakeSystem fake;
  Producer p = Producer::open(q.path());
  ASSERT_TRUE(p.send("before"));
  Result<Reservation> r = p.try_reserve(5);
  ASSERT_TRUE(r);
  std::memcpy(r->bytes().data(), "hello", 5);
  fake.reboot();  // the file's boot id is no longer this boot's
  Consumer c = Consumer::open(q.path());
  EXPECT_FALSE(c.recovery_report().ran) << "recovered a queue whose producer is attached";
  r->commit();
  Result<Message> first = c.try_receive();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->text(), "before");
  Result<Message> second = c.try_receive();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->text(), "hello") << "the reservation's bytes were cleared under the producer";
}

TEST(Recovery, UnreadableBootIdIsAnErrorNotABootOfZeros) {
  TempQueue q("/tmp");
  create_queue(q.path(), durable());
  fill(q.path(), 5, 0, 0);
  const std::vector<char> before = test::read_file(q.path());
  test::FakeSystem fake;
  fake.fail_boot_id(EMFILE);
  for (const bool producer : {false, true}) {
    try {
      if (producer) {
        (void)Producer::open(q.path());
      } else {
        (void)Consumer::open(q.path());
      }
      FAIL() << "opened without knowing which boot this is";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::io);
      EXPECT_EQ(e.sys_errno(), EMFILE);
      EXPECT_EQ(e.path(), q.path());
      EXPECT_NE(std::string(e.what()).find("boot_id"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(test::read_file(q.path()), before) << "the file was changed";
}

// Records a producer committed but never published (a staged batch) were never sent: after a
// power loss they must not be delivered, even when they validate.
TEST(Recovery, RecordsCommittedButNeverPublishedAreNotDelivered) {
  TempQueue q("/tmp");
  create_queue(q.path(), durable());
  test::ChildProcess producer([&] {
    Producer p = Producer::open(q.path(), {.checkpoints = CheckpointPolicy{0, std::chrono::milliseconds(0)}});
    for (std::uint64_t i = 0; i < 3; ++i)
      if (!p.send(text(i))) return 3;
    if (p.sync() != 3) return 4;
    for (std::uint64_t i = 3; i < 6; ++i)
      if (!p.try_send(text(i), Publish::later)) return 5;
    ::kill(::getpid(), SIGKILL);  // dies with the batch staged: the destructor would publish it
    return 6;
  });
  const int status = producer.wait();
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit " << WEXITSTATUS(status);
  test::FakeSystem fake;
  fake.reboot();  // the page cache "reached the disk" whole: the staged records validate
  Consumer c = Consumer::open(q.path());
  ASSERT_TRUE(c.recovery_report().ran);
  EXPECT_EQ(drain(c), (std::vector<std::uint64_t>{0, 1, 2}));
  EXPECT_EQ(Producer::open(q.path()).next_sequence(), 3u);
}

// A killed producer's staged batch carries commit words in every record but the first. A new
// producer writes records of the same sizes over it, with the same positions and sequences. The
// disk keeps any version of each dirty page: here the header page with the new write position and
// the new first record's page, but the second record's page as the kernel wrote it back while the
// batch was staged. That old record validates (its checksum is keyed by exactly that position and
// sequence) unless the new producer cleared it, durably, before writing over it.
TEST(Recovery, AStagedRecordOverwrittenAfterARestartIsNeverDelivered) {
  TempQueue q("/tmp");
  TempQueue image("/tmp");
  TempQueue disk_copy("/tmp");
  create_queue(q.path(), durable());
  test::DiskImage disk(q.path(), image.path(), test::DiskImage::Start::copy_the_file);
  const CheckpointPolicy explicit_only{0, std::chrono::milliseconds(0)};
  // Three short messages, then A, which ends where the second ring page starts, then B there.
  const std::uint64_t first_three = 3 * layout::record_size(text(0).size());
  const std::size_t a_length = layout::kPageSize - first_three - sizeof(layout::RecordHeader);
  const std::string a_staged(a_length, 'a'), b_staged(100, 'b');
  const std::string a_new(a_length, 'A'), b_new(100, 'B');
  const std::size_t b_page = test::DiskImage::kFirstRingPage + 1;
  test::ChildProcess first([&] {
    Producer p = Producer::open(q.path(), {.checkpoints = explicit_only});
    for (std::uint64_t i = 0; i < 3; ++i)
      if (!p.send(text(i))) return 3;
    if (p.sync() != 3) return 4;
    if (!p.try_send(a_staged, Publish::later) || !p.try_send(b_staged, Publish::later)) return 5;
    disk.write_back(b_page);      // B, committed, as the batch stood
    ::kill(::getpid(), SIGKILL);  // dies with the batch staged (the destructor would publish it)
    return 6;
  });
  const int status = first.wait();
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit " << WEXITSTATUS(status);
  {
    Producer p = Producer::open(q.path(), {.checkpoints = explicit_only});
    ASSERT_EQ(p.next_sequence(), 3u);
    ASSERT_TRUE(p.send(a_new));
    ASSERT_TRUE(p.send(b_new));
    // The power fails before any further sync; then the adversary's choice of page versions: the
    // header page and A's page as the page cache has them, B's page as the disk last had it.
    disk.cut_now();
    disk.copy_image_to(disk_copy.path());
    const std::vector<char> now = test::read_file(q.path());
    for (const std::size_t page : {std::size_t{0}, test::DiskImage::kFirstRingPage}) {
      patch(disk_copy.path(), page * layout::kPageSize, now.data() + page * layout::kPageSize, layout::kPageSize);
    }
  }
  test::FakeSystem fake;
  fake.reboot();
  Consumer c = Consumer::open(disk_copy.path());
  ASSERT_TRUE(c.recovery_report().ran);
  std::vector<std::string> delivered;
  while (c.poll([&](const Message& m) {
    EXPECT_EQ(m.sequence, delivered.size());
    delivered.emplace_back(m.text());
  }) > 0) {
  }
  ASSERT_GE(delivered.size(), 4u);
  EXPECT_EQ(delivered[3], a_new);
  for (std::size_t i = 4; i < delivered.size(); ++i) {
    EXPECT_NE(delivered[i], b_staged) << "message " << i << " was staged by a killed producer, never published";
  }
}

TEST(Repair, BothSlotsInvalidRepairKeepsTheValidRecords) {
  TempQueue q("/tmp");
  test::FakeSystem fake;
  create_queue(q.path(), durable());
  fill(q.path(), 6, 2, 0);
  const std::uint64_t garbage = 0xdeadbeef;
  patch(q.path(), offsetof(layout::Header, slot0) + 8, &garbage, 8);
  patch(q.path(), offsetof(layout::Header, slot1) + 8, &garbage, 8);
  fake.reboot();
  EXPECT_THROW((void)Consumer::open(q.path()), Error);
  const RecoveryReport r = repair_queue(q.path());
  EXPECT_TRUE(r.ran);
  EXPECT_EQ(r.read_sequence, 2u) << "from the consumer's position";
  EXPECT_EQ(r.next_sequence, 6u);
  Consumer c = Consumer::open(q.path());
  EXPECT_FALSE(c.recovery_report().ran) << "repaired in this boot";
  EXPECT_EQ(drain(c).size(), 4u);
}

TEST(Repair, DamagedRecordEndsTheQueueThere) {
  TempQueue q("/tmp");
  test::FakeSystem fake;
  create_queue(q.path(), durable());
  fill(q.path(), 6, 0, 0);
  std::uint64_t offset = layout::kHeaderSize;
  for (std::uint64_t s = 0; s < 3; ++s) offset += layout::record_size(text(s).size());
  const char junk = '#';
  patch(q.path(), offset + 16, &junk, 1);  // message 3
  fake.reboot();
  EXPECT_THROW((void)Producer::open(q.path()), Error);
  // Messages 3 to 5 were handed out (the producer's sequence word says 6): continuing at 3 would
  // hand their numbers out again, to other messages. Repair says so and changes nothing.
  const std::vector<char> before = test::read_file(q.path());
  try {
    (void)repair_queue(q.path());
    FAIL() << "repaired although continuing would reuse sequence numbers";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::damaged_file);
    EXPECT_NE(std::string(e.what()).find("end at sequence 3, but the file shows 6 was reached"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("--next-sequence"), std::string::npos) << e.what();
  }
  EXPECT_EQ(test::read_file(q.path()), before) << "a refused repair changed the file";
  EXPECT_THROW((void)repair_queue(q.path(), {}, RepairOptions{5}), Error) << "below what the file shows";
  // Told where to continue: the ring holds no gap, so the valid records before the damage go too.
  const RecoveryReport r = repair_queue(q.path(), {}, RepairOptions{6});
  EXPECT_EQ(r.next_sequence, 6u);
  EXPECT_EQ(r.recovered_messages, 0u);
  Producer p = Producer::open(q.path());
  EXPECT_EQ(p.next_sequence(), 6u);
}

// Repair's checkpoint vouches for every record it keeps, so they reach the disk before it: here a
// killed producer had published two messages that no checkpoint covered, filling the ring's first
// page exactly (so that repair's clearing of the ring after them syncs no page of theirs), and
// the power fails right after the repair with none of their pages written back by the kernel.
TEST(Repair, TheRecordsItKeepsAreDurableBeforeItsCheckpoint) {
  TempQueue q("/tmp");
  TempQueue image("/tmp");
  TempQueue disk_copy("/tmp");
  create_queue(q.path(), durable());
  test::DiskImage disk(q.path(), image.path(), test::DiskImage::Start::copy_the_file);
  const std::size_t half_page = layout::kPageSize / 2 - sizeof(layout::RecordHeader);
  const std::string first(half_page, 'a'), second(half_page, 'b');
  test::ChildProcess producer([&] {
    Producer p = Producer::open(q.path(), {.checkpoints = CheckpointPolicy{0, std::chrono::milliseconds(0)}});
    if (!p.send(first) || !p.send(second)) return 3;
    ::kill(::getpid(), SIGKILL);  // no final checkpoint
    return 4;
  });
  ASSERT_TRUE(WIFSIGNALED(producer.wait()));
  const RecoveryReport r = repair_queue(q.path());
  ASSERT_EQ(r.next_sequence, 2u);
  disk.cut_now();
  disk.copy_image_to(disk_copy.path());
  test::FakeSystem fake;
  fake.reboot();
  Consumer c = Consumer::open(disk_copy.path());
  ASSERT_TRUE(c.recovery_report().ran);
  std::vector<std::string> got;
  c.poll([&](const Message& m) { got.emplace_back(m.text()); });
  EXPECT_EQ(got, (std::vector<std::string>{first, second}));
}

// A queue whose live region is empty has no record to read the next sequence from: repair takes
// it from the file's sequence words, and never starts again at 0 (an application that drops
// duplicates by sequence would drop every new message).
TEST(Repair, AnEmptyQueueKeepsItsSequence) {
  for (const bool is_durable : {false, true}) {
    SCOPED_TRACE(is_durable ? "durable" : "plain");
    TempQueue q("/tmp");
    CreateOptions options = durable();
    options.durable = is_durable;
    create_queue(q.path(), options);
    {
      Producer p = Producer::open(q.path());
      Consumer c = Consumer::open(q.path());
      for (std::uint64_t i = 0; i < 5; ++i) ASSERT_TRUE(p.send(text(i)));
      EXPECT_EQ(drain(c).size(), 5u);
    }
    const RecoveryReport r = repair_queue(q.path());
    EXPECT_EQ(r.read_sequence, 5u);
    EXPECT_EQ(r.next_sequence, 5u);
    Consumer c = Consumer::open(q.path());
    EXPECT_EQ(c.next_sequence(), 5u);
    Producer p = Producer::open(q.path());
    EXPECT_EQ(p.next_sequence(), 5u);
    EXPECT_EQ(p.send(text(5)).value(), 5u);
    if (is_durable) {
      EXPECT_EQ(c.watermarks().durable, 5u) << "the checkpoint repair wrote";
    }
    EXPECT_EQ(drain(c), (std::vector<std::uint64_t>{5}));
  }
}

// With no record at the read position and every sequence word impossible, nothing in the file
// says where the sequence stands: repair refuses, untouched, until it is told.
TEST(Repair, RefusesWhenNothingTellsTheSequence) {
  TempQueue q("/tmp");
  CreateOptions options = durable();
  options.durable = false;
  create_queue(q.path(), options);
  {
    Producer p = Producer::open(q.path());
    Consumer c = Consumer::open(q.path());
    for (std::uint64_t i = 0; i < 3; ++i) ASSERT_TRUE(p.send(text(i)));
    EXPECT_EQ(drain(c).size(), 3u);
  }
  const std::uint64_t impossible = layout::kCommitted | 3;
  patch(q.path(), offsetof(layout::Header, producer) + offsetof(layout::RoleLine, sequence), &impossible, 8);
  patch(q.path(), offsetof(layout::Header, consumer) + offsetof(layout::RoleLine, sequence), &impossible, 8);
  const std::vector<char> before = test::read_file(q.path());
  try {
    (void)repair_queue(q.path());
    FAIL() << "repaired without knowing the sequence";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::damaged_file);
    EXPECT_NE(std::string(e.what()).find("nothing tells the next sequence number"), std::string::npos) << e.what();
  }
  EXPECT_EQ(test::read_file(q.path()), before);
  EXPECT_EQ(repair_queue(q.path(), {}, RepairOptions{3}).next_sequence, 3u);
  EXPECT_EQ(Producer::open(q.path()).next_sequence(), 3u);
}

TEST(Repair, RefusedWhileAPeerIsAttached) {
  TempQueue q("/tmp");
  create_queue(q.path(), durable());
  Consumer c = Consumer::open(q.path());
  try {
    (void)repair_queue(q.path());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::role_taken);
  }
}

TEST(Recovery, NonDurableQueueIsTakenAsFound) {
  TempQueue q("/tmp");
  test::FakeSystem fake;
  Producer p = Producer::create(q.path());
  ASSERT_TRUE(p.send("kept"));
  fake.reboot();
  Consumer c = Consumer::open(q.path());
  EXPECT_FALSE(c.recovery_report().ran);
  EXPECT_TRUE(c.try_receive());
}

}  // namespace
}  // namespace shmq
