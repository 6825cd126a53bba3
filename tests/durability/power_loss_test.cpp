// Simulated power loss. A disk model replaces msync: each page of the file on "disk" is the
// content it had at its last sync, or any later version of it written before the cut (the kernel
// writes dirty pages back whenever it likes, in no order). The power is cut inside a random
// msync call, checkpoint writes included; recovery then runs on the disk image. Every message
// acknowledged durable must come back, nothing invalid may be delivered, recovery never crashes.
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "layout.hpp"
#include "shmq/shmq.hpp"
#include "support/disk_image.hpp"
#include "support/temp_queue.hpp"
#include "system.hpp"

namespace shmq {
namespace {

constexpr std::size_t kPage = 4096;
constexpr int kCuts = 1000;

class SimulatedDisk : public detail::System {
 public:
  SimulatedDisk(std::filesystem::path file, std::uint64_t seed, int cut_at)
      : file_(std::move(file)), rng_(seed), cut_at_(cut_at), previous_(detail::install_system(this)) {
    disk_ = read_pages();
  }
  ~SimulatedDisk() override { detail::install_system(previous_ == this ? nullptr : previous_); }

  bool cut() const { return cut_; }
  void cut_now() { take_cut(nullptr, 0); }
  void reboot() { boot_[0] = 1; }  // a new boot: recovery runs on the next open
  const std::vector<std::vector<char>>& disk() const { return disk_; }

  int msync(void* address, std::size_t length) override {
    if (after_cut_passthrough_) return detail::real_system().msync(address, length);
    if (cut_) return 0;  // the machine is off: nothing reaches the disk any more
    const auto [first, count] = pages_of(address, length);
    if (++calls_ == cut_at_) {
      take_cut(&first, count);
      return 0;
    }
    std::vector<std::vector<char>> now = read_pages();
    for (std::size_t p = first; p < first + count && p < now.size(); ++p) {
      disk_[p] = now[p];
      later_[p].clear();
    }
    // Background writeback: the kernel may have written some other dirty page meanwhile.
    const std::size_t p = rng_() % now.size();
    if (now[p] != disk_[p]) later_[p].push_back(now[p]);
    return 0;
  }
  int fsync(int) override { return 0; }
  int fallocate(int fd, off_t offset, off_t length) override {
    return detail::real_system().fallocate(fd, offset, length);
  }
  int pwrite(int fd, const void* data, std::size_t length, off_t offset) override {
    return detail::real_system().pwrite(fd, data, length, offset);  // the page changes (or not) in the file itself
  }
  int boot_id(detail::BootId& out) override {
    out = boot_;
    return 0;
  }
  void pass_through() { after_cut_passthrough_ = true; }

 private:
  // The pages of the queue file that [address, address + length) maps (the mappings seen so far
  // are kept: /proc/self/maps is read only for an address outside all of them).
  std::pair<std::size_t, std::size_t> pages_of(void* address, std::size_t length) {
    const std::size_t count = (length + kPage - 1) / kPage;
    for (const test::FileMapping& m : mappings_) {
      if (m.holds(address)) return {m.page_of(address), count};
    }
    if (const std::optional<test::FileMapping> m = test::find_file_mapping(file_, address)) {
      mappings_.push_back(*m);
      return {m->page_of(address), count};
    }
    ADD_FAILURE() << "msync of an address outside the queue file";
    return {0, 0};
  }
  std::vector<test::FileMapping> mappings_;

  std::vector<std::vector<char>> read_pages() const {
    const int fd = ::open(file_.c_str(), O_RDONLY | O_CLOEXEC);
    const off_t size = ::lseek(fd, 0, SEEK_END);
    std::vector<std::vector<char>> pages(static_cast<std::size_t>(size) / kPage, std::vector<char>(kPage));
    for (std::size_t p = 0; p < pages.size(); ++p) {
      if (::pread(fd, pages[p].data(), kPage, static_cast<off_t>(p * kPage)) != static_cast<ssize_t>(kPage)) {
        ADD_FAILURE() << "short read of " << file_;
      }
    }
    ::close(fd);
    return pages;
  }

  // Each page that changed since its last sync ends up as any of its versions: the synced one,
  // one written back later, or the newest (the pages being synced right now included).
  void take_cut(const std::size_t*, std::size_t) {
    std::vector<std::vector<char>> now = read_pages();
    for (std::size_t p = 0; p < now.size(); ++p) {
      if (now[p] == disk_[p]) continue;
      std::vector<const std::vector<char>*> versions{&disk_[p], &now[p]};
      for (const auto& v : later_[p]) versions.push_back(&v);
      disk_[p] = *versions[rng_() % versions.size()];
    }
    cut_ = true;
  }

  std::filesystem::path file_;
  std::mt19937_64 rng_;
  int cut_at_;
  int calls_ = 0;
  bool cut_ = false;
  bool after_cut_passthrough_ = false;
  detail::BootId boot_{};
  std::vector<std::vector<char>> disk_;
  std::map<std::size_t, std::vector<std::vector<char>>> later_;
  detail::System* previous_;
};

// Message `seq` of `size` bytes: its sequence, then a pattern derived from it.
std::vector<std::byte> payload(std::uint64_t seq, std::size_t size) {
  std::vector<std::byte> b(std::max<std::size_t>(size, 8));
  std::memcpy(b.data(), &seq, 8);
  for (std::size_t i = 8; i < b.size(); ++i) b[i] = static_cast<std::byte>((seq * 131 + i) & 0xff);
  return b;
}
bool valid(const Message& m) {
  if (m.bytes.size() < 8) return false;
  std::uint64_t seq = 0;
  std::memcpy(&seq, m.bytes.data(), 8);
  if (seq != m.sequence) return false;
  for (std::size_t i = 8; i < m.bytes.size(); ++i)
    if (m.bytes[i] != static_cast<std::byte>((seq * 131 + i) & 0xff)) return false;
  return true;
}

struct Outcome {
  std::uint64_t acknowledged = 0;  // sync() returned this before the cut
  std::uint64_t released = 0;      // the consumer had released this many before the cut
};

// One run: a producer and a consumer work on a durable queue until the power is cut.
Outcome run_until_cut(const std::filesystem::path& path, SimulatedDisk& disk, std::mt19937_64& rng) {
  Outcome out;
  const CheckpointPolicy explicit_only{.bytes = 0, .interval = std::chrono::milliseconds(0)};
  Producer producer = Producer::open(path, {.checkpoints = explicit_only});
  Consumer consumer = Consumer::open(path);
  std::uint64_t received = 0;
  for (int step = 0; step < 400 && !disk.cut(); ++step) {
    const std::uint64_t action = rng() % 100;
    if (action < 60) {
      const std::uint64_t seq = producer.next_sequence();
      const std::vector<std::byte> m = payload(seq, rng() % 900);
      if (!producer.try_send(m)) {  // full: the consumer catches up
        while (consumer.try_receive()) ++received;
        consumer.release();
        if (!disk.cut()) out.released = received;
      }
    } else if (action < 75) {
      const std::uint64_t durable = producer.sync();
      if (!disk.cut()) out.acknowledged = durable;
    } else {
      const std::uint64_t n = rng() % 8;
      for (std::uint64_t i = 0; i < n && consumer.try_receive(); ++i) ++received;
      if (action < 95) {
        consumer.release();
        if (!disk.cut()) out.released = received;
      }
    }
  }
  if (!disk.cut()) disk.cut_now();
  return out;  // the destructors run after the cut: nothing more reaches the disk
}

TEST(PowerLoss, ThousandCutsNothingAcknowledgedIsLostNothingInvalidIsDelivered) {
  const std::uint64_t seed = test::test_seed();
  std::printf("seed %llu (set SHMQ_TEST_SEED to repeat)\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  CreateOptions durable;
  durable.capacity = 16 * 1024;
  durable.durable = true;
  std::uint64_t recovered_total = 0;
  std::uint64_t past_checkpoint_total = 0;
  for (int cut = 0; cut < kCuts; ++cut) {
    SCOPED_TRACE("cut " + std::to_string(cut));
    test::TempQueue q;
    test::TempQueue image;
    create_queue(q.path(), durable);
    Outcome before;
    std::vector<std::vector<char>> disk;
    {
      SimulatedDisk sim(q.path(), rng(), static_cast<int>(1 + rng() % 150));
      before = run_until_cut(q.path(), sim, rng);
      disk = sim.disk();
    }
    {  // the disk image becomes the file after the reboot
      std::ofstream out(image.path(), std::ios::binary);
      for (const auto& page : disk) out.write(page.data(), static_cast<std::streamsize>(page.size()));
    }
    std::filesystem::permissions(image.path(),
                                 std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    SimulatedDisk after(image.path(), rng(), 0);
    after.reboot();
    after.pass_through();

    Consumer consumer = Consumer::open(image.path());
    const RecoveryReport report = consumer.recovery_report();
    ASSERT_TRUE(report.ran);
    ASSERT_LE(report.read_sequence, before.released) << "the consumer would skip messages it never released";
    ASSERT_GE(report.next_sequence, before.acknowledged) << "a message acknowledged durable was lost";
    std::uint64_t expected = report.read_sequence;
    while (consumer.poll([&](const Message& m) {
      ASSERT_EQ(m.sequence, expected);
      ASSERT_TRUE(valid(m)) << "invalid message " << m.sequence << " delivered";
      ++expected;
    }) > 0) {
    }
    ASSERT_EQ(expected, report.next_sequence);
    // And the queue goes on: a producer continues the sequence.
    Producer producer = Producer::open(image.path());
    ASSERT_EQ(producer.next_sequence(), report.next_sequence);
    ASSERT_TRUE(producer.try_send(payload(report.next_sequence, 100)));
    Result<Message> next = consumer.try_receive();
    ASSERT_TRUE(next);
    ASSERT_TRUE(valid(*next));
    recovered_total += expected - report.read_sequence;
    past_checkpoint_total += report.recovered_messages;
  }
  std::printf("recovered %llu messages in all, %llu of them past their checkpoint\n",
              static_cast<unsigned long long>(recovered_total), static_cast<unsigned long long>(past_checkpoint_total));
}

}  // namespace
}  // namespace shmq
