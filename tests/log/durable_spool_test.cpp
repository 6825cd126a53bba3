// Durable spool under simulated power loss. An application logs into a durable queue and flushes
// now and then; a disk model stands in for msync/fsync (lib/src/system.hpp): the "disk" holds the
// file as created, each synced page as it was when synced, and now and then a page the kernel
// wrote back on its own. The application is killed and the queue file replaced by the disk image
// (the page cache is lost); shmq-logd, in a new "boot", recovers it and ships it. Every line that
// logger->flush() acknowledged must be in the output, once, in order.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <string>

#include "support/child_process.hpp"
#include "shipped_output.hpp"
#include "shmq/log/sink.hpp"
#include "support/temp_queue.hpp"
#include "system.hpp"
#include "temp_spool.hpp"

namespace shmq::log {
namespace {

constexpr std::size_t kPageSize = 4096;

// What a disk would hold after a power cut: only what was synced (and some pages written back
// early). Writes the image into `image` as it goes, since the process that owns it is killed.
class DiskImage : public detail::System {
 public:
  DiskImage(std::filesystem::path image, std::uint64_t seed) : image_(std::move(image)), rng_(seed) {
    previous_ = detail::install_system(this);
  }
  ~DiskImage() override { detail::install_system(previous_); }

  int msync(void* address, std::size_t length) override {
    std::lock_guard lock(mutex_);
    const auto a = reinterpret_cast<std::uintptr_t>(address);
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
      std::istringstream in(line);
      std::string range, perms, offset, dev, inode, path;
      in >> range >> perms >> offset >> dev >> inode >> path;
      const std::uintptr_t start = std::stoull(range.substr(0, range.find('-')), nullptr, 16);
      const std::uintptr_t end = std::stoull(range.substr(range.find('-') + 1), nullptr, 16);
      if (a < start || a >= end || !path.ends_with(".q")) continue;
      const std::uint64_t first = std::stoull(offset, nullptr, 16) + (a - start);
      copy_pages(path, first / kPageSize * kPageSize, first + length);
      // Background writeback: some other page of the file reached the disk meanwhile.
      const std::uint64_t size = std::filesystem::file_size(path);
      const std::uint64_t page = rng_() % (size / kPageSize) * kPageSize;
      if (rng_() % 2 == 0) copy_pages(path, page, page + kPageSize);
      return 0;
    }
    ADD_FAILURE() << "msync outside a queue mapping";
    return 0;
  }
  int fsync(int fd) override {
    std::lock_guard lock(mutex_);
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 16384) {
      copy_fd(fd, 0, static_cast<std::uint64_t>(st.st_size));  // create syncs the whole new file
    }
    return 0;
  }
  int fallocate(int fd, off_t offset, off_t length) override {
    return detail::real_system().fallocate(fd, offset, length);
  }
  int pwrite(int fd, const void* data, std::size_t length, off_t offset) override {
    return detail::real_system().pwrite(fd, data, length, offset);  // into the page cache; the disk gets it at a sync
  }
  int boot_id(detail::BootId& out) override {
    out.fill(7);  // not this boot: the shipper's open recovers the queue
    return 0;
  }

 private:
  void copy_pages(const std::string& path, std::uint64_t from, std::uint64_t to) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    copy_fd(fd, from, to);
    ::close(fd);
  }
  void copy_fd(int fd, std::uint64_t from, std::uint64_t to) {
    const int out = ::open(image_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    std::vector<char> buffer(kPageSize);
    for (std::uint64_t at = from; at < to; at += kPageSize) {
      const ssize_t n = ::pread(fd, buffer.data(), kPageSize, static_cast<off_t>(at));
      if (n <= 0) break;
      if (::pwrite(out, buffer.data(), static_cast<std::size_t>(n), static_cast<off_t>(at)) != n) std::abort();
    }
    ::close(out);
  }

  std::filesystem::path image_;
  std::mt19937_64 rng_;
  std::mutex mutex_;
  detail::System* previous_ = nullptr;
};

// Logs `lines` lines, flushing every `every`, tells the parent each acknowledged count, then dies.
[[noreturn]] void log_then_lose_power(const std::filesystem::path& spool, const std::filesystem::path& image,
                                      std::uint64_t seed, int report_fd, int lines, int every) {
  DiskImage disk(image, seed);
  shmq::logger()->set_level(spdlog::level::off);
  SinkOptions options;
  options.spool = spool;
  options.program = "durable";
  options.capacity = 1 << 16;
  options.durable = true;
  auto sink = std::make_shared<spool_sink_mt>(options);
  spdlog::logger logger("durable", sink);
  logger.set_pattern("%v");
  for (int i = 0; i < lines; ++i) {
    logger.info("durable {}", i);
    if ((i + 1) % every == 0) {
      logger.flush();
      const std::string ack = std::to_string(i + 1) + "\n";
      if (::write(report_fd, ack.data(), ack.size()) != static_cast<ssize_t>(ack.size())) std::_Exit(3);
    }
  }
  ::raise(SIGKILL);  // the power goes: no destructor, no close record, no final checkpoint
  std::_Exit(4);
}

TEST(DurableSpool, EveryFlushedLineIsShippedAfterPowerLoss) {
  const std::uint64_t seed = shmq::test::test_seed();
  std::printf("seed %llu (SHMQ_TEST_SEED replays it)\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 5; ++round) {
    test::TempDir spool;
    test::TempDir out;
    const std::filesystem::path image = out / "disk.img";
    const int lines = 200 + static_cast<int>(rng() % 800);
    const int every = 1 + static_cast<int>(rng() % 50);
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(pipe_fds[0]);
      log_then_lose_power(spool.path(), image, rng(), pipe_fds[1], lines, every);
    }
    ::close(pipe_fds[1]);
    std::string acks;
    char buffer[4096];
    for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) != 0;) {
      if (n < 0 && errno == EINTR) continue;
      ASSERT_GT(n, 0);
      acks.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(pipe_fds[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
    const std::vector<std::string> acked = shmq::test::complete_lines(acks);
    const std::uint64_t durable = acked.empty() ? 0 : std::stoull(acked.back());

    // The power comes back: the queue file is what the disk held.
    const std::vector<std::filesystem::path> queues = test::spool_queues(spool.path());
    ASSERT_EQ(queues.size(), 1u);
    std::filesystem::copy_file(image, queues[0], std::filesystem::copy_options::overwrite_existing);

    shmq::test::ChildProcess shipper({SHMQ_LOGD_PATH, "--spool", spool.path().string(), "--output",
                                      (out / "app.log").string(), "--exit-when-drained"});
    ASSERT_EQ(shipper.exit_code(), 0) << shipper.describe();
    const auto numbers = test::numbers_by_name(test::shipped_lines(out / "app.log"));
    const auto it = numbers.find("durable");
    const std::vector<std::uint64_t> none;
    const std::vector<std::uint64_t>& got = it == numbers.end() ? none : it->second;
    EXPECT_EQ(test::check_sequence(got), "") << "round " << round;
    EXPECT_GE(got.size(), durable) << "round " << round << ": " << lines << " lines, flushed every " << every;
  }
}

}  // namespace
}  // namespace shmq::log
