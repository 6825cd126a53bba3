// The spdlog sink in one process: what a record holds, the full-queue policies and their drop
// count, the close record, and a fork's child getting a queue of its own.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shmq/log/drop_counter.hpp"
#include "shmq/log/sink.hpp"
#include "shmq/log/spool.hpp"
#include "shmq/shmq.hpp"
#include "temp_spool.hpp"

namespace shmq::log {
namespace {

using namespace std::chrono_literals;

struct Shipped {
  std::vector<Record> records;
  std::vector<std::string> texts;  // owned copies of the record texts
  std::vector<std::string> names;
};

// Everything in `queue` now, decoded (a failed decode fails the test).
Shipped read_all(const std::filesystem::path& queue) {
  Shipped out;
  Consumer consumer = Consumer::open(queue);
  while (true) {
    Result<Message> m = consumer.try_receive();
    if (!m.ok()) break;
    const Decoded d = decode(m->bytes);
    EXPECT_TRUE(d) << d.error;
    if (!d) break;
    out.records.push_back(d.record);
    out.texts.emplace_back(d.record.text);
    out.names.emplace_back(d.record.logger_name);
  }
  consumer.release();
  for (std::size_t i = 0; i < out.records.size(); ++i) {
    out.records[i].text = out.texts[i];
    out.records[i].logger_name = out.names[i];
  }
  return out;
}

SinkOptions options_for(const test::TempDir& spool) {
  SinkOptions o;
  o.spool = spool.path();
  o.program = "sinktest";
  o.capacity = 4096;
  return o;
}

TEST(SpoolSink, RecordCarriesTimeLevelNameThreadAndFormattedText) {
  test::TempDir spool;
  std::filesystem::path queue;
  const auto before = std::chrono::system_clock::now();
  {
    auto sink = std::make_shared<spool_sink_mt>(options_for(spool));
    spdlog::logger logger("orders", sink);
    logger.set_pattern("[%l] %v");
    logger.info("filled {} at {}", 100, 3.5);
    logger.warn("second");
    queue = sink->queue_path();
    EXPECT_EQ(queue.parent_path(), spool.path());
    EXPECT_EQ(queue.filename().string().rfind("sinktest." + std::to_string(::getpid()) + ".", 0), 0u) << queue;
    EXPECT_TRUE(std::filesystem::exists(drops_path(queue)));
  }
  const auto after = std::chrono::system_clock::now();
  const Shipped shipped = read_all(queue);
  ASSERT_EQ(shipped.records.size(), 3u);
  const Record& first = shipped.records[0];
  EXPECT_EQ(first.kind, RecordKind::line);
  EXPECT_EQ(first.text, "[info] filled 100 at 3.5");
  EXPECT_EQ(first.level, static_cast<std::uint8_t>(spdlog::level::info));
  EXPECT_EQ(first.logger_name, "orders");
  EXPECT_NE(first.thread_id, 0u);
  const auto ns = [](auto t) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
  };
  EXPECT_GE(first.time_unix_ns, ns(before));
  EXPECT_LE(first.time_unix_ns, ns(after));
  EXPECT_EQ(shipped.records[1].text, "[warning] second");
  EXPECT_EQ(shipped.records[2].kind, RecordKind::close) << "a destroyed sink ends with a close record";
}

TEST(SpoolSink, DropPolicyCountsEveryRecordThatDidNotFit) {
  test::TempDir spool;
  SinkOptions o = options_for(spool);
  o.when_full = FullPolicy::drop;
  auto sink = std::make_shared<spool_sink_mt>(o);
  spdlog::logger logger("full", sink);
  logger.set_pattern("%v");
  constexpr int kCalls = 1000;  // 4 KiB ring, ~40-byte records: most are dropped
  for (int i = 0; i < kCalls; ++i) logger.info("line {:06d}", i);
  const std::uint64_t dropped = sink->dropped();
  EXPECT_GT(dropped, 0u);
  const DropCountRead in_file = read_drop_count(drops_path(sink->queue_path()));
  ASSERT_TRUE(in_file.count) << in_file.error;
  EXPECT_EQ(in_file.count->dropped, dropped);
  EXPECT_LE(in_file.count->first_drop_unix_ns, in_file.count->last_drop_unix_ns);
  // What was not dropped is in the queue, in order, from line 0 on.
  const Shipped shipped = read_all(sink->queue_path());
  ASSERT_EQ(shipped.records.size() + dropped, static_cast<std::size_t>(kCalls));
  for (std::size_t i = 0; i < shipped.records.size(); ++i) {
    EXPECT_EQ(shipped.records[i].text, fmt::format("line {:06d}", i));
  }
}

TEST(SpoolSink, BlockPolicyWaitsTheBoundOnceThenDrops) {
  test::TempDir spool;
  SinkOptions o = options_for(spool);
  o.when_full = FullPolicy::block;
  o.block_bound = 20ms;
  auto sink = std::make_shared<spool_sink_mt>(o);
  spdlog::logger logger("full", sink);
  logger.set_pattern("%v");
  // No shipper ever attaches: the first record that does not fit waits the bound, the rest drop
  // at once. 1000 calls waiting 20 ms each would take 20 s; the hang detector is ctest's timeout.
  for (int i = 0; i < 1000; ++i) logger.info("line {:06d}", i);
  const std::uint64_t dropped = sink->dropped();
  EXPECT_GT(dropped, 0u);
  const Shipped shipped = read_all(sink->queue_path());
  EXPECT_EQ(shipped.records.size() + dropped, 1000u);
  // Room again: the next record goes in.
  logger.info("after");
  EXPECT_EQ(sink->dropped(), dropped);
}

TEST(SpoolSink, LongTextIsCutToTheLargestMessageAndFlagged) {
  test::TempDir spool;
  auto sink = std::make_shared<spool_sink_mt>(options_for(spool));
  spdlog::logger logger("long", sink);
  logger.set_pattern("%v");
  logger.info("{}", std::string(10000, 'x'));
  const Shipped shipped = read_all(sink->queue_path());
  ASSERT_GE(shipped.records.size(), 1u);
  EXPECT_EQ(shipped.records[0].flags & kFlagTruncated, kFlagTruncated);
  EXPECT_EQ(shipped.records[0].text, std::string(shipped.records[0].text.size(), 'x'));
  EXPECT_LT(shipped.records[0].text.size(), 4096u);
}

TEST(SpoolSink, ForkedChildLogsIntoAQueueOfItsOwn) {
  test::TempDir spool;
  auto sink = std::make_shared<spool_sink_mt>(options_for(spool));
  spdlog::logger logger("forked", sink);
  logger.set_pattern("%v");
  logger.info("parent before");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    logger.info("child");
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  logger.info("parent after");
  const std::vector<std::filesystem::path> queues = test::spool_queues(spool.path());
  ASSERT_EQ(queues.size(), 2u);
  for (const auto& q : queues) {
    const Shipped shipped = read_all(q);
    if (q == sink->queue_path()) {
      ASSERT_EQ(shipped.records.size(), 2u);
      EXPECT_EQ(shipped.records[0].text, "parent before");
      EXPECT_EQ(shipped.records[1].text, "parent after");
    } else {
      EXPECT_NE(q.filename().string().find("." + std::to_string(child) + "."), std::string::npos) << q;
      ASSERT_GE(shipped.records.size(), 1u);
      EXPECT_EQ(shipped.records[0].text, "child");
    }
  }
}

TEST(SpoolSink, ThreadsKeepEachOwnOrder) {
  test::TempDir spool;
  SinkOptions o = options_for(spool);
  o.capacity = 1 << 20;
  auto sink = std::make_shared<spool_sink_mt>(o);
  spdlog::logger logger("threads", sink);
  logger.set_pattern("%v");
  constexpr int kThreads = 4;
  constexpr int kEach = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) logger.info("{} {}", t, i);
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(sink->dropped(), 0u);
  const Shipped shipped = read_all(sink->queue_path());
  ASSERT_EQ(shipped.records.size(), static_cast<std::size_t>(kThreads * kEach));
  std::vector<int> next(kThreads, 0);
  for (const Record& r : shipped.records) {
    int t = 0, i = 0;
    ASSERT_EQ(std::sscanf(std::string(r.text).c_str(), "%d %d", &t, &i), 2);
    ASSERT_EQ(i, next[t]) << "thread " << t;
    ++next[t];
  }
}

}  // namespace
}  // namespace shmq::log
