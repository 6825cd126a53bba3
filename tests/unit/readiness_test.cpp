// Readiness in the record: the consumer takes a record as published only from its commit word, and
// a commit word it can reach is either 0 or the real record's. Payloads crafted to look like the
// next record's header, with the right sequence, length and checksum, must never be delivered.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "checksum.hpp"
#include "ring_reader.hpp"
#include "ring_writer.hpp"

namespace shmq::detail {
namespace {

constexpr std::uint64_t kCapacity = 4096;
constexpr std::uint64_t kSmall = 8;  // payload of the second lap's records: 24-byte records

struct Ring {
  explicit Ring(bool checksums) : header(std::make_unique<layout::Header>()), data(kCapacity) {
    view.header = header.get();
    view.data = data.data();
    view.capacity = kCapacity;
    view.checksums = checksums;
    writer = RingWriter(view, 0, 0, 0);
    reader = RingReader(view, 0, 0);
  }
  void send(const std::string& payload) {
    std::byte* p = writer.try_reserve(payload.size());
    ASSERT_NE(p, nullptr);
    std::memcpy(p, payload.data(), payload.size());
    writer.commit(payload.size());
    writer.publish();
  }
  std::unique_ptr<layout::Header> header;
  std::vector<std::byte> data;
  RingView view;
  RingWriter writer;
  RingReader reader;
};

std::string genuine(std::uint64_t sequence) {
  std::string s(kSmall, '\0');
  for (std::uint64_t i = 0; i < kSmall; ++i) s[i] = static_cast<char>('A' + (sequence + i) % 26);
  return s;
}

// A forged record as it would sit at ring offset `offset`: header (length 8, checksum valid for
// the position and sequence due there, commit word with that sequence) and an 8-byte payload.
void forge(std::vector<std::byte>& image, std::uint64_t offset, std::uint64_t position, std::uint64_t sequence,
           bool checksums) {
  const char payload[kSmall] = {'F', 'O', 'R', 'G', 'E', 'D', '!', '!'};
  std::memcpy(image.data() + offset + 16, payload, kSmall);
  const std::uint32_t sum =
      checksums ? record_checksum(position, sequence, kSmall, image.data() + offset + 16, kSmall) : 0;
  const std::uint64_t words[2] = {std::uint64_t{kSmall} | (std::uint64_t{sum} << 32), layout::kCommitted | sequence};
  std::memcpy(image.data() + offset, words, sizeof words);
}

// Lap 1: one large message whose payload holds, at every ring offset where a record of lap 2 will
// start, a complete forged header for exactly that record (the position and sequence due there).
// Lap 2: 24-byte records, one at a time. Before each is written, the consumer must see nothing;
// after, exactly the genuine message. Without the cleared commit word (RingWriter::stage), the
// consumer takes the forgery at offset 24 as sequence 3 (and the stale header at offset 0 as a
// protocol violation).
void crafted_payloads_are_never_delivered(bool checksums) {
  Ring r(checksums);
  const std::uint64_t big_length = r.writer.max_length();  // 4056: the record spans [0, 4072)
  // Lap 2 starts at position 4096 with sequence 2 (the big one is 0, a 24-byte record at 4072 is 1).
  std::vector<std::byte> image(kCapacity);
  for (std::uint64_t k = 1; 24 * k + 24 <= 16 + big_length; ++k)
    forge(image, 24 * k, kCapacity + 24 * k, 2 + k, checksums);
  r.send(std::string(reinterpret_cast<const char*>(image.data()) + 16, big_length));

  Message m;
  ASSERT_TRUE(r.reader.try_read(m));
  ASSERT_EQ(m.bytes.size(), big_length);
  ASSERT_EQ(std::memcmp(m.bytes.data(), image.data() + 16, big_length), 0);
  r.reader.release();
  ASSERT_FALSE(r.reader.try_read(m));
  r.send(genuine(1));  // [4072, 4096): the last record of lap 1
  ASSERT_TRUE(r.reader.try_read(m));
  ASSERT_EQ(m.sequence, 1u);
  r.reader.release();

  std::uint64_t forgeries_present = 0;
  for (std::uint64_t k = 0; 24 * k + 24 <= kCapacity - 24; ++k) {
    const std::uint64_t offset = 24 * k;
    const std::uint64_t sequence = 2 + k;
    // The forged length and checksum are still in the ring (only the commit word was cleared):
    // the check below is what stands between the consumer and the forgery.
    if (k >= 1 && 24 * k + 24 <= 16 + big_length) {
      std::uint64_t first_word = 0;
      std::memcpy(&first_word, r.data.data() + offset, 8);
      std::uint64_t forged_first = 0;
      std::memcpy(&forged_first, image.data() + offset, 8);
      if (first_word == forged_first) ++forgeries_present;
    }
    ASSERT_FALSE(r.reader.try_read(m)) << "delivered something before record " << sequence << " was written (got "
                                       << m.sequence << ", " << m.bytes.size() << " bytes)";
    ASSERT_FALSE(r.reader.ready()) << "offset " << offset;
    r.send(genuine(sequence));
    ASSERT_TRUE(r.reader.try_read(m)) << "offset " << offset;
    ASSERT_EQ(m.sequence, sequence);
    ASSERT_EQ(std::string(reinterpret_cast<const char*>(m.bytes.data()), m.bytes.size()), genuine(sequence));
    r.reader.release();
  }
  EXPECT_GT(forgeries_present, 100u) << "the test must put forgeries where the records go";
}

TEST(Readiness, CraftedPayloadsThatLookLikeTheNextHeaderAreNeverDelivered) {
  crafted_payloads_are_never_delivered(false);
}

TEST(Readiness, CraftedPayloadsWithValidChecksumsAreNeverDelivered) { crafted_payloads_are_never_delivered(true); }

// A batch is published by its first record's commit word: the later records are complete in the
// ring before it, and invisible until it is stored.
TEST(Readiness, ABatchIsInvisibleUntilItsFirstCommitWord) {
  Ring r(true);
  for (std::uint64_t s = 0; s < 5; ++s) {
    std::byte* p = r.writer.try_reserve(kSmall);
    ASSERT_NE(p, nullptr);
    std::memcpy(p, genuine(s).data(), kSmall);
    r.writer.commit(kSmall);
  }
  Message m;
  EXPECT_FALSE(r.reader.try_read(m));
  EXPECT_EQ(load_commit_word(r.data.data()), 0u) << "the first record's commit word waits for publish()";
  EXPECT_EQ(load_commit_word(r.data.data() + 24), layout::kCommitted | 1u);
  EXPECT_EQ(load_commit_word(r.data.data() + 5 * 24), 0u) << "the record after the batch is cleared";
  r.writer.publish();
  for (std::uint64_t s = 0; s < 5; ++s) {
    ASSERT_TRUE(r.reader.try_read(m));
    EXPECT_EQ(m.sequence, s);
  }
  EXPECT_FALSE(r.reader.try_read(m));
}

// What a killed producer leaves (a staged batch whose first commit word was never stored) is not
// published, and a new producer at the same position clears as it goes: the stale records after
// it are never reached, even where its own records fall on their positions with their sequences.
TEST(Readiness, AStagedBatchOfAKilledProducerIsNeverReached) {
  Ring r(false);
  for (std::uint64_t s = 0; s < 3; ++s) {  // the killed producer's batch: staged, never published
    std::byte* p = r.writer.try_reserve(kSmall);
    ASSERT_NE(p, nullptr);
    std::memcpy(p, "STALE!!!", kSmall);
    r.writer.commit(kSmall);
  }
  // Its successor starts at the same position with the same sequence (RingWriter on the attach
  // walk's result) and writes records of the same size: the stale ones sit exactly where its own go.
  r.writer = RingWriter(r.view, 0, 0, 0);
  Message m;
  for (std::uint64_t s = 0; s < 3; ++s) {
    ASSERT_FALSE(r.reader.try_read(m)) << "a stale record was delivered at sequence " << s;
    r.send(genuine(s));
    ASSERT_TRUE(r.reader.try_read(m));
    ASSERT_EQ(std::string(reinterpret_cast<const char*>(m.bytes.data()), m.bytes.size()), genuine(s));
  }
}

}  // namespace
}  // namespace shmq::detail
