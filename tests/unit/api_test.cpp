// The public API in one process: sequences, zero-copy, batching, restarts, peer states, options.
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "shmq/shmq.hpp"
#include "support/temp_queue.hpp"

namespace shmq {
namespace {

using test::TempQueue;

OpenOptions fast_waits() {
  OpenOptions o;
  o.wait.spin = std::chrono::microseconds(10);
  o.wait.liveness_interval = std::chrono::milliseconds(5);
  return o;
}

std::span<const std::byte> bytes_of(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

TEST(Api, SequenceNumbersStartAtZeroAndFollowSendOrder) {
  TempQueue q;
  Producer p = Producer::create(q.path(), {.capacity = 64 * 1024});
  Consumer c = Consumer::open(q.path());
  for (std::uint64_t i = 0; i < 100; ++i) {
    Result<std::uint64_t> sent = p.send("message " + std::to_string(i));
    ASSERT_TRUE(sent);
    EXPECT_EQ(*sent, i);
  }
  EXPECT_EQ(p.next_sequence(), 100u);
  for (std::uint64_t i = 0; i < 100; ++i) {
    Result<Message> m = c.try_receive();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->sequence, i);
    EXPECT_EQ(m->text(), "message " + std::to_string(i));
  }
  c.release();
  EXPECT_EQ(c.try_receive().status(), Status::would_block);
  EXPECT_EQ(c.next_sequence(), 100u);
}

TEST(Api, FullQueueWouldBlockAndTimesOut) {
  TempQueue q;
  Producer p = Producer::create(q.path(), {.capacity = 4096}, fast_waits());
  Consumer c = Consumer::open(q.path(), fast_waits());
  const std::string m(100, 'x');
  int sent = 0;
  while (p.try_send(m)) ++sent;
  EXPECT_EQ(sent, 4096 / 120);  // 34 records of 120 bytes, and the next commit word in the last 16
  EXPECT_EQ(p.try_send(m).status(), Status::would_block);
  EXPECT_EQ(p.send_for(bytes_of(m), std::chrono::milliseconds(20)).status(), Status::timed_out);
  ASSERT_TRUE(c.try_receive());
  ASSERT_TRUE(c.try_receive());
  EXPECT_EQ(p.try_send(m).status(), Status::would_block) << "nothing released yet";
  c.release();
  // The padding of the last 16 bytes and the commit word after the new record need the second one.
  EXPECT_TRUE(p.try_send(m));
}

TEST(Api, EmptyQueueTimesOutWhileProducerIsAttached) {
  TempQueue q;
  Producer p = Producer::create(q.path(), {}, fast_waits());
  Consumer c = Consumer::open(q.path(), fast_waits());
  EXPECT_EQ(c.receive_for(std::chrono::milliseconds(20)).status(), Status::timed_out);
  EXPECT_TRUE(c.producer_attached());
  EXPECT_TRUE(p.consumer_attached());
}

TEST(Api, ConsumerGetsEveryMessageThenPeerGoneAfterProducerDetaches) {
  TempQueue q;
  std::optional<Producer> p(Producer::create(q.path(), {}, fast_waits()));
  Consumer c = Consumer::open(q.path(), fast_waits());
  ASSERT_TRUE(p->send("one"));
  ASSERT_TRUE(p->try_send("two", Publish::later));  // staged: the destructor publishes it
  p.reset();
  Result<Message> one = c.receive();
  ASSERT_TRUE(one);
  EXPECT_EQ(one->text(), "one");
  Result<Message> two = c.receive();
  ASSERT_TRUE(two);
  EXPECT_EQ(two->text(), "two");
  EXPECT_EQ(c.receive().status(), Status::peer_gone);
  EXPECT_FALSE(c.producer_attached());
  WaitOptions follow = fast_waits().wait;
  follow.return_on_peer_gone = false;
  c.set_wait_options(follow);
  EXPECT_EQ(c.receive_for(std::chrono::milliseconds(20)).status(), Status::timed_out);
}

TEST(Api, ConsumerStartedFirstWaitsForAProducerInsteadOfGivingUp) {
  TempQueue q;
  create_queue(q.path());
  Consumer c = Consumer::open(q.path(), fast_waits());
  EXPECT_EQ(c.receive_for(std::chrono::milliseconds(30)).status(), Status::timed_out);
}

TEST(Api, ZeroCopyReserveCommit) {
  TempQueue q;
  Producer p = Producer::create(q.path());
  Consumer c = Consumer::open(q.path());
  Result<Reservation> r = p.try_reserve(64);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bytes().size(), 64u);
  EXPECT_EQ(r->sequence(), 0u);
  std::memcpy(r->bytes().data(), "zero-copy", 9);
  EXPECT_EQ(r->commit(9), 0u);
  Result<Message> m = c.try_receive();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text(), "zero-copy");
}

TEST(Api, AbandonedReservationIsNeverDelivered) {
  TempQueue q;
  Producer p = Producer::create(q.path());
  Consumer c = Consumer::open(q.path());
  {
    Result<Reservation> r = p.reserve(32);
    ASSERT_TRUE(r);
    std::memset(r->bytes().data(), 'z', 32);
  }  // dropped
  ASSERT_TRUE(p.send("kept"));
  Result<Message> m = c.try_receive();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text(), "kept");
  EXPECT_EQ(m->sequence, 0u) << "an abandoned reservation consumes no sequence number";
  EXPECT_EQ(c.try_receive().status(), Status::would_block);
}

TEST(Api, OneReservationAtATime) {
  TempQueue q;
  Producer p = Producer::create(q.path());
  Result<Reservation> r = p.try_reserve(8);
  ASSERT_TRUE(r);
  try {
    (void)p.try_send("x");
    FAIL() << "send during a reservation";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::usage);
  }
  EXPECT_THROW((void)r->commit(9), Error) << "more than reserved";
  r->abandon();
  EXPECT_TRUE(p.try_send("x"));
}

TEST(Api, MessageLargerThanTheRingIsRefusedWithTheFileName) {
  TempQueue q;
  Producer p = Producer::create(q.path(), {.capacity = 4096});
  Consumer c = Consumer::open(q.path());
  EXPECT_EQ(p.max_message_size(), 4096u - 40u);
  const std::string too_big(4096 - 39, 'x');
  const std::vector<char> before = test::read_file(q.path());
  try {
    (void)p.try_send(too_big);
    FAIL() << "accepted a message larger than the ring";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_EQ(e.path(), q.path());
    EXPECT_NE(std::string(e.what()).find(q.str()), std::string::npos);
  }
  EXPECT_THROW((void)p.send(too_big), Error);
  EXPECT_THROW((void)p.reserve(too_big.size()), Error);
  EXPECT_EQ(test::read_file(q.path()), before) << "a refused message must leave the file unchanged";
  const std::string largest(4096 - 40, 'y');
  ASSERT_TRUE(p.try_send(largest));
  Result<Message> m = c.try_receive();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text(), largest);
}

// The consumer hands back padding it skipped even when it finds no message after it: the producer
// may be waiting for exactly that space (a largest message needs the whole ring).
TEST(Api, SkippedPaddingIsReleasedWhileWaiting) {
  TempQueue q;
  Producer p = Producer::create(q.path(), {.capacity = 4096}, fast_waits());
  Consumer c = Consumer::open(q.path(), fast_waits());
  ASSERT_TRUE(p.send(std::string(100, 'a')));
  ASSERT_TRUE(c.try_receive());
  c.release();
  const std::string largest(p.max_message_size(), 'z');
  std::thread sender([&] { EXPECT_TRUE(p.send(largest)); });
  Result<Message> m = c.receive_for(std::chrono::seconds(60));  // a hang detector, not a timing bound
  ASSERT_TRUE(m) << to_string(m.status());
  EXPECT_EQ(m->text(), largest);
  sender.join();
}

TEST(Api, BatchIsPublishedOnce) {
  TempQueue q;
  Producer p = Producer::create(q.path());
  Consumer c = Consumer::open(q.path());
  std::vector<std::string> texts = {"a", "bb", "ccc"};
  std::vector<std::span<const std::byte>> batch;
  for (auto& t : texts) batch.push_back(bytes_of(t));
  Result<std::uint64_t> first = p.send_batch(batch);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, 0u);
  std::vector<std::string> got;
  EXPECT_EQ(c.poll([&](const Message& m) { got.emplace_back(m.text()); }), 3u);
  EXPECT_EQ(got, texts);
}

TEST(Api, LaterIsInvisibleUntilPublish) {
  TempQueue q;
  Producer p = Producer::create(q.path());
  Consumer c = Consumer::open(q.path());
  ASSERT_TRUE(p.try_send("staged", Publish::later));
  EXPECT_EQ(c.try_receive().status(), Status::would_block);
  p.publish();
  EXPECT_TRUE(c.try_receive());
}

TEST(Api, RestartedProducerContinuesTheSequence) {
  TempQueue q;
  {
    Producer p = Producer::create(q.path());
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(p.send("x"));
  }
  Consumer c = Consumer::open(q.path());
  ASSERT_TRUE(c.try_receive());
  c.release();
  Producer p = Producer::open(q.path());
  EXPECT_EQ(p.next_sequence(), 10u);
  ASSERT_TRUE(p.send("y"));
  std::uint64_t last = 0;
  c.poll([&](const Message& m) { last = m.sequence; });
  EXPECT_EQ(last, 10u);
}

TEST(Api, RestartedConsumerResumesAfterTheLastReleasedMessage) {
  TempQueue q;
  Producer p = Producer::create(q.path());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(p.send(std::to_string(i)));
  {
    Consumer c = Consumer::open(q.path());
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(c.try_receive());
    c.release();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.try_receive());  // received, never released
  }
  Consumer c = Consumer::open(q.path());
  EXPECT_EQ(c.next_sequence(), 4u);
  Result<Message> m = c.try_receive();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->sequence, 4u);
  EXPECT_EQ(m->text(), "4");
}

TEST(Api, SecondProducerAndSecondConsumerAreRefusedWithThePid) {
  TempQueue q;
  Producer p = Producer::create(q.path());
  Consumer c = Consumer::open(q.path());
  const std::string pid = "pid " + std::to_string(::getpid());
  for (int role = 0; role < 2; ++role) {
    try {
      if (role == 0)
        (void)Producer::open(q.path());
      else
        (void)Consumer::open(q.path());
      FAIL() << "second " << (role == 0 ? "producer" : "consumer") << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::role_taken);
      EXPECT_NE(std::string(e.what()).find(pid), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(q.str()), std::string::npos) << e.what();
    }
  }
}

TEST(Api, MovedToHandleKeepsTheRole) {
  TempQueue q;
  create_queue(q.path());
  std::optional<Producer> p(Producer::open(q.path()));
  Producer other = std::move(*p);
  p.reset();
  EXPECT_THROW((void)Producer::open(q.path()), Error) << "the moved-to handle still holds the role";
}

// A message over half the ring needs padding to the ring's end first. try_send stages that
// padding; if the record still does not fit it must publish the padding before saying
// would_block, or the consumer never frees it and every retry fails, even on an empty ring.
// The padding itself needs room for the commit word after it (at the lap start, here the first
// record's header), so it is staged only once that record is released: two rounds, never more.
TEST(Api, TrySendOfAMessageOverHalfTheRingSucceedsOnceTheConsumerCatchesUp) {
  TempQueue q;
  Producer p = Producer::create(q.path(), {.capacity = 4096});
  Consumer c = Consumer::open(q.path());
  ASSERT_TRUE(p.try_send(std::string(2000, 'a')));  // occupies [0, 2016)
  const std::string big(2200, 'b');                 // 2216 bytes: does not fit in [2016, 4096)
  EXPECT_EQ(p.try_send(big).status(), Status::would_block);
  Result<Message> first = c.try_receive();
  ASSERT_TRUE(first);
  c.release();
  EXPECT_FALSE(c.try_receive()) << "nothing else was published";
  EXPECT_EQ(p.try_send(big).status(), Status::would_block) << "the padding is staged and published";
  EXPECT_FALSE(c.try_receive()) << "only padding is left, and the consumer releases it";
  Result<std::uint64_t> sent = p.try_send(big);
  ASSERT_TRUE(sent) << "the retry after the consumer drained an empty ring: " << to_string(sent.status());
  Result<Message> m = c.try_receive();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->sequence, 1u);
  EXPECT_EQ(m->text(), big);
}

TEST(Api, TryReserveOfAMessageOverHalfTheRingSucceedsOnceTheConsumerCatchesUp) {
  TempQueue q;
  Producer p = Producer::create(q.path(), {.capacity = 4096});
  Consumer c = Consumer::open(q.path());
  ASSERT_TRUE(p.try_send(std::string(2000, 'a')));
  EXPECT_EQ(p.try_reserve(2200).status(), Status::would_block);
  ASSERT_TRUE(c.try_receive());
  c.release();
  EXPECT_FALSE(c.try_receive());
  EXPECT_EQ(p.try_reserve(2200).status(), Status::would_block) << "the padding is staged and published";
  EXPECT_FALSE(c.try_receive());
  Result<Reservation> r = p.try_reserve(2200);
  ASSERT_TRUE(r) << to_string(r.status());
  std::memset(r->bytes().data(), 'r', 2200);
  r->commit();
  Result<Message> m = c.try_receive();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text(), std::string(2200, 'r'));
}

// Handles are move-only and meant to be moved: a reservation follows its Producer.
TEST(Api, ReservationStaysValidWhenItsProducerIsMoved) {
  TempQueue q;
  std::optional<Producer> p(Producer::create(q.path()));
  Consumer c = Consumer::open(q.path());
  Result<Reservation> r = p->try_reserve(5);
  ASSERT_TRUE(r);
  std::memcpy(r->bytes().data(), "moved", 5);
  Producer moved = std::move(*p);
  p.reset();
  EXPECT_EQ(r->commit(), 0u);
  Result<Message> m = c.try_receive();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text(), "moved");
  // Moved again while outstanding, by move-assignment into a fresh handle this time.
  Result<Reservation> r2 = moved.try_reserve(3);
  ASSERT_TRUE(r2);
  Reservation held = std::move(*r2);
  std::memcpy(held.bytes().data(), "two", 3);
  std::optional<Producer> target;
  target.emplace(std::move(moved));
  EXPECT_EQ(held.commit(), 1u);
  Result<Message> m2 = c.try_receive();
  ASSERT_TRUE(m2);
  EXPECT_EQ(m2->text(), "two");
}

TEST(Api, ReservationThatOutlivesItsProducerSaysSoInsteadOfTouchingFreedMemory) {
  TempQueue q;
  std::optional<Producer> p(Producer::create(q.path()));
  Result<Reservation> r = p->try_reserve(8);
  ASSERT_TRUE(r);
  p.reset();  // destroys the Producer: the reservation is orphaned (ASan would catch a dangling use)
  try {
    (void)r->commit();
    FAIL() << "commit after the Producer was destroyed";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::usage);
    EXPECT_NE(std::string(e.what()).find("Producer was destroyed"), std::string::npos) << e.what();
  }
  Result<Reservation> r2 = Producer::open(q.path()).try_reserve(8);  // and its destructor is harmless
  ASSERT_TRUE(r2);
}

TEST(Api, SendBatchWithAMessageTooLargeSendsNothing) {
  TempQueue q;
  Producer p = Producer::create(q.path(), {.capacity = 4096});
  Consumer c = Consumer::open(q.path());
  const std::string small = "small";
  const std::string too_big(5000, 'x');
  const std::vector<std::span<const std::byte>> batch{bytes_of(small), bytes_of(too_big)};
  EXPECT_THROW((void)p.send_batch(batch), Error);
  EXPECT_EQ(p.next_sequence(), 0u) << "nothing of the batch was accepted";
  ASSERT_TRUE(p.send("after"));
  Result<Message> m = c.try_receive();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->sequence, 0u);
  EXPECT_EQ(m->text(), "after");
}

// A batch that must wait for room and then fails (the consumer left) has published its first
// messages and left none staged: next_sequence() says how many went out, and a retry of the rest
// sends each message once.
TEST(Api, SendBatchThatFailsWhileWaitingSaysHowManyWentOut) {
  TempQueue q;
  Producer p = Producer::create(q.path(), {.capacity = 4096});
  { Consumer gone = Consumer::open(q.path()); }  // a consumer came and went
  std::vector<std::string> texts;
  for (int i = 0; i < 100; ++i) texts.push_back(std::to_string(i) + std::string(200, '.'));  // about 5 rings
  std::vector<std::span<const std::byte>> batch;
  for (const std::string& t : texts) batch.push_back(bytes_of(t));
  const std::uint64_t before = p.next_sequence();
  const Result<std::uint64_t> sent = p.send_batch(batch);
  ASSERT_EQ(sent.status(), Status::peer_gone);
  const std::uint64_t published = p.next_sequence() - before;
  ASSERT_GT(published, 0u);
  ASSERT_LT(published, batch.size());
  p.publish();  // nothing staged: publishes nothing more
  Consumer c = Consumer::open(q.path());
  std::vector<std::string> got;
  c.poll([&](const Message& m) { got.emplace_back(m.text()); });
  EXPECT_EQ(got, std::vector<std::string>(texts.begin(), texts.begin() + static_cast<std::ptrdiff_t>(published)));
}

// WaitOptions of absurd size saturate instead of overflowing (UBSan would flag signed overflow).
TEST(Api, HugeWaitOptionsDoNotOverflow) {
  TempQueue q;
  OpenOptions parks_at_once;
  parks_at_once.wait.spin = std::chrono::nanoseconds(0);
  parks_at_once.wait.liveness_interval = std::chrono::milliseconds::max();
  Producer p = Producer::create(q.path(), {}, parks_at_once);
  {
    Consumer c = Consumer::open(q.path(), parks_at_once);
    EXPECT_EQ(c.receive_for(std::chrono::milliseconds(1)).status(), Status::timed_out);
  }
  OpenOptions spins_forever;
  spins_forever.wait.spin = std::chrono::nanoseconds::max();
  Consumer c = Consumer::open(q.path(), spins_forever);
  EXPECT_EQ(c.receive_for(std::chrono::milliseconds(1)).status(), Status::timed_out);
  std::thread sender([&] { EXPECT_TRUE(p.send("x")); });
  EXPECT_TRUE(c.receive_for(std::chrono::seconds(60)));  // a hang detector
  sender.join();
}

TEST(Api, RemoveQueueRefusesWhileAPeerIsAttachedAndRemovesExactlyTheQueue) {
  TempQueue q;
  create_queue(q.path());
  {
    Consumer c = Consumer::open(q.path());
    try {
      (void)remove_queue(q.path());
      FAIL() << "removed a queue with an attached consumer";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::role_taken);
      EXPECT_NE(e.cause().find("the consumer is attached"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(std::filesystem::exists(q.path()));
    const RemoveReport forced = remove_queue(q.path(), {.force = true});
    ASSERT_EQ(forced.attached.size(), 1u);
    EXPECT_FALSE(std::filesystem::exists(q.path()));
  }
  create_queue(q.path());
  EXPECT_TRUE(remove_queue(q.path()).attached.empty());
  EXPECT_FALSE(std::filesystem::exists(q.path()));
  {  // a file that is not a queue is never removed, forced or not
    std::ofstream(q.path()) << "not a queue, but long enough to hold a whole identity block of a queue file......"
                               "..................................................................";
  }
  try {
    (void)remove_queue(q.path(), {.force = true});
    FAIL() << "removed a file that is not a queue";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_a_queue);
    EXPECT_EQ(e.fault(), Fault::magic);
  }
  EXPECT_TRUE(std::filesystem::exists(q.path()));
}

TEST(Api, CreateOptionsAreValidated) {
  TempQueue q;
  for (std::uint64_t capacity : {std::uint64_t{0}, std::uint64_t{3}, std::uint64_t{1000}, std::uint64_t{2048},
                                 std::uint64_t{6000}, std::uint64_t{1} << 41}) {
    try {
      create_queue(q.path(), {.capacity = capacity});
      FAIL() << "capacity " << capacity << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::invalid_argument) << e.what();
      EXPECT_NE(std::string(e.what()).find("capacity"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(std::filesystem::exists(q.path()));
  }
  EXPECT_THROW(create_queue(q.path(), {.mode = 0400}), Error);
  EXPECT_THROW(create_queue(q.path(), {.mode = 010600}), Error);
  EXPECT_THROW(create_queue(q.path(), {.initial_position = 4}), Error);
  EXPECT_THROW(create_queue(q.path(), {.durable = true, .checkpoints = {.interval = std::chrono::hours(24 * 50)}}),
               Error)
      << "an interval the file cannot store (over 2^32 ms) must be refused, not truncated";
  EXPECT_THROW(create_queue("/dev/shm/"), Error);
  EXPECT_FALSE(std::filesystem::exists(q.path()));
}

}  // namespace
TEST(Api, InspectQueueReadsWithoutAttaching) {
  TempQueue q;
  create_queue(q.path(), {.capacity = 8192, .checksums = true});
  const std::vector<char> before = test::read_file(q.path());
  const QueueInfo info = inspect_queue(q.path());
  EXPECT_EQ(info.capacity, 8192u);
  EXPECT_EQ(info.max_message_size, 8192u - 40u);
  EXPECT_EQ(info.max_message_size, max_message_size(8192));
  EXPECT_TRUE(info.checksums);
  EXPECT_FALSE(info.durable);
  EXPECT_EQ(test::read_file(q.path()), before);
  EXPECT_EQ(max_message_size(8), 0u);
  EXPECT_THROW((void)inspect_queue(q.str() + ".missing"), Error);
}

}  // namespace shmq
