// shmq-logd, shmq-log and the sink, driven as real programs: every line once and in order across
// kills of the application and of the shipper, rotation with zstd, full queues, garbage in the
// spool. Random kill points come from a seed that is printed (SHMQ_TEST_SEED replays it).
#include <csignal>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "support/child_process.hpp"
#include "shipped_output.hpp"
#include "shmq/log/record.hpp"
#include "shmq/log/spool.hpp"
#include "shmq/shmq.hpp"
#include "support/temp_queue.hpp"
#include "temp_spool.hpp"

namespace shmq::log {
namespace {

using shmq::test::eventually;
using Program = shmq::test::ChildProcess;

const std::string kLogd = SHMQ_LOGD_PATH;
const std::string kLogSend = SHMQ_LOG_PATH;
const std::string kApp = SHMQ_LOG_APP_PATH;

int iterations(int default_count) {
  if (const char* s = std::getenv("SHMQ_LOG_STORM_ITERATIONS")) return std::atoi(s);
  return default_count;
}

class Shipping : public ::testing::Test {
 protected:
  test::TempDir spool_;
  test::TempDir out_;
  std::filesystem::path output() const { return out_ / "app.log"; }

  std::vector<std::string> logd_args(std::vector<std::string> extra = {}) const {
    std::vector<std::string> args = {kLogd, "--spool", spool_.path().string(), "--output", output().string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  // Runs the shipper until every queue in the spool is shipped and removed.
  void drain(std::vector<std::string> extra = {}) {
    extra.push_back("--exit-when-drained");
    Program shipper(logd_args(extra));
    ASSERT_EQ(shipper.exit_code(), 0) << shipper.describe();
  }
  std::vector<std::string> app_args(const std::string& name, std::uint64_t count, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {kApp, "--spool", spool_.path().string(), "--name",
                                     name, "--count", std::to_string(count)};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  std::size_t lines_containing(const std::string& text) const {
    std::size_t n = 0;
    for (const std::string& line : test::shipped_lines(output())) n += line.find(text) != std::string::npos;
    return n;
  }
};

std::filesystem::path write_file(const std::filesystem::path& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

TEST_F(Shipping, ShmqLogSendsEachLineOfItsInput) {
  const std::filesystem::path input = write_file(out_ / "input.txt", "first\n\nthird line\nno newline at the end");
  Program send({kLogSend, "--spool", spool_.path().string(), "--name", "script"},
               shmq::test::ProgramIo::input_from(input));
  ASSERT_EQ(send.exit_code(), 0) << send.describe();
  drain();
  const std::vector<std::string> lines = test::shipped_lines(output());
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], "first");
  EXPECT_EQ(lines[1], "");
  EXPECT_EQ(lines[2], "third line");
  EXPECT_EQ(lines[3], "no newline at the end");
  EXPECT_NE(lines[4].find("shmq-logd: script."), std::string::npos) << lines[4];
  EXPECT_NE(lines[4].find("ended cleanly"), std::string::npos) << lines[4];
  EXPECT_TRUE(test::spool_queues(spool_.path()).empty()) << "a drained queue of an ended process is removed";
}

TEST_F(Shipping, MergesProcessesByTimeAndKeepsRunningAcrossRestarts) {
  Program first(app_args("first", 300));
  ASSERT_EQ(first.exit_code(), 0) << first.describe();
  Program second(app_args("second", 300));
  ASSERT_EQ(second.exit_code(), 0) << second.describe();
  drain();
  const std::vector<std::string> lines = test::shipped_lines(output());
  // Every line of `first` was logged before any of `second`: the merge by time keeps that.
  std::size_t last_first = 0;
  std::size_t first_second = lines.size();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind("first ", 0) == 0) last_first = i;
    if (lines[i].rfind("second ", 0) == 0) first_second = std::min(first_second, i);
  }
  EXPECT_LT(last_first, first_second);
  auto numbers = test::numbers_by_name(lines);
  EXPECT_EQ(test::check_sequence(numbers["first"]), "");
  EXPECT_EQ(numbers["first"].size(), 300u);
  EXPECT_EQ(numbers["second"].size(), 300u);
  // A second shipper run finds nothing more to ship and repeats nothing.
  Program third(app_args("third", 10));
  ASSERT_EQ(third.exit_code(), 0) << third.describe();
  drain();
  numbers = test::numbers_by_name(test::shipped_lines(output()));
  EXPECT_EQ(numbers["first"].size(), 300u);
  EXPECT_EQ(numbers["third"].size(), 10u);
}

// The application is killed at random points while the shipper runs: every line it reported as
// logged (the spdlog call had returned) is shipped, once, in order.
TEST_F(Shipping, KillStormOfTheApplicationLosesNoCommittedLine) {
  const std::uint64_t seed = shmq::test::test_seed();
  std::printf("seed %llu (SHMQ_TEST_SEED replays it)\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  Program shipper(logd_args());
  const int kills = iterations(50);
  std::vector<std::uint64_t> reported(static_cast<std::size_t>(kills), 0);
  for (int k = 0; k < kills; ++k) {
    Program app(app_args("kill" + std::to_string(k), 0, {"--report"}), shmq::test::ProgramIo::output_to_pipe());
    const std::uint64_t kill_after = rng() % 3000;
    std::string text;
    while (std::count(text.begin(), text.end(), '\n') < static_cast<std::ptrdiff_t>(kill_after)) {
      ASSERT_TRUE(app.read_some(text)) << app.describe();
    }
    app.kill_hard();
    reported[static_cast<std::size_t>(k)] = shmq::test::complete_lines(text).size();
  }
  ::kill(shipper.pid(), SIGTERM);
  ASSERT_EQ(shipper.exit_code(), 0) << shipper.describe();
  drain();
  const auto numbers = test::numbers_by_name(test::shipped_lines(output()));
  for (int k = 0; k < kills; ++k) {
    const std::string name = "kill" + std::to_string(k);
    const auto it = numbers.find(name);
    const std::vector<std::uint64_t> none;
    const std::vector<std::uint64_t>& got = it == numbers.end() ? none : it->second;
    EXPECT_EQ(test::check_sequence(got), "") << name;
    EXPECT_GE(got.size(), reported[static_cast<std::size_t>(k)]) << name << ": a reported line is missing";
  }
}

// The shipper is killed at random points while three applications log (and rotation with zstd
// runs): the output holds every line once, in order, and each end line once.
TEST_F(Shipping, ShipperStormRepeatsAndLosesNothing) {
  const std::uint64_t seed = shmq::test::test_seed();
  std::printf("seed %llu (SHMQ_TEST_SEED replays it)\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  constexpr std::uint64_t kLines = 20000;
  std::vector<std::unique_ptr<Program>> apps;
  for (int a = 0; a < 3; ++a) {
    apps.push_back(std::make_unique<Program>(
        app_args("app" + std::to_string(a), kLines, {"--capacity", "65536", "--bound-ms", "600000"})));
  }
  const std::vector<std::string> shipper_args = {"--max-size", "262144", "--compress", "zstd"};
  const int kills = iterations(50);
  std::uint64_t shipped_before = 0;
  for (int k = 0; k < kills; ++k) {
    Program shipper(logd_args(shipper_args));
    // Kill it once the output has grown by a random amount (or everything is shipped already).
    const std::uint64_t grow = rng() % 20000;
    ASSERT_TRUE(eventually([&] {
      std::error_code ec;
      const std::uint64_t size = std::filesystem::file_size(output(), ec);
      const std::uint64_t total = ec ? 0 : size + test::rotated_count(output()) * 262144;
      return total >= shipped_before + grow || test::spool_queues(spool_.path()).empty() || !shipper.running();
    })) << shipper.describe();
    shipper.kill_hard();
    std::error_code ec;
    shipped_before = std::filesystem::file_size(output(), ec) + test::rotated_count(output()) * 262144;
  }
  {
    Program last(logd_args({"--max-size", "262144", "--compress", "zstd", "--exit-when-drained"}));
    for (auto& app : apps) {
      ASSERT_EQ(app->exit_code(), 0) << app->describe();
      EXPECT_NE(app->out().find("dropped 0 "), std::string::npos) << app->out();
    }
    ASSERT_EQ(last.exit_code(), 0) << last.describe();
  }
  const auto numbers = test::numbers_by_name(test::shipped_lines(output()));
  for (int a = 0; a < 3; ++a) {
    const std::string name = "app" + std::to_string(a);
    ASSERT_TRUE(numbers.contains(name)) << name;
    EXPECT_EQ(test::check_sequence(numbers.at(name)), "") << name;
    EXPECT_EQ(numbers.at(name).size(), kLines) << name;
    EXPECT_EQ(lines_containing("shmq-logd: " + name + "."), 1u) << "one end line for " << name;
  }
}

// Eight applications into one file, rotated many times and compressed: decompressed and
// concatenated, every line of every application is there once, in order.
TEST_F(Shipping, EightProcessesIntoOneRotatedCompressedFile) {
  constexpr std::uint64_t kLines = 5000;
  std::vector<std::unique_ptr<Program>> apps;
  for (int a = 0; a < 8; ++a) {
    apps.push_back(std::make_unique<Program>(app_args(
        "p" + std::to_string(a), kLines, {"--capacity", "65536", "--bound-ms", "600000", "--text-size", "60"})));
  }
  ASSERT_TRUE(eventually([&] { return test::spool_queues(spool_.path()).size() == 8; }));
  Program shipper(logd_args({"--max-size", "100000", "--compress", "zstd", "--keep", "0", "--exit-when-drained"}));
  for (auto& app : apps) ASSERT_EQ(app->exit_code(), 0) << app->describe();
  ASSERT_EQ(shipper.exit_code(), 0) << shipper.describe();
  EXPECT_GE(test::rotated_count(output()), 3u);
  for (const auto& e : std::filesystem::directory_iterator(out_.path())) {
    const std::string name = e.path().filename().string();
    if (name.rfind("app.log.", 0) == 0) {
      EXPECT_TRUE(name.ends_with(".zst")) << name << " was not compressed";
    }
  }
  const auto numbers = test::numbers_by_name(test::shipped_lines(output()));
  for (int a = 0; a < 8; ++a) {
    const std::string name = "p" + std::to_string(a);
    ASSERT_TRUE(numbers.contains(name)) << name;
    EXPECT_EQ(test::check_sequence(numbers.at(name)), "") << name;
    EXPECT_EQ(numbers.at(name).size(), kLines) << name;
  }
}

std::uint64_t field_after(const std::string& text, const std::string& key) {
  const std::size_t at = text.find(key);
  return at == std::string::npos ? UINT64_MAX : std::stoull(text.substr(at + key.size()));
}

// Records dropped in every full-queue test: the sum of the shipper's drop lines for `name`.
std::uint64_t reported_drops(const std::vector<std::string>& lines, const std::string& name) {
  std::uint64_t sum = 0;
  for (const std::string& line : lines) {
    if (line.rfind("shmq-logd: " + name + ".", 0) != 0) continue;
    const std::size_t at = line.find(" records dropped");
    if (at == std::string::npos) continue;
    const std::size_t start = line.rfind(' ', at - 1) + 1;
    sum += std::stoull(line.substr(start, at - start));
  }
  return sum;
}

// No shipper: the application logs far past its queue's capacity. It is never held longer than
// its bound (the hang detector is ctest's timeout), and the output says exactly how many lines
// it dropped; the others are all there, in order.
TEST_F(Shipping, FullQueueDropsAreCountedExactly) {
  for (const std::vector<std::string>& policy :
       {std::vector<std::string>{"--drop"}, std::vector<std::string>{"--bound-ms", "100"}}) {
    const std::string name = policy[0] == "--drop" ? "dropper" : "blocker";
    Program app(app_args(name, 2000, {"--capacity", "4096", policy[0], policy.size() > 1 ? policy[1] : "--drop"}));
    ASSERT_EQ(app.exit_code(), 0) << app.describe();
    const std::uint64_t dropped = field_after(app.out(), "dropped ");
    const std::uint64_t longest_ns = field_after(app.out(), "longest_call_ns ");
    ASSERT_NE(dropped, UINT64_MAX) << app.out();
    EXPECT_GT(dropped, 1000u) << "a 4 KiB queue holds about a hundred of these lines";
    std::printf("%s: %llu dropped, longest call %.3f ms\n", name.c_str(), static_cast<unsigned long long>(dropped),
                static_cast<double>(longest_ns) / 1e6);
    drain();
    const std::vector<std::string> lines = test::shipped_lines(output());
    const auto numbers = test::numbers_by_name(lines);
    ASSERT_TRUE(numbers.contains(name));
    EXPECT_EQ(numbers.at(name).size() + dropped, 2000u);
    EXPECT_EQ(test::check_sequence(numbers.at(name)), "") << "the lines that fit are the first ones";
    EXPECT_EQ(reported_drops(lines, name), dropped);
  }
}

// A queue whose producer writes records that are not log records, a file of random bytes, a
// truncated queue and a stranger: each is reported and set aside (or skipped), never deleted,
// and the good source's output is complete.
TEST_F(Shipping, GarbageInTheSpoolIsSetAsideAndTheRestFlows) {
  const std::uint64_t seed = shmq::test::test_seed();
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  {
    Producer bad = Producer::create(spool_ / "bad.1.2.q", {.capacity = 65536});
    for (int i = 0; i < 3; ++i) {
      const std::string text = "bad " + std::to_string(i);
      Record r;
      r.text = text;
      std::vector<std::byte> bytes(encoded_size(r));
      encode(r, bytes);
      ASSERT_TRUE(bad.send(bytes).ok());
    }
    ASSERT_TRUE(bad.send("this is not a log record").ok());
    Record after;
    after.text = "bad 3";
    std::vector<std::byte> bytes(encoded_size(after));
    encode(after, bytes);
    ASSERT_TRUE(bad.send(bytes).ok());
  }
  std::string junk(20000, '\0');
  for (char& c : junk) c = static_cast<char>(rng());
  write_file(spool_ / "junk.1.3.q", junk);
  {
    Producer truncated = Producer::create(spool_ / "trunc.1.4.q", {.capacity = 65536});
    (void)truncated.send("x");
  }
  std::filesystem::resize_file(spool_ / "trunc.1.4.q", 8192);
  write_file(spool_ / "notes.txt", "not a queue");
  Program good(app_args("good", 500));
  ASSERT_EQ(good.exit_code(), 0) << good.describe();

  drain();
  const std::vector<std::string> lines = test::shipped_lines(output());
  const auto numbers = test::numbers_by_name(lines);
  ASSERT_TRUE(numbers.contains("good"));
  EXPECT_EQ(numbers.at("good").size(), 500u);
  EXPECT_EQ(test::check_sequence(numbers.at("good")), "");
  ASSERT_TRUE(numbers.contains("bad"));
  EXPECT_EQ(numbers.at("bad").size(), 3u) << "what came before the invalid record is shipped, nothing after";
  EXPECT_EQ(lines_containing("shmq-logd: bad.1.2.q: set aside"), 1u);
  const std::vector<std::string> aside = test::names_in(spool_ / std::string(kSetAsideDir));
  for (const char* name : {"bad.1.2.q", "bad.1.2.q.drops", "junk.1.3.q", "trunc.1.4.q"}) {
    if (std::string(name) == "bad.1.2.q.drops") continue;  // made by hand: it has no drop counter
    EXPECT_NE(std::find(aside.begin(), aside.end(), name), aside.end()) << name << " not set aside";
  }
  EXPECT_EQ(shmq::test::read_file(spool_ / ".set-aside" / "junk.1.3.q").size(), junk.size()) << "moved, not changed";
  EXPECT_TRUE(std::filesystem::exists(spool_ / "notes.txt")) << "a stranger is skipped, never moved or deleted";
  Program stat({kLogd, "--spool", spool_.path().string(), "--json-stat"});
  ASSERT_EQ(stat.exit_code(), 0) << stat.describe();
  for (const char* name : {"bad.1.2.q", "junk.1.3.q", "trunc.1.4.q", "notes.txt"}) {
    EXPECT_NE(stat.out().find(name), std::string::npos) << name << " missing from " << stat.out();
  }
}

TEST_F(Shipping, KeepsOnlyTheNewestRotatedFiles) {
  Program app(app_args("kept", 3000, {"--text-size", "60"}));
  ASSERT_EQ(app.exit_code(), 0) << app.describe();
  drain({"--max-size", "20000", "--keep", "2"});
  const std::vector<std::string> names = test::names_in(out_.path());
  std::vector<std::string> rotated;
  for (const std::string& name : names) {
    if (name.rfind("app.log.", 0) == 0) rotated.push_back(name);
  }
  ASSERT_EQ(rotated.size(), 2u) << "--keep 2";
  // 3000 lines of ~70 bytes in files of 20000: at least 10 rotations; the two kept are the last.
  EXPECT_GE(std::stoul(rotated[0].substr(8)), 9u) << rotated[0];
  EXPECT_EQ(std::stoul(rotated[1].substr(8)), std::stoul(rotated[0].substr(8)) + 1);
  const auto numbers = test::numbers_by_name(test::shipped_lines(output()));
  ASSERT_TRUE(numbers.contains("kept"));
  EXPECT_EQ(numbers.at("kept").back(), 2999u) << "the newest lines are in the kept files";
}

TEST_F(Shipping, RefusesADamagedStateFileAndLeavesItAlone) {
  const std::filesystem::path state = out_ / ".app.log.shmq-logd-state";
  write_file(state, "shmq-logd-state 1\noutput_length many\nend\n");
  Program shipper(logd_args());
  EXPECT_EQ(shipper.exit_code(), 2) << shipper.describe();
  EXPECT_NE(shipper.err().find(state.string()), std::string::npos) << shipper.err();
  EXPECT_NE(shipper.err().find("line 2"), std::string::npos) << shipper.err();
  std::ifstream in(state);
  const std::string after{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  EXPECT_EQ(after, "shmq-logd-state 1\noutput_length many\nend\n");
}

TEST_F(Shipping, StatusShowsEachSourceWhileRunning) {
  Program app(app_args("slow", 0, {"--report"}), shmq::test::ProgramIo::output_to_pipe());
  std::string text;
  while (std::count(text.begin(), text.end(), '\n') < 10) ASSERT_TRUE(app.read_some(text)) << app.describe();
  Program shipper(logd_args());
  ASSERT_TRUE(eventually([&] {
    Program stat({kLogd, "--spool", spool_.path().string(), "--json-stat"});
    return stat.exit_code() == 0 && stat.out().find("\"name\":\"slow.") != std::string::npos;
  }));
  Program stat({kLogd, "--spool", spool_.path().string(), "--stat"});
  ASSERT_EQ(stat.exit_code(), 0) << stat.describe();
  EXPECT_NE(stat.out().find("active"), std::string::npos) << stat.out();
  Program second(logd_args());
  EXPECT_EQ(second.exit_code(), 2) << "a second shipper on the same spool is refused";
  EXPECT_NE(second.err().find("another shmq-logd"), std::string::npos) << second.describe();
  ::kill(shipper.pid(), SIGTERM);
  EXPECT_EQ(shipper.exit_code(), 0) << shipper.describe();
}

}  // namespace
}  // namespace shmq::log
