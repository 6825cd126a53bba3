// Multi-process tests of the real sample programs, shmq-producer and shmq-consumer: bulk transfer
// with --verify, --stdin/--stdout, kill -9 of either side, a second producer, bad arguments.
// The test process itself plays the consumer where it must observe the stream exactly.
//
// No sleeps synchronise anything: every wait polls a condition (a file exists, a message
// arrived, a process exited) under a generous deadline that fails the test instead of hanging.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <unistd.h>

#include "layout.hpp"
#include "shmq/shmq.hpp"
#include "shmq_sample/exit_codes.hpp"
#include "shmq_sample/payload.hpp"
#include "support/child_process.hpp"
#include "support/temp_queue.hpp"

namespace shmq {
namespace {

using test::ChildProcess;
using test::ProgramIo;

const std::string kProducer = SHMQ_PRODUCER_PATH;
const std::string kConsumer = SHMQ_CONSUMER_PATH;

// Far more messages than any test lets through: a producer that must still be running when the
// test acts on it.
const std::string kEndless = "1000000000000";

bool path_exists(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::exists(std::filesystem::symlink_status(p, ec));
}

// Waits until the producer has created the queue (the file appears complete, by rename).
void wait_for_queue(const std::filesystem::path& queue, ChildProcess& producer) {
  ASSERT_TRUE(test::eventually([&] { return path_exists(queue) || !producer.running(); }))
      << "queue never appeared" << producer.describe();
  ASSERT_TRUE(path_exists(queue)) << "the producer exited before creating the queue" << producer.describe();
}

nlohmann::json summary_of(const std::string& output) {
  const std::string line = test::last_line(output);
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  EXPECT_TRUE(j.is_object()) << "the last line is not a JSON object: " << line;
  return j;
}

// Receives one message as the test's own consumer, checks it is the generated payload of
// `expected` and releases it.
void receive_generated(Consumer& consumer, std::uint64_t& expected) {
  Result<Message> m = consumer.receive_for(test::kHangDetector);
  ASSERT_TRUE(m) << "message " << expected << ": " << to_string(m.status());
  ASSERT_EQ(m->sequence, expected);
  ASSERT_EQ(shmq_sample::check_payload(m->bytes, m->sequence), shmq_sample::PayloadCheck::ok)
      << "message " << m->sequence << ": " << m->text();
  consumer.release();
  ++expected;
}

// ---- Bulk transfer ----

TEST(SamplePrograms, TenMillionMessagesVerifiedWithoutGapDuplicateOrCorruption) {
  const std::uint64_t count = 10'000'000;
  std::printf("moving %llu messages of 40 bytes through a 1 MiB ring\n", static_cast<unsigned long long>(count));
  test::TempQueue q;
  const auto started = std::chrono::steady_clock::now();
  ChildProcess producer({kProducer, "--queue", q.str(), "--create", "--capacity", "1MiB", "--count",
                         std::to_string(count), "--size", "40"});
  ASSERT_NO_FATAL_FAILURE(wait_for_queue(q.path(), producer));
  ChildProcess consumer({kConsumer, "--queue", q.str(), "--count", std::to_string(count), "--verify", "--json"});
  ASSERT_EQ(producer.exit_code(), 0) << producer.describe();
  ASSERT_EQ(consumer.exit_code(), 0) << consumer.describe();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  const nlohmann::json s = summary_of(consumer.out());
  EXPECT_EQ(s.value("messages", 0ULL), count) << s.dump();
  EXPECT_EQ(s.value("bytes", 0ULL), count * 40) << s.dump();
  EXPECT_EQ(s.value("first_sequence", 1ULL), 0U) << s.dump();
  EXPECT_EQ(s.value("last_sequence", 0ULL), count - 1) << s.dump();
  EXPECT_EQ(s.value("gaps", 1ULL), 0U) << s.dump();
  EXPECT_EQ(s.value("duplicates", 1ULL), 0U) << s.dump();
  EXPECT_EQ(s.value("corrupt", 1ULL), 0U) << s.dump();
  EXPECT_EQ(s.value("verified", false), true) << s.dump();
  EXPECT_EQ(s.value("end", ""), "count") << s.dump();
  std::printf("%.2f s in all; consumer: %s\n", seconds, s.dump().c_str());
}

// Whether a process has attached as the consumer of `queue` (the counter in its header).
bool consumer_has_attached(const std::filesystem::path& queue) {
  std::uint32_t count = 0;
  std::ifstream in(queue, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offsetof(layout::Header, consumer) + offsetof(layout::RoleLine, attach_count)));
  in.read(reinterpret_cast<char*>(&count), sizeof count);
  return in && count > 0;
}

nlohmann::json expect_clean_summary(const ChildProcess& consumer, std::uint64_t messages) {
  const nlohmann::json s = summary_of(consumer.out());
  EXPECT_EQ(s.value("messages", 0ULL), messages) << s.dump();
  EXPECT_EQ(s.value("first_sequence", 1ULL), 0U) << s.dump();
  EXPECT_EQ(s.value("last_sequence", 0ULL), messages - 1) << s.dump();
  EXPECT_EQ(s.value("gaps", 1ULL), 0U) << s.dump();
  EXPECT_EQ(s.value("duplicates", 1ULL), 0U) << s.dump();
  EXPECT_EQ(s.value("corrupt", 1ULL), 0U) << s.dump();
  EXPECT_EQ(s.value("end", ""), "count") << s.dump();
  return s;
}

TEST(SamplePrograms, ConsumerStartedBeforeItsProducerWaitsForIt) {
  test::TempQueue q;
  create_queue(q.path(), {.capacity = 64 * 1024});
  ChildProcess consumer({kConsumer, "--queue", q.str(), "--count", "10000", "--verify", "--json"});
  ASSERT_TRUE(test::eventually([&] { return consumer_has_attached(q.path()) || !consumer.running(); }));
  ASSERT_TRUE(consumer.running()) << "a consumer with no producer yet must wait" << consumer.describe();
  ChildProcess producer({kProducer, "--queue", q.str(), "--count", "10000", "--size", "40"});
  ASSERT_EQ(producer.exit_code(), 0) << producer.describe();
  ASSERT_EQ(consumer.exit_code(), 0) << consumer.describe();
  expect_clean_summary(consumer, 10000);
}

// --follow: the consumer outlives a producer that finished and takes the next one's messages.
TEST(SamplePrograms, FollowWaitsForTheNextProducer) {
  test::TempQueue q;
  create_queue(q.path(), {.capacity = 64 * 1024});
  ChildProcess consumer({kConsumer, "--queue", q.str(), "--follow", "--count", "3000", "--verify", "--json"});
  ChildProcess first({kProducer, "--queue", q.str(), "--count", "1000", "--size", "40"});
  ASSERT_EQ(first.exit_code(), 0) << first.describe();
  // It has drained the queue and seen that no producer is attached, and it is still there.
  const std::string waiting =
      "no producer attached to " + q.str() + " and the queue is drained: waiting for the next one";
  ASSERT_TRUE(
      test::eventually([&] { return consumer.err().find(waiting) != std::string::npos || !consumer.running(); }));
  ASSERT_TRUE(consumer.running()) << consumer.describe();
  ChildProcess second({kProducer, "--queue", q.str(), "--count", "3000", "--size", "40"});  // continues: 2000 more
  ASSERT_EQ(second.exit_code(), 0) << second.describe();
  ASSERT_EQ(consumer.exit_code(), 0) << consumer.describe();
  expect_clean_summary(consumer, 3000);
}

// ---- Progress line: on a terminal only ----

TEST(SamplePrograms, ProgressLinesOnATerminalAndNoneInAFile) {
  test::TempQueue q;
  create_queue(q.path(), {.capacity = 64 * 1024});
  ChildProcess consumer({kConsumer, "--queue", q.str(), "--verify"}, ProgramIo::terminal());
  ChildProcess producer({kProducer, "--queue", q.str(), "--count", kEndless, "--size", "40"}, ProgramIo::terminal());
  // A line rewritten in place: a carriage return, the text, and "erase to the end of the line".
  ASSERT_TRUE(producer.read_until("\rshmq-producer: "));
  ASSERT_TRUE(producer.read_until("msg/s\x1b[K"));
  ASSERT_TRUE(consumer.read_until("\rshmq-consumer: "));
  ASSERT_TRUE(consumer.read_until("msg/s\x1b[K"));
  ::kill(producer.pid(), SIGINT);  // Ctrl-C: the producer stops, the consumer drains and stops
  EXPECT_EQ(producer.finish().exit_code, 130) << producer.output();
  EXPECT_EQ(consumer.finish().exit_code, 0) << consumer.output();
  // The progress line is erased before the summary is printed.
  EXPECT_NE(consumer.output().find("\r\x1b[Kshmq-consumer: received "), std::string::npos) << consumer.output();

  // Not a terminal: no progress line at all.
  test::TempQueue file_queue;
  ChildProcess quiet_producer(
      {kProducer, "--queue", file_queue.str(), "--create", "--count", "3000000", "--size", "40"});
  ASSERT_NO_FATAL_FAILURE(wait_for_queue(file_queue.path(), quiet_producer));
  ChildProcess quiet_consumer({kConsumer, "--queue", file_queue.str(), "--count", "3000000", "--verify"});
  ASSERT_EQ(quiet_producer.exit_code(), 0) << quiet_producer.describe();
  ASSERT_EQ(quiet_consumer.exit_code(), 0) << quiet_consumer.describe();
  EXPECT_EQ(quiet_producer.err().find('\r'), std::string::npos) << quiet_producer.describe();
  EXPECT_EQ(quiet_consumer.err().find('\r'), std::string::npos) << quiet_consumer.describe();
}

// ---- Text through --stdin and --stdout ----

TEST(SamplePrograms, StdinLinesComeOutOfStdoutUnchanged) {
  test::TempQueue q;
  test::TempQueue input;  // a unique path under /dev/shm for the input text
  const std::string text =
      "hello\n\nworld, with spaces\t and a tab\nUTF-8: \xc3\xbc \xe2\x9c\x93\nno newline at the end";
  { std::ofstream(input.path(), std::ios::binary) << text; }
  ChildProcess producer({kProducer, "--queue", q.str(), "--create", "--stdin"}, ProgramIo::input_from(input.path()));
  ASSERT_EQ(producer.exit_code(), 0) << producer.describe();
  // The producer is gone and every line is in the queue: the consumer prints them and stops.
  // -v: the library's lifecycle lines (attach, detach) go to stderr too, and must come before the JSON.
  ChildProcess consumer({kConsumer, "--queue", q.str(), "--stdout", "--json", "-v"});
  ASSERT_EQ(consumer.exit_code(), 0) << consumer.describe();
  EXPECT_EQ(consumer.out(), text + "\n");
  EXPECT_NE(consumer.err().find("consumer detached"), std::string::npos) << consumer.describe();
  const nlohmann::json s = summary_of(consumer.err());  // with --stdout the JSON ends stderr
  EXPECT_EQ(s.value("messages", 0ULL), 5U) << s.dump();
  EXPECT_EQ(s.value("last_sequence", 0ULL), 4U) << s.dump();
  EXPECT_EQ(s.value("end", ""), "producer_gone") << s.dump();
}

TEST(SamplePrograms, GeneratedPayloadsPrintAsOneCheckableLineEach) {
  test::TempQueue q;
  ChildProcess producer({kProducer, "--queue", q.str(), "--create", "--count", "100", "--size", "100"});
  ASSERT_EQ(producer.exit_code(), 0) << producer.describe();
  ChildProcess consumer({kConsumer, "--queue", q.str(), "--stdout", "--verify"});
  ASSERT_EQ(consumer.exit_code(), 0) << consumer.describe();
  const std::vector<std::string> lines = test::complete_lines(consumer.out());
  ASSERT_EQ(lines.size(), 100U);
  for (std::uint64_t i = 0; i < lines.size(); ++i) {
    ASSERT_EQ(lines[i].size(), 100U);
    EXPECT_EQ(shmq_sample::check_payload(std::as_bytes(std::span(lines[i])), i), shmq_sample::PayloadCheck::ok)
        << lines[i];
  }
}

// ---- Peer death ----

// kill -9 of the producer while the queue is full: the consumer (this process) gets every message
// the producer had published, then "producer gone"; a restarted producer attaches at once and
// continues the sequence with no gap.
TEST(SamplePrograms, ProducerKilledMidStreamLosesNothingPublishedAndARestartContinues) {
  test::TempQueue q;
  create_queue(q.path(), {.capacity = 64 * 1024});
  Consumer consumer = Consumer::open(q.path());
  std::uint64_t expected = 0;
  {
    ChildProcess producer({kProducer, "--queue", q.str(), "--count", kEndless, "--size", "40"});
    for (int i = 0; i < 20'000; ++i) ASSERT_NO_FATAL_FAILURE(receive_generated(consumer, expected));
    producer.kill_hard();
    EXPECT_EQ(producer.exit_code(), 128 + SIGKILL);
  }
  // Drain: what the dead producer published, contiguous and intact, then peer_gone.
  const std::uint64_t received_before_kill = expected;
  for (;;) {
    Result<Message> m = consumer.receive_for(test::kHangDetector);
    if (!m) {
      ASSERT_EQ(m.status(), Status::peer_gone);
      break;
    }
    ASSERT_EQ(m->sequence, expected);
    ASSERT_EQ(shmq_sample::check_payload(m->bytes, m->sequence), shmq_sample::PayloadCheck::ok) << m->text();
    consumer.release();
    ++expected;
  }
  std::printf("received %llu messages before the kill, %llu after it\n",
              static_cast<unsigned long long>(received_before_kill),
              static_cast<unsigned long long>(expected - received_before_kill));

  // The restarted producer attaches at once (the kernel dropped the dead one's lock) and sends the
  // next 1000 sequence numbers. Until it has attached the role is vacant, so wait like --follow.
  OpenOptions follow;
  follow.wait.return_on_peer_gone = false;
  consumer.set_wait_options(follow.wait);
  ChildProcess restarted({kProducer, "--queue", q.str(), "--count", std::to_string(expected + 1000), "--size", "40"});
  const std::uint64_t resume = expected;
  for (int i = 0; i < 1000; ++i) ASSERT_NO_FATAL_FAILURE(receive_generated(consumer, expected));
  EXPECT_EQ(restarted.exit_code(), 0) << restarted.describe();
  consumer.set_wait_options(OpenOptions{}.wait);
  Result<Message> end = consumer.receive_for(test::kHangDetector);
  EXPECT_EQ(end.status(), Status::peer_gone);
  EXPECT_NE(restarted.err().find("continuing at sequence " + std::to_string(resume)), std::string::npos)
      << restarted.describe();
}

// kill -9 of the consumer binary mid-stream, then a restart: together the two runs saw every
// sequence number; the second run starts no later than just after the first run's last line
// (no gap) and repeats only messages the first run had received but not yet released.
TEST(SamplePrograms, ConsumerKilledMidStreamRestartedConsumerResumesWithoutGap) {
  constexpr std::uint64_t kTotal = 200'000;  // 11 MB of records: the whole run fits the ring
  test::TempQueue q;
  ChildProcess producer({kProducer, "--queue", q.str(), "--create", "--capacity", "16MiB", "--count",
                         std::to_string(kTotal), "--size", "40"});
  ASSERT_NO_FATAL_FAILURE(wait_for_queue(q.path(), producer));

  std::string first_output;
  {
    ChildProcess first({kConsumer, "--queue", q.str(), "--stdout"}, ProgramIo::output_to_pipe());
    // Read 1000 lines, then stop reading: the consumer soon blocks on the full pipe, mid-stream.
    while (test::complete_lines(first_output).size() < 1000) {
      ASSERT_TRUE(first.read_some(first_output)) << "stdout ended early" << first.describe();
    }
    first.kill_hard();
    while (first.read_some(first_output)) {  // what it wrote before it died
    }
  }
  const std::vector<std::string> first_lines = test::complete_lines(first_output);
  for (std::uint64_t i = 0; i < first_lines.size(); ++i) {
    ASSERT_EQ(shmq_sample::check_payload(std::as_bytes(std::span(first_lines[i])), i), shmq_sample::PayloadCheck::ok)
        << "first run, line " << i << ": " << first_lines[i];
  }
  const std::uint64_t first_run_last = first_lines.size() - 1;
  ASSERT_LT(first_run_last, kTotal - 1) << "the first consumer was not stopped mid-stream";

  ASSERT_EQ(producer.exit_code(), 0) << producer.describe();
  ChildProcess second({kConsumer, "--queue", q.str(), "--stdout", "--verify", "--json"});
  ASSERT_EQ(second.exit_code(), 0) << second.describe();
  const std::vector<std::string> second_lines = test::complete_lines(second.out());
  ASSERT_FALSE(second_lines.empty());
  const std::optional<std::uint64_t> resume = shmq_sample::embedded_sequence(second_lines.front());
  ASSERT_TRUE(resume.has_value()) << second_lines.front();
  std::printf("first run printed 0..%llu, the second resumed at %llu\n",
              static_cast<unsigned long long>(first_run_last), static_cast<unsigned long long>(*resume));
  EXPECT_LE(*resume, first_run_last + 1) << "gap: messages neither run saw";
  ASSERT_EQ(second_lines.size(), kTotal - *resume) << "the second run must cover the rest exactly once";
  for (std::uint64_t i = 0; i < second_lines.size(); ++i) {
    ASSERT_EQ(shmq_sample::check_payload(std::as_bytes(std::span(second_lines[i])), *resume + i),
              shmq_sample::PayloadCheck::ok)
        << "second run, line " << i << ": " << second_lines[i];
  }
  const nlohmann::json s = summary_of(second.err());
  EXPECT_EQ(s.value("gaps", 1ULL), 0U) << s.dump();
  EXPECT_EQ(s.value("duplicates", 1ULL), 0U) << s.dump();
  EXPECT_EQ(s.value("corrupt", 1ULL), 0U) << s.dump();
}

// ---- One producer at a time ----

TEST(SamplePrograms, SecondProducerIsRefusedWithTheHoldersPid) {
  test::TempQueue q;
  ChildProcess holder({kProducer, "--queue", q.str(), "--create", "--capacity", "64KiB", "--count", kEndless});
  ASSERT_NO_FATAL_FAILURE(wait_for_queue(q.path(), holder));
  Consumer consumer = Consumer::open(q.path());
  std::uint64_t expected = 0;
  ASSERT_NO_FATAL_FAILURE(receive_generated(consumer, expected));  // the holder is attached

  ChildProcess second({kProducer, "--queue", q.str(), "--count", "10"});
  EXPECT_EQ(second.exit_code(), shmq_sample::kExitFailed) << second.describe();
  EXPECT_NE(second.err().find("pid " + std::to_string(holder.pid())), std::string::npos) << second.describe();
  EXPECT_TRUE(holder.running()) << holder.describe();
  ASSERT_NO_FATAL_FAILURE(receive_generated(consumer, expected));  // the holder goes on undisturbed
}

// ---- Bad arguments: a clear error, a non-zero exit, the file untouched ----

class SampleProgramsBadArguments : public ::testing::Test {
 protected:
  // Runs the program and expects exit code `code` and `needle` in its stderr.
  static void expect_failure(const std::vector<std::string>& argv, int code, const std::string& needle) {
    ChildProcess p(argv);
    EXPECT_EQ(p.exit_code(), code) << p.describe();
    EXPECT_NE(p.err().find(needle), std::string::npos) << "stderr should mention \"" << needle << "\"" << p.describe();
  }
  test::TempQueue q;
};

TEST_F(SampleProgramsBadArguments, SizeBelowThePayloadHeaderIsRefusedBeforeTouchingTheQueue) {
  create_queue(q.path());
  const std::vector<char> before = test::read_file(q.path());
  expect_failure({kProducer, "--queue", q.str(), "--count", "10", "--size", "16"}, shmq_sample::kExitUsage,
                 "--size 16 is too small");
  EXPECT_EQ(test::read_file(q.path()), before);
}

TEST_F(SampleProgramsBadArguments, SizeBelowThePayloadHeaderCreatesNothing) {
  expect_failure({kProducer, "--queue", q.str(), "--create", "--count", "10", "--size", "8"}, shmq_sample::kExitUsage,
                 "at least 33 bytes");
  EXPECT_FALSE(path_exists(q.path()));
}

TEST_F(SampleProgramsBadArguments, MissingQueueWithoutCreateIsRefusedAndNotCreated) {
  expect_failure({kProducer, "--queue", q.str(), "--count", "10"}, shmq_sample::kExitFailed,
                 "No such file or directory");
  expect_failure({kConsumer, "--queue", q.str()}, shmq_sample::kExitFailed, "No such file or directory");
  EXPECT_FALSE(path_exists(q.path()));
}

TEST_F(SampleProgramsBadArguments, CreateOnAnExistingQueueLeavesItUnchanged) {
  create_queue(q.path());
  const std::vector<char> before = test::read_file(q.path());
  expect_failure({kProducer, "--queue", q.str(), "--create", "--count", "10"}, shmq_sample::kExitFailed,
                 "already exists");
  EXPECT_EQ(test::read_file(q.path()), before);
}

TEST_F(SampleProgramsBadArguments, CreateOnAnExistingOtherFileLeavesItUnchanged) {
  { std::ofstream(q.path()) << "not a queue\n"; }
  expect_failure({kProducer, "--queue", q.str(), "--create", "--count", "10"}, shmq_sample::kExitFailed,
                 "already exists");
  std::ifstream in(q.path());
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "not a queue\n");
}

TEST_F(SampleProgramsBadArguments, NotAQueueFileIsRefusedAndLeftUnchanged) {
  { std::ofstream(q.path()) << std::string(20000, 'x'); }
  const std::vector<char> before = test::read_file(q.path());
  expect_failure({kProducer, "--queue", q.str(), "--count", "10"}, shmq_sample::kExitFailed, "not a shmq queue");
  expect_failure({kConsumer, "--queue", q.str()}, shmq_sample::kExitFailed, "not a shmq queue");
  EXPECT_EQ(test::read_file(q.path()), before);
}

TEST_F(SampleProgramsBadArguments, CapacityThatIsNotAPowerOfTwoCreatesNothing) {
  expect_failure({kProducer, "--queue", q.str(), "--create", "--capacity", "100000", "--count", "1"},
                 shmq_sample::kExitFailed, "power of two");
  EXPECT_FALSE(path_exists(q.path()));
}

TEST_F(SampleProgramsBadArguments, MalformedSizesAndMissingOptionsAreUsageErrors) {
  expect_failure({kProducer, "--queue", q.str(), "--create", "--capacity", "1MB", "--count", "1"},
                 shmq_sample::kExitUsage, "not a size");
  expect_failure({kProducer, "--queue", q.str(), "--create"}, shmq_sample::kExitUsage, "--count");
  expect_failure({kProducer, "--queue", q.str(), "--stdin", "--count", "3"}, shmq_sample::kExitUsage, "excludes");
  expect_failure({kProducer, "--queue", q.str(), "--capacity", "1MiB", "--count", "3"}, shmq_sample::kExitUsage,
                 "--create");
  expect_failure({kConsumer, "--count", "3"}, shmq_sample::kExitUsage, "--queue");
  EXPECT_FALSE(path_exists(q.path()));
}

TEST_F(SampleProgramsBadArguments, SizeLargerThanTheRingIsRefusedBeforeCreating) {
  expect_failure({kProducer, "--queue", q.str(), "--create", "--capacity", "4KiB", "--size", "4KiB", "--count", "1"},
                 shmq_sample::kExitUsage, "does not fit");
  EXPECT_FALSE(path_exists(q.path()));
}

TEST_F(SampleProgramsBadArguments, SizeLargerThanAnExistingRingIsRefusedBeforeAttaching) {
  create_queue(q.path(), {.capacity = 4096});
  const std::vector<char> before = test::read_file(q.path());
  expect_failure({kProducer, "--queue", q.str(), "--size", "4057", "--count", "1"}, shmq_sample::kExitUsage,
                 "is larger than the largest message queue " + q.str() + " takes (4056 bytes)");
  EXPECT_EQ(test::read_file(q.path()), before);  // not even the attach fields
}

TEST(SamplePrograms, ProgramsAndToolShareOneSetOfExitCodesAndSayWhichInTheirHelp) {
  for (const std::string& program : {kProducer, kConsumer, std::string(SHMQ_TOOL_PATH)}) {
    ChildProcess bad({program, "--no-such-option"});
    EXPECT_EQ(bad.exit_code(), shmq_sample::kExitUsage) << bad.describe();
    ChildProcess help({program, "--help"});
    EXPECT_EQ(help.exit_code(), shmq_sample::kExitOk) << help.describe();
    EXPECT_NE(help.out().find(shmq_sample::kExitCodesHelp), std::string::npos) << help.describe();
  }
}

TEST(SamplePrograms, HelpExplainsAndExitsZero) {
  for (const std::string& program : {kProducer, kConsumer}) {
    ChildProcess p({program, "--help"});
    EXPECT_EQ(p.exit_code(), 0) << p.describe();
    EXPECT_NE(p.out().find("Examples:"), std::string::npos) << p.describe();
    EXPECT_NE(p.out().find("--queue"), std::string::npos) << p.describe();
  }
}

}  // namespace
}  // namespace shmq
