// The record and drop-counter formats, and spool names: round trips, and every malformed field
// refused without reading past the message.
#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "shmq/log/drop_counter.hpp"
#include "shmq/log/record.hpp"
#include "shmq/log/spool.hpp"
#include "shmq/error.hpp"
#include "support/temp_queue.hpp"

namespace shmq::log {
namespace {

std::vector<std::byte> encoded(const Record& r) {
  std::vector<std::byte> out(encoded_size(r));
  EXPECT_EQ(encode(r, out), out.size());
  return out;
}

Record sample() {
  Record r;
  r.level = 2;
  r.time_unix_ns = 1764000000123456789ull;
  r.thread_id = 4242;
  r.logger_name = "orders";
  r.text = "filled 100 XYZ";
  return r;
}

TEST(RecordFormat, RoundTripsEveryField) {
  const std::vector<std::byte> bytes = encoded(sample());
  ASSERT_EQ(bytes.size(), kRecordHeaderSize + 6 + 14);
  const Decoded d = decode(bytes);
  ASSERT_TRUE(d) << d.error;
  EXPECT_EQ(d.record.kind, RecordKind::line);
  EXPECT_EQ(d.record.level, 2);
  EXPECT_EQ(d.record.time_unix_ns, 1764000000123456789ull);
  EXPECT_EQ(d.record.thread_id, 4242u);
  EXPECT_EQ(d.record.logger_name, "orders");
  EXPECT_EQ(d.record.text, "filled 100 XYZ");
}

// The golden layout: if this fails, the format changed: bump kRecordVersion and docs/LOGGING.md.
TEST(RecordFormat, GoldenBytes) {
  const std::vector<std::byte> bytes = encoded(sample());
  const unsigned char expected_header[] = {0x72, 0x6c, 1, 1, 2, 0, 6, 0};
  EXPECT_EQ(std::memcmp(bytes.data(), expected_header, sizeof expected_header), 0);
  std::uint64_t time = 0;
  std::memcpy(&time, bytes.data() + 8, 8);
  EXPECT_EQ(time, 1764000000123456789ull);
  EXPECT_EQ(std::memcmp(bytes.data() + 24, "orders", 6), 0);
}

TEST(RecordFormat, CutsLongLoggerNames) {
  Record r = sample();
  const std::string name(300, 'n');
  r.logger_name = name;
  const std::vector<std::byte> bytes = encoded(r);  // the decoded views point into it
  const Decoded d = decode(bytes);
  ASSERT_TRUE(d) << d.error;
  EXPECT_EQ(d.record.logger_name.size(), kMaxLoggerName);
  EXPECT_EQ(d.record.text, "filled 100 XYZ");
}

TEST(RecordFormat, RefusesEachMalformedField) {
  const std::vector<std::byte> good = encoded(sample());
  auto with = [&](std::size_t at, unsigned char value) {
    std::vector<std::byte> b = good;
    b[at] = std::byte{value};
    return decode(b);
  };
  EXPECT_FALSE(with(0, 0x00)) << "magic";
  EXPECT_FALSE(with(2, 2)) << "version";
  EXPECT_FALSE(with(3, 9)) << "kind";
  EXPECT_FALSE(with(4, 6)) << "level";
  EXPECT_FALSE(with(5, 0x80)) << "flags";
  EXPECT_FALSE(with(6, 200)) << "name length past the end";
  EXPECT_FALSE(decode(std::span(good).first(kRecordHeaderSize - 1))) << "short";
  Record close;
  close.kind = RecordKind::close;
  close.text = "x";
  EXPECT_FALSE(decode(encoded(close))) << "close record with text";
}

// Random bytes never decode out of bounds (ASan watches) and decode only when well-formed.
TEST(RecordFormat, RandomBytesAreSafe) {
  const std::uint64_t seed = test::test_seed();
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::byte> b(rng() % 64);
    for (auto& x : b) x = std::byte(static_cast<unsigned char>(rng()));
    if (b.size() >= 2 && rng() % 2 == 0) b[0] = std::byte{0x72}, b[1] = std::byte{0x6c};
    const Decoded d = decode(b);
    if (d) {
      EXPECT_EQ(kRecordHeaderSize + d.record.logger_name.size() + d.record.text.size(), b.size());
    }
  }
}

TEST(SpoolNames, ClassifiesEveryKind) {
  const std::string q = spool_queue_name("my app!", 42, 7);
  EXPECT_EQ(q, "my_app_.42.7.q");
  EXPECT_EQ(classify_spool_name(q), SpoolEntry::queue);
  EXPECT_EQ(classify_spool_name(drops_path(q).string()), SpoolEntry::drops);
  EXPECT_EQ(classify_spool_name(".my_app.42.7.q.creating.0123"), SpoolEntry::hidden);
  EXPECT_EQ(classify_spool_name(".set-aside"), SpoolEntry::hidden);
  EXPECT_EQ(classify_spool_name("notes.txt"), SpoolEntry::stranger);
  EXPECT_EQ(classify_spool_name(".q"), SpoolEntry::hidden);
  EXPECT_EQ(spool_program_name(""), "program");
  EXPECT_EQ(spool_program_name("..x"), "__x");
}

TEST(DropCounter, CountsAndReadsBack) {
  test::TempQueue path;
  {
    DropCounter counter = DropCounter::create(path.path());
    EXPECT_THROW(DropCounter::create(path.path()), Error) << "exclusive";
    const DropCountRead zero = read_drop_count(path.path());
    ASSERT_TRUE(zero.count) << zero.error;
    EXPECT_EQ(zero.count->dropped, 0u);
    counter.add(100);
    counter.add(250);
    EXPECT_EQ(counter.dropped(), 2u);
  }
  const DropCountRead two = read_drop_count(path.path());  // after the writer is gone: in the file
  ASSERT_TRUE(two.count) << two.error;
  EXPECT_EQ(two.count->dropped, 2u);
  EXPECT_EQ(two.count->first_drop_unix_ns, 100u);
  EXPECT_EQ(two.count->last_drop_unix_ns, 250u);
}

TEST(DropCounter, RefusesForeignAndShortFiles) {
  test::TempQueue path;
  EXPECT_FALSE(read_drop_count(path.path()).count);
  {
    std::FILE* f = std::fopen(path.str().c_str(), "w");
    std::fputs("not a counter, but long enough to hold one: ........................................", f);
    std::fclose(f);
  }
  DropCountRead foreign = read_drop_count(path.path());
  EXPECT_FALSE(foreign.count);
  EXPECT_NE(foreign.error.find("magic"), std::string::npos) << foreign.error;
  std::filesystem::resize_file(path.path(), 10);
  EXPECT_FALSE(read_drop_count(path.path()).count);
}

}  // namespace
}  // namespace shmq::log
