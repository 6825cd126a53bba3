// Sizes and counts in text (samples_common/include/shmq_sample/units.hpp).
#include <cstdint>

#include <gtest/gtest.h>

#include "shmq_sample/units.hpp"

namespace shmq_sample {
namespace {

TEST(Units, SizesParseWithBinarySuffixesOnly) {
  EXPECT_EQ(parse_size("4096"), 4096U);
  EXPECT_EQ(parse_size("64KiB"), 65536U);
  EXPECT_EQ(parse_size("64k"), 65536U);
  EXPECT_EQ(parse_size("1MiB"), std::uint64_t{1} << 20);
  EXPECT_EQ(parse_size("2gib"), std::uint64_t{2} << 30);
  EXPECT_EQ(parse_size("1TiB"), std::uint64_t{1} << 40);
  EXPECT_FALSE(parse_size("1MB").has_value());
  EXPECT_FALSE(parse_size("").has_value());
  EXPECT_FALSE(parse_size("KiB").has_value());
  EXPECT_FALSE(parse_size("-1").has_value());
  EXPECT_FALSE(parse_size("18446744073709551616").has_value());  // 2^64
  EXPECT_FALSE(parse_size("16777216TiB").has_value());           // 2^64 bytes
}

TEST(Units, SizesPrintInBinaryUnitsExactWhenTheyDivide) {
  EXPECT_EQ(format_size(0), "0 B");
  EXPECT_EQ(format_size(1023), "1023 B");
  EXPECT_EQ(format_size(1536), "1.5 KiB");
  EXPECT_EQ(format_size(std::uint64_t{16} << 20), "16 MiB");
  EXPECT_EQ(format_size(UINT64_MAX), "16.0 EiB");
}

TEST(Units, CountsPrintWithThreeDigitsAndAnSiPrefix) {
  EXPECT_EQ(format_count(0), "0");
  EXPECT_EQ(format_count(830), "830");
  EXPECT_EQ(format_count(466'300), "466 k");
  EXPECT_EQ(format_count(12'345'678), "12.3 M");
  EXPECT_EQ(format_count(2.5e9), "2.5 G");
}

}  // namespace
}  // namespace shmq_sample
