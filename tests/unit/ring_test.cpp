// The ring algorithm alone, on heap memory: framing, padding, wrap-around at every offset,
// full and empty, and what a hostile peer can make it do (nothing out of bounds: run under ASan).
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "checksum.hpp"
#include "ring_reader.hpp"
#include "ring_writer.hpp"
#include "shmq/error.hpp"
#include "support/temp_queue.hpp"

namespace shmq::detail {
namespace {

// A header and a ring on the heap, positions starting at `start`.
struct HeapRing {
  explicit HeapRing(std::uint64_t capacity, std::uint64_t start = 0, bool checksums = false)
      : header(std::make_unique<layout::Header>()), data(capacity) {
    header->producer.position.store(start);
    header->consumer.position.store(start);
    view.header = header.get();
    view.data = data.data();
    view.capacity = capacity;
    view.checksums = checksums;
    writer = RingWriter(view, start, start, 0);
    reader = RingReader(view, start, 0);
  }
  bool write(const std::string& payload) {
    std::byte* p = writer.try_reserve(payload.size());
    if (p == nullptr) return false;
    std::memcpy(p, payload.data(), payload.size());
    writer.commit(payload.size());
    writer.publish();
    return true;
  }
  std::optional<Message> read() {
    Message m;
    if (!reader.try_read(m)) return std::nullopt;
    return m;
  }
  std::unique_ptr<layout::Header> header;
  std::vector<std::byte> data;
  RingView view;
  RingWriter writer;
  RingReader reader;
};

std::string pattern(std::size_t size, std::uint64_t salt) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>('a' + (i * 7 + salt) % 26);
  return s;
}

TEST(RingFraming, RecordIsLengthChecksumCommitWordThenPayloadAligned) {
  HeapRing r(4096);
  ASSERT_TRUE(r.write("hello"));
  ASSERT_TRUE(r.write("x"));
  const layout::RecordHeader h = load_record_header(r.data.data());
  EXPECT_EQ(h.length, 5u);
  EXPECT_EQ(h.checksum, 0u);
  EXPECT_EQ(h.commit, layout::kCommitted | 0u);
  EXPECT_EQ(std::memcmp(r.data.data() + 16, "hello", 5), 0);
  const layout::RecordHeader h2 = load_record_header(r.data.data() + 24);  // 16 + 5 rounded up to 8
  EXPECT_EQ(h2.length, 1u);
  EXPECT_EQ(h2.commit, layout::kCommitted | 1u);
  EXPECT_EQ(load_commit_word(r.data.data() + 48), 0u) << "the next record's commit word is cleared";
  EXPECT_EQ(r.header->producer.position.load(), 48u);
  EXPECT_EQ(r.header->producer.sequence.load(), 2u);
}

TEST(RingFraming, ZeroLengthMessages) {
  HeapRing r(4096);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(r.write(""));
    auto m = r.read();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->bytes.size(), 0u);
    EXPECT_EQ(m->sequence, static_cast<std::uint64_t>(i));
    r.reader.release();
  }
}

TEST(RingFraming, ChecksumsAreWrittenAndCheckedWithPositionAndSequence) {
  HeapRing r(4096, 0, true);
  ASSERT_TRUE(r.write("payload"));
  const layout::RecordHeader h = load_record_header(r.data.data());
  EXPECT_EQ(h.checksum, record_checksum(0, 0, 7, r.data.data() + 16, 7));
  EXPECT_NE(h.checksum, record_checksum(4096, 0, 7, r.data.data() + 16, 7)) << "a stale lap must not validate";
  EXPECT_NE(h.checksum, record_checksum(0, 1, 7, r.data.data() + 16, 7));
  ASSERT_TRUE(r.read());
}

// Every start offset of a small ring, every record size up to a third of it: content, order and
// sequence survive the padding at the end of each lap.
TEST(RingWrap, EveryEightByteStartOffset) {
  constexpr std::uint64_t kCapacity = 4096;
  for (std::uint64_t start = 0; start < kCapacity; start += 8) {
    HeapRing r(kCapacity, start, start % 16 == 0);
    std::uint64_t sent = 0;
    std::uint64_t received = 0;
    std::size_t size = 0;
    while (received < 200) {
      while (sent < 200 && r.write(pattern(size = (size + 37) % 1400, sent))) ++sent;
      while (auto m = r.read()) {
        ASSERT_EQ(m->sequence, received) << "start " << start;
        ++received;
      }
      r.reader.release();
    }
    ASSERT_EQ(sent, 200u);
  }
}

TEST(RingWrap, ContentSurvivesEveryOffset) {
  constexpr std::uint64_t kCapacity = 4096;
  for (std::uint64_t start = 0; start < kCapacity; start += 8) {
    HeapRing r(kCapacity, start);
    for (std::uint64_t i = 0; i < 20; ++i) {
      const std::string payload = pattern(100 + i * 13, i);
      ASSERT_TRUE(r.write(payload));
      auto m = r.read();
      ASSERT_TRUE(m);
      ASSERT_EQ(m->text(), payload) << "start " << start << " message " << i;
      r.reader.release();
    }
  }
}

TEST(RingWrap, PositionsNearTwoToTheSixtyFour) {
  const std::uint64_t start = ~std::uint64_t{0} - 4096 * 3 + 1 - 7;  // 8-aligned, 3 laps before 2^64
  HeapRing r(4096, start & ~std::uint64_t{7}, true);
  for (std::uint64_t i = 0; i < 5000; ++i) {
    ASSERT_TRUE(r.write(pattern(i % 300, i)));
    auto m = r.read();
    ASSERT_TRUE(m);
    ASSERT_EQ(m->sequence, i);
    ASSERT_EQ(m->text(), pattern(i % 300, i));
    r.reader.release();
  }
  EXPECT_LT(r.header->producer.position.load(), start) << "the position wrapped past 2^64";
}

TEST(RingCapacity, FullThenEmpty) {
  HeapRing r(4096);
  int written = 0;
  while (r.write(pattern(8, 0))) ++written;  // 24-byte records
  EXPECT_EQ(written, 4096 / 24);
  // 16 bytes remained: the failed write padded them, so nothing fits until the consumer releases.
  EXPECT_FALSE(r.write(""));
  for (int i = 0; i < written; ++i) ASSERT_TRUE(r.read());
  EXPECT_FALSE(r.read());
  EXPECT_FALSE(r.write(pattern(8, 0))) << "nothing released yet";
  r.reader.release();
  EXPECT_TRUE(r.write(pattern(8, 0)));
  auto m = r.read();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->sequence, static_cast<std::uint64_t>(written));
}

// The 16 bytes after the last record hold the next record's cleared commit word: a full ring
// leaves them free.
TEST(RingCapacity, TheLastSixteenBytesHoldTheNextCommitWord) {
  HeapRing r(4096);
  for (int i = 0; i < 4096 / 24; ++i) ASSERT_TRUE(r.write(pattern(8, 0)));
  EXPECT_FALSE(r.write(""));
  EXPECT_EQ(r.header->producer.position.load(), 4080u);
  EXPECT_EQ(load_commit_word(r.data.data() + 4080), 0u);
}

TEST(RingCapacity, LargestMessageAtEveryOffset) {
  constexpr std::uint64_t kCapacity = 4096;
  for (std::uint64_t start = 0; start < kCapacity; start += 8) {
    HeapRing r(kCapacity, start);
    const std::string big = pattern(r.writer.max_length(), start);
    ASSERT_EQ(big.size(), kCapacity - 40);
    const std::uint64_t tail = kCapacity - next_record_position(start, kCapacity) % kCapacity;
    if (tail < layout::record_size(big.size())) {
      // It does not fit before the ring's end: the padding goes first, published so the consumer
      // can free it.
      ASSERT_FALSE(r.write(big)) << "start " << start;
      r.writer.publish();
      ASSERT_FALSE(r.read());  // padding only
      r.reader.release();
    }
    ASSERT_TRUE(r.write(big)) << "start " << start;
    auto m = r.read();
    ASSERT_TRUE(m);
    ASSERT_EQ(m->text(), big);
  }
}

TEST(RingReserve, CommitLessThanReserved) {
  HeapRing r(4096);
  std::byte* p = r.writer.try_reserve(1000);
  ASSERT_NE(p, nullptr);
  std::memcpy(p, "abc", 3);
  r.writer.commit(3);
  r.writer.publish();
  EXPECT_EQ(r.header->producer.position.load(), 24u);
  auto m = r.read();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text(), "abc");
}

TEST(RingReserve, AbandonedReservationLeavesNoTrace) {
  HeapRing r(4096);
  std::byte* first = r.writer.try_reserve(100);
  ASSERT_NE(first, nullptr);
  std::memset(first, 'z', 100);  // never committed
  std::byte* second = r.writer.try_reserve(5);
  EXPECT_EQ(second, first) << "the abandoned space is reused";
  std::memcpy(second, "hello", 5);
  r.writer.commit(5);
  r.writer.publish();
  auto m = r.read();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text(), "hello");
  EXPECT_EQ(m->sequence, 0u);
  EXPECT_FALSE(r.read());
}

TEST(RingReserve, StagedRecordsAreInvisibleUntilPublished) {
  HeapRing r(4096);
  for (int i = 0; i < 3; ++i) {
    std::byte* p = r.writer.try_reserve(4);
    ASSERT_NE(p, nullptr);
    r.writer.commit(4);
  }
  EXPECT_FALSE(r.read());
  EXPECT_TRUE(r.writer.has_staged());
  r.writer.publish();
  for (std::uint64_t i = 0; i < 3; ++i) {
    auto m = r.read();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->sequence, i);
  }
}

// ---- a hostile peer: every value it can write is checked before use ----

void expect_corrupt(HeapRing& r) {
  try {
    (void)r.read();
    ADD_FAILURE() << "corruption not detected";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::peer_broke_protocol);
    EXPECT_TRUE(e.path().empty()) << "the ring knows no file: its handle adds the path (" << e.what() << ")";
    EXPECT_NE(e.cause().find(" at position "), std::string::npos) << e.what();
  }
}

// The consumer learns of records from their commit words only: whatever the producer's position
// says, it neither delivers more nor fails.
TEST(RingHostile, TheWritePositionIsNotWhatTheConsumerTrusts) {
  for (std::uint64_t bad : {std::uint64_t{4096 + 8}, std::uint64_t{20}, std::uint64_t{0}, ~std::uint64_t{0}}) {
    HeapRing r(4096);
    ASSERT_TRUE(r.write("abc"));
    r.header->producer.position.store(bad);
    auto m = r.read();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->sequence, 0u);
    EXPECT_FALSE(r.read()) << "nothing is published after the first record";
  }
}

TEST(RingHostile, CommitWordWithoutItsCommitBit) {
  HeapRing r(4096);
  ASSERT_TRUE(r.write("abc"));
  store_record_body(r.data.data(), 3, 0);
  __atomic_store_n(reinterpret_cast<std::uint64_t*>(r.data.data() + 8), std::uint64_t{7}, __ATOMIC_RELEASE);
  expect_corrupt(r);
}

// The consumer bounds a record by the ring and by what it released (a record may reach at most one
// ring past it); the write position is for the tools to check (tests/tool/verify_test.cpp).
TEST(RingHostile, LengthRunningPastTheRing) {
  for (std::uint32_t bad : {std::uint32_t{5000}, std::uint32_t{0x7fffffff}, std::uint32_t{0xffffffff}}) {
    HeapRing r(4096);
    ASSERT_TRUE(r.write("abc"));
    store_record_header(r.data.data(), bad, 0, 0);
    expect_corrupt(r);
  }
}

TEST(RingHostile, WrongSequence) {
  HeapRing r(4096);
  ASSERT_TRUE(r.write("abc"));
  store_record_header(r.data.data(), 3, 0, 7);
  expect_corrupt(r);
}

TEST(RingHostile, FlippedPayloadByteFailsTheChecksum) {
  HeapRing r(4096, 0, true);
  ASSERT_TRUE(r.write("abcdef"));
  r.data[16 + 2] ^= std::byte{1};
  expect_corrupt(r);
}

TEST(RingHostile, ReadPositionBeyondWhatWasPublished) {
  HeapRing r(4096);
  ASSERT_TRUE(r.write(pattern(4000, 1)));
  r.header->consumer.position.store(8192);
  EXPECT_THROW((void)r.write(pattern(100, 2)), Error);
}

// Random garbage in the ring and positions: the reader reports corruption or reads records that
// lie inside the ring; ASan proves nothing is read out of bounds.
TEST(RingHostile, RandomGarbageNeverReadsOutOfBounds) {
  const std::uint64_t seed = test::test_seed();
  std::printf("seed %llu (set SHMQ_TEST_SEED to repeat)\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 2000; ++round) {
    HeapRing r(4096, 0, round % 2 == 0);
    for (auto& b : r.data) b = static_cast<std::byte>(rng());
    if (round % 3 == 0) store_record_header(r.data.data(), static_cast<std::uint32_t>(rng() % 5000), 0, 0);
    try {
      while (auto m = r.read()) {
        ASSERT_GE(m->bytes.data(), r.data.data());
        ASSERT_LE(m->bytes.data() + m->bytes.size(), r.data.data() + r.data.size());
      }
    } catch (const Error& e) {
      ASSERT_EQ(e.code(), ErrorCode::peer_broke_protocol);
    }
  }
}

}  // namespace
}  // namespace shmq::detail
