#include "workload.hpp"

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checkpoint.hpp"
#include "layout.hpp"
#include "queue_file.hpp"
#include "support/child_process.hpp"
#include "support/fake_system.hpp"
#include "support/temp_queue.hpp"

namespace shmq::crash_test {

void expect_killed_at(const std::string& spec, const std::function<int()>& body) {
  test::ChildProcess child([&] {
    ::setenv("SHMQ_FAILPOINT", spec.c_str(), 1);
    return body();
  });
  const int status = child.wait();
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "failpoint " << spec << " was not hit (exit status " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1) << ")";
}
namespace {

std::vector<std::byte> payload(std::uint64_t seq) {
  std::vector<std::byte> b(8 + seq % 300);
  std::memcpy(b.data(), &seq, 8);
  for (std::size_t i = 8; i < b.size(); ++i) b[i] = static_cast<std::byte>((seq * 131 + i) & 0xff);
  return b;
}

bool valid(const Message& m) {
  const std::vector<std::byte> expected = payload(m.sequence);
  return m.bytes.size() == expected.size() && std::memcmp(m.bytes.data(), expected.data(), expected.size()) == 0;
}

bool consumer_parked(const std::filesystem::path& queue) {
  const int fd = ::open(queue.c_str(), O_RDONLY | O_CLOEXEC);
  std::uint32_t waiting = 0;
  const bool ok = ::pread(fd, &waiting, 4, offsetof(layout::Header, data_ready) + 4) == 4;
  ::close(fd);
  return ok && waiting == 1;
}

std::vector<std::uint64_t> read_log(const std::filesystem::path& log) {
  const std::vector<char> bytes = test::read_file(log);
  std::vector<std::uint64_t> seqs(bytes.size() / 8);
  if (!seqs.empty()) std::memcpy(seqs.data(), bytes.data(), seqs.size() * 8);
  return seqs;
}

}  // namespace

CreateOptions durable_options() {
  CreateOptions o;
  o.capacity = 16 * 1024;
  o.durable = true;
  o.checkpoints = {.bytes = 0, .interval = std::chrono::milliseconds(0)};
  return o;
}

int run_workload(const std::filesystem::path& queue, const std::filesystem::path& log, std::uint64_t total) {
  Producer producer = Producer::open(queue);
  OpenOptions park_at_once;
  park_at_once.wait.spin = std::chrono::nanoseconds(0);
  Consumer consumer = Consumer::open(queue, park_at_once);
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) return 20;
  std::atomic<int> failure{0};
  std::thread reader([&] {
    for (std::uint64_t n = 1;; ++n) {
      Result<Message> m = consumer.receive_for(std::chrono::seconds(60));
      if (!m) return failure.store(21);
      if (!valid(*m)) return failure.store(22);
      const std::uint64_t seq = m->sequence;
      if (::write(log_fd, &seq, 8) != 8) return failure.store(23);
      if (seq + 1 == total) return consumer.release();
      if (n % 3 == 0) consumer.release();
    }
  });
  while (producer.next_sequence() < total && failure.load() == 0) {
    const std::uint64_t seq = producer.next_sequence();
    if (!producer.send(payload(seq))) return 24;
    if (seq % 20 == 19 && seq + 1 < total) {
      producer.sync();
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (!consumer_parked(queue) && std::chrono::steady_clock::now() < until) std::this_thread::yield();
    }
  }
  reader.join();
  ::close(log_fd);
  return failure.load();
}

void verify_after_crash(const std::filesystem::path& queue, const std::filesystem::path& log) {
  {
    detail::QueueFile f = detail::QueueFile::open(queue, detail::Access::read_only, {});
    const bool slot0 = detail::read_checkpoint_slot(f.header(), 0, f.identity()).has_value();
    const bool slot1 = detail::read_checkpoint_slot(f.header(), 1, f.identity()).has_value();
    ASSERT_TRUE(slot0 || slot1) << "both checkpoint slots are invalid";
  }
  const std::vector<std::uint64_t> seen = read_log(log);
  for (std::uint64_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], i) << "the crashed consumer saw a gap";

  test::FakeSystem fake;
  fake.reboot();  // the page cache is intact, but recover from the checkpoints as after a power loss
  Consumer consumer = Consumer::open(queue);
  EXPECT_TRUE(consumer.recovery_report().ran);
  std::uint64_t expected = consumer.next_sequence();
  ASSERT_LE(expected, seen.size()) << "the consumer would skip messages nobody received";
  while (consumer.poll([&](const Message& m) {
    ASSERT_EQ(m.sequence, expected);
    ASSERT_TRUE(valid(m)) << "message " << m.sequence << " is corrupt";
    ++expected;
  }) > 0) {
  }
  Producer producer = Producer::open(queue);
  ASSERT_EQ(producer.next_sequence(), expected);
  ASSERT_TRUE(producer.send(payload(expected)));
  Result<Message> next = consumer.try_receive();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->sequence, expected);
  EXPECT_TRUE(valid(*next));
}

}  // namespace shmq::crash_test
