// shmq-consumer --stdout appending to a regular file, killed (kill -9) again and again at random
// moments and restarted: in the end the file holds whole, well-formed lines only (a kill can cut
// a write(2) at a page boundary; the next run removes that fragment), every message at least
// once, and repeats only where a run resumed at its predecessor's released position.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "layout.hpp"
#include "shmq/shmq.hpp"
#include "shmq_sample/payload.hpp"
#include "support/child_process.hpp"
#include "support/temp_queue.hpp"

namespace shmq {
namespace {

using test::ChildProcess;
using test::ProgramIo;

constexpr std::uint64_t kMessages = 20'000;
// 1024 lines (one batch of the consumer) are 1.5 MB: larger than any output buffer of a line,
// so a consumer that let its buffer spill mid-line would tear a line at some kill.
constexpr std::size_t kSize = 1500;
constexpr int kKills = 25;

std::uint64_t read_u64(const std::filesystem::path& path, std::size_t offset) {
  std::uint64_t value = 0;
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(reinterpret_cast<char*>(&value), sizeof value);
  EXPECT_TRUE(in) << "cannot read " << path;
  return value;
}

// The sequence number the next consumer resumes at: the released position, in records (the ring
// holds the whole run, so there is no padding record to count).
std::uint64_t released_sequence(const std::filesystem::path& queue) {
  const std::uint64_t initial = read_u64(queue, offsetof(layout::Header, identity.initial_position));
  const std::uint64_t position = read_u64(queue, offsetof(layout::Header, consumer.position));
  return (position - initial) / layout::record_size(kSize);
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Every line of the file is whole and well-formed; the sequence numbers start at 0, never skip
// one, step back only to where a run resumed (re-delivery), and end with the last message.
void expect_whole_lines_without_gap(const std::string& text, const std::set<std::uint64_t>& resumes) {
  ASSERT_TRUE(text.empty() || text.back() == '\n')
      << "partial last line: \"" << text.substr(text.rfind('\n') + 1) << "\"";
  std::uint64_t next = 0;  // the sequence after the previous line's
  std::size_t begin = 0;
  for (std::size_t end = text.find('\n'); end != std::string::npos; end = text.find('\n', begin)) {
    const std::string_view line(text.data() + begin, end - begin);
    const std::optional<std::uint64_t> sequence = shmq_sample::embedded_sequence(line);
    ASSERT_TRUE(sequence.has_value() && line.size() == kSize) << "byte " << begin << ": torn line \"" << line << "\"";
    ASSERT_EQ(shmq_sample::check_payload(std::as_bytes(std::span(line)), *sequence), shmq_sample::PayloadCheck::ok)
        << "byte " << begin << ": \"" << line << "\"";
    ASSERT_LE(*sequence, next) << "byte " << begin << ": gap before sequence " << *sequence;
    if (*sequence != next) {
      ASSERT_TRUE(resumes.contains(*sequence))
          << "byte " << begin << ": sequence " << *sequence << " repeated, but no run resumed there";
    }
    next = *sequence + 1;
    begin = end + 1;
  }
  EXPECT_EQ(next, kMessages) << "the last line must be the last message";
}

TEST(ConsumerStdoutKillStorm, EveryLineInTheFileIsWholeAndNothingIsLost) {
  const std::uint64_t seed = test::test_seed();
  std::printf("seed %llu, %d kills (set SHMQ_TEST_SEED to repeat)\n", static_cast<unsigned long long>(seed), kKills);
  std::mt19937_64 rng(seed);
  test::TempQueue q;
  test::TempQueue output;  // a unique path under /dev/shm for the consumers' stdout
  { std::ofstream create(output.path()); }
  create_queue(q.path(), {.capacity = 64 << 20});  // holds the whole run: the producer never waits
  ChildProcess producer({SHMQ_PRODUCER_PATH, "--queue", q.str(), "--count", std::to_string(kMessages), "--size",
                         std::to_string(kSize), "--quiet"});

  std::set<std::uint64_t> resumes;  // where each run started: the position released before it
  int runs = 0;
  for (bool done = false; !done; ++runs) {
    resumes.insert(released_sequence(q.path()));
    const std::uintmax_t start = std::filesystem::file_size(output.path());
    ChildProcess consumer({SHMQ_CONSUMER_PATH, "--queue", q.str(), "--stdout", "--quiet"},
                          ProgramIo::output_appended_to(output.path()));
    if (runs < kKills) {
      // Kill it once it has written a random amount (or let it be when it finishes first).
      const std::uintmax_t target = start + 1 + rng() % (2 << 20);
      ASSERT_TRUE(
          test::eventually([&] { return std::filesystem::file_size(output.path()) >= target || !consumer.running(); }));
      consumer.kill_hard();
    }
    const int rc = consumer.exit_code();
    done = rc == 0;
    ASSERT_TRUE(done || rc == 128 + SIGKILL) << consumer.describe();
  }
  EXPECT_EQ(producer.exit_code(), 0) << producer.describe();
  const std::string text = slurp(output.path());
  std::printf("%d runs, %zu bytes of output\n", runs, text.size());
  ASSERT_NO_FATAL_FAILURE(expect_whole_lines_without_gap(text, resumes));
}

}  // namespace
}  // namespace shmq
