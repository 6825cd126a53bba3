// The tool's parts on their own: units, size parsing (CLI11's AsSizeValue), the lag tracker, fitting
// text to the terminal.
#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

#include "lag_tracker.hpp"
#include "terminal_width.hpp"
#include "units.hpp"

namespace shmq::tool {
namespace {

using namespace std::chrono_literals;

TEST(ToolUnits, FormatSize) {
  EXPECT_EQ(format_size(0), "0 B");
  EXPECT_EQ(format_size(512), "512 B");
  EXPECT_EQ(format_size(1536), "1.5 KiB");
  EXPECT_EQ(format_size(64 * 1024), "64 KiB");
  EXPECT_EQ(format_size(std::uint64_t{16} << 20), "16 MiB");
  EXPECT_EQ(format_size(std::uint64_t{1} << 40), "1 TiB");
}

// Each line cut to one column less than the width, never inside a UTF-8 character.
TEST(ToolTerminalWidth, CutsEachLineOnACharacterBoundary) {
  EXPECT_EQ(fit_to_width("abcdef\nab\n\nabcdefgh", 5), "abcd\nab\n\nabcd");
  EXPECT_EQ(fit_to_width("abcd\n", 5), "abcd\n");
  EXPECT_EQ(fit_to_width("ab\xc3\xa9"
                         "cd\n",
                         4),
            "ab\n");  // 'é' would end past the cut: left out whole
  EXPECT_EQ(fit_to_width("ab\xc3\xa9"
                         "cd\n",
                         5),
            "ab\xc3\xa9\n");                   // 'é' ends at the cut: kept
  EXPECT_EQ(fit_to_width("abc\n", 1), "a\n");  // at least one byte per line
}

TEST(ToolUnits, SizesOnTheCommandLine) {
  const CLI::AsSizeValue size(false);
  for (const auto& [text, value] : std::vector<std::pair<std::string, std::uint64_t>>{{"4096", 4096},
                                                                                      {"64KiB", 65536},
                                                                                      {"16MiB", 16u << 20},
                                                                                      {"1GiB", 1u << 30},
                                                                                      {"1TiB", std::uint64_t{1} << 40},
                                                                                      {"64k", 65536},
                                                                                      {"2 MiB", 2u << 20}}) {
    std::string s = text;
    EXPECT_NO_THROW(EXPECT_EQ(size(s), "") << text) << text;
    EXPECT_EQ(s, std::to_string(value)) << text;
  }
  for (const std::string bad : {"64XiB", "1.5KiB", "-1MiB", "99999999999EiB"}) {
    std::string s = bad;
    EXPECT_THROW(size(s), CLI::ValidationError) << bad;
  }
}

TEST(ToolUnits, ParseMode) {
  EXPECT_EQ(parse_mode("0600"), mode_t{0600});
  EXPECT_EQ(parse_mode("640"), mode_t{0640});
  EXPECT_EQ(parse_mode("07777"), mode_t{07777});
  EXPECT_FALSE(parse_mode(""));
  EXPECT_FALSE(parse_mode("0986"));
  EXPECT_FALSE(parse_mode("17777"));
  EXPECT_FALSE(parse_mode("rw-------"));
}

TEST(ToolUnits, FillBar) {
  EXPECT_EQ(fill_bar(0.0, 4), "[....]");
  EXPECT_EQ(fill_bar(0.001, 4), "[#...]");  // not empty means not drawn empty
  EXPECT_EQ(fill_bar(0.5, 4), "[##..]");
  EXPECT_EQ(fill_bar(1.0, 4), "[####]");
  EXPECT_EQ(fill_bar(7.0, 4), "[####]");
}

TEST(ToolUnits, Utc) { EXPECT_EQ(format_utc(1'700'000'000'123'000'000u), "2023-11-14T22:13:20.123Z"); }

WatchSample sample(std::chrono::milliseconds at, std::uint64_t published, std::uint64_t consumed) {
  return {std::chrono::steady_clock::time_point(at), published, consumed, published * 64, consumed * 64};
}

TEST(ToolLagTracker, RatesBetweenTheLastTwoSamples) {
  LagTracker t;
  EXPECT_FALSE(t.rates());
  t.add(sample(0ms, 0, 0));
  EXPECT_FALSE(t.rates());
  t.add(sample(500ms, 1000, 400));
  const Rates r = *t.rates();
  EXPECT_DOUBLE_EQ(r.published_per_s, 2000);
  EXPECT_DOUBLE_EQ(r.published_bytes_per_s, 128000);
  EXPECT_DOUBLE_EQ(r.consumed_per_s, 800);
  EXPECT_DOUBLE_EQ(r.consumed_bytes_per_s, 51200);
}

TEST(ToolLagTracker, LagIsTheAgeOfTheOldestUnconsumedMessage) {
  LagTracker t;
  EXPECT_FALSE(t.consumer_lag());
  t.add(sample(0ms, 10, 10));
  EXPECT_EQ(t.consumer_lag()->at_most, 0ns);
  t.add(sample(1000ms, 20, 10));  // message 10 was published in (0, 1000] ms
  Lag lag = *t.consumer_lag();
  EXPECT_EQ(lag.at_least, 0ms);
  EXPECT_EQ(lag.at_most, 1000ms);
  t.add(sample(2000ms, 30, 15));  // message 15 too
  t.add(sample(3000ms, 40, 25));  // message 25 in (1000, 2000]
  lag = *t.consumer_lag();
  EXPECT_EQ(lag.at_least, 1000ms);
  EXPECT_EQ(lag.at_most, 2000ms);
  t.add(sample(4000ms, 40, 40));
  EXPECT_EQ(t.consumer_lag()->at_least, 0ns);
  EXPECT_EQ(t.consumer_lag()->at_most, 0ns);
}

TEST(ToolLagTracker, OlderThanTheHistoryIsALowerBound) {
  LagTracker t(2);
  t.add(sample(0ms, 10, 0));
  t.add(sample(1000ms, 10, 0));
  t.add(sample(2000ms, 10, 0));  // the first sample fell out of the history
  const Lag lag = *t.consumer_lag();
  EXPECT_EQ(lag.at_least, 1000ms);
  EXPECT_FALSE(lag.at_most);
}

}  // namespace
}  // namespace shmq::tool
