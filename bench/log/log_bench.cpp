// The crash-safe logging benchmark, all rows in one run on one machine:
//   1. per-call latency of logger->info("message {} {}", i, 3.14), p50/p99/p99.9 over 1M calls
//      after warm-up, 1 and 4 threads: spdlog null_sink_mt, basic_file_sink_mt, the async logger
//      (overrun_oldest, 8192 slots) with a file sink, and the shmq spool sink (shmq-logd running);
//   2. shmq-logd: lines/s of 100-byte lines from 4 sources into a file, plain and zstd level 1,
//      its CPU per million lines and peak resident memory; its memory with 100 idle sources;
//   3. lines lost when the application is killed with -9 in the middle of a burst: the async
//      logger (block policy) vs the shmq sink.
//
//   shmq-log-bench [--calls N] [--work DIR] [--part latency|shipper|loss]   (DIR on a disk file system)
#include <x86intrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shmq/log/sink.hpp"
#include "shmq/shmq.hpp"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

const std::string kLogd = SHMQ_LOGD_PATH;

// --- timing -----------------------------------------------------------------------------------

double ticks_per_ns() {
  const auto t0 = Clock::now();
  const std::uint64_t c0 = __rdtsc();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const std::uint64_t c1 = __rdtsc();
  const auto t1 = Clock::now();
  return static_cast<double>(c1 - c0) / static_cast<double>(std::chrono::nanoseconds(t1 - t0).count());
}

struct Percentiles {
  double p50, p99, p999, max;
};

Percentiles percentiles(std::vector<std::uint64_t>& ticks, double per_ns) {
  std::sort(ticks.begin(), ticks.end());
  auto at = [&](double q) {
    return static_cast<double>(
               ticks[std::min(ticks.size() - 1, static_cast<std::size_t>(q * static_cast<double>(ticks.size())))]) /
           per_ns;
  };
  return {at(0.50), at(0.99), at(0.999), static_cast<double>(ticks.back()) / per_ns};
}

// Each of `threads` threads makes calls/threads timed calls (after as many untimed warm-up calls).
Percentiles time_calls(spdlog::logger& logger, int threads, std::uint64_t calls, double per_ns) {
  const std::uint64_t each = calls / static_cast<std::uint64_t>(threads);
  std::vector<std::vector<std::uint64_t>> samples(static_cast<std::size_t>(threads));
  std::atomic<int> ready{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::vector<std::uint64_t>& mine = samples[static_cast<std::size_t>(t)];
      mine.resize(each);
      for (std::uint64_t i = 0; i < std::min<std::uint64_t>(each, 100'000); ++i) logger.info("message {} {}", i, 3.14);
      ready.fetch_add(1);
      while (ready.load() < threads) {
      }
      for (std::uint64_t i = 0; i < each; ++i) {
        _mm_lfence();
        const std::uint64_t start = __rdtsc();
        _mm_lfence();
        logger.info("message {} {}", i, 3.14);
        _mm_lfence();
        mine[i] = __rdtsc() - start;
      }
    });
  }
  for (auto& w : workers) w.join();
  std::vector<std::uint64_t> all;
  for (auto& s : samples) all.insert(all.end(), s.begin(), s.end());
  return percentiles(all, per_ns);
}

// --- child processes ------------------------------------------------------------------------

pid_t spawn(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) != 0) {
    std::perror("posix_spawn");
    std::exit(1);
  }
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

std::uint64_t count_lines(const fs::path& path, const std::string& containing) {
  std::ifstream in(path);
  std::string line;
  std::uint64_t n = 0;
  while (std::getline(in, line)) n += line.find(containing) != std::string::npos;
  return n;
}

std::uint64_t rss_kib(pid_t pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::stoull(line.substr(std::string(field).size()));
  }
  return 0;
}

fs::path fresh_dir(const fs::path& path) {
  fs::remove_all(path);
  fs::create_directories(path);
  return path;
}

// --- 1. latency ---------------------------------------------------------------------------------

void latency_rows(const fs::path& work, std::uint64_t calls, double per_ns) {
  std::printf("\n## Per-call latency of logger->info(\"message {} {}\", i, 3.14), %llu calls (ns)\n\n",
              static_cast<unsigned long long>(calls));
  std::printf("| sink | threads | p50 | p99 | p99.9 | max |\n|---|---:|---:|---:|---:|---:|\n");
  auto row = [&](const char* name, int threads, Percentiles p) {
    std::printf("| %s | %d | %.0f | %.0f | %.0f | %.0f |\n", name, threads, p.p50, p.p99, p.p999, p.max);
    std::fflush(stdout);
  };
  for (int threads : {1, 4}) {
    {
      spdlog::logger logger("null", std::make_shared<spdlog::sinks::null_sink_mt>());
      row("spdlog null_sink_mt", threads, time_calls(logger, threads, calls, per_ns));
    }
    {
      const fs::path file = work / "basic.log";
      fs::remove(file);
      spdlog::logger logger("file", std::make_shared<spdlog::sinks::basic_file_sink_mt>(file.string()));
      row("spdlog basic_file_sink_mt", threads, time_calls(logger, threads, calls, per_ns));
    }
    {
      const fs::path file = work / "async.log";
      fs::remove(file);
      auto pool = std::make_shared<spdlog::details::thread_pool>(8192, 1);
      auto logger = std::make_shared<spdlog::async_logger>(
          "async", std::make_shared<spdlog::sinks::basic_file_sink_mt>(file.string()), pool,
          spdlog::async_overflow_policy::overrun_oldest);  // shared: it logs through shared_from_this()
      row("spdlog async (overrun, 8192) + file", threads, time_calls(*logger, threads, calls, per_ns));
    }
    {
      const fs::path spool = fresh_dir(work / "spool");
      const pid_t logd = spawn({kLogd, "--spool", spool.string(), "--output", (work / "shipped.log").string()});
      shmq::log::SinkOptions options;
      options.spool = spool;
      // Room for the whole burst: a burst faster than the shipper would otherwise measure the
      // full-queue policy (the wait for room), not the sink.
      options.capacity = std::uint64_t{256} << 20;
      {
        auto sink = std::make_shared<shmq::log::spool_sink_mt>(options);
        spdlog::logger logger("shmq", sink);
        row("shmq spool sink (shmq-logd shipping)", threads, time_calls(logger, threads, calls, per_ns));
        if (sink->dropped() > 0)
          std::printf("(the spool sink dropped %llu records)\n", static_cast<unsigned long long>(sink->dropped()));
      }
      ::kill(logd, SIGTERM);
      wait_for(logd);
    }
  }
}

// --- 2. the shipper -------------------------------------------------------------------------------

// Fills `sources` queues with `lines` 100-byte lines each (processes that then exit), then times
// shmq-logd shipping them all.
void shipper_row(const fs::path& work, int sources, std::uint64_t lines, bool zstd) {
  const fs::path spool = fresh_dir(work / "ship-spool");
  const fs::path out = fresh_dir(work / "ship-out");
  std::vector<pid_t> fillers;
  for (int s = 0; s < sources; ++s) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      shmq::logger()->set_level(spdlog::level::off);
      shmq::log::SinkOptions options;
      options.spool = spool;
      options.program = "filler" + std::to_string(s);
      options.capacity = std::uint64_t{64} << 20;
      shmq::log::SpoolWriter writer(options);
      std::string text(100, 'x');
      shmq::log::Record r;
      r.logger_name = "bench";
      for (std::uint64_t i = 0; i < lines; ++i) {
        std::snprintf(text.data(), 24, "%02d %019llu", s, static_cast<unsigned long long>(i));
        text[22] = ' ';
        r.time_unix_ns = static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
        r.text = text;
        if (!writer.write(r)) std::_Exit(3);
      }
      std::_Exit(0);  // the writer's close record is not needed: the shipper sees the exit
    }
    fillers.push_back(pid);
  }
  for (pid_t pid : fillers) wait_for(pid);
  std::vector<std::string> args = {
      kLogd, "--spool", spool.string(), "--output", (out / "ship.log").string(), "--exit-when-drained"};
  if (zstd) args.insert(args.end(), {"--max-size", std::to_string(64 << 20), "--compress", "zstd"});
  rusage before{};
  ::getrusage(RUSAGE_CHILDREN, &before);
  const auto start = Clock::now();
  const pid_t logd = spawn(args);
  std::uint64_t peak = 0;
  int status = 0;
  while (::waitpid(logd, &status, WNOHANG) == 0) {
    peak = std::max(peak, rss_kib(logd, "RssAnon:"));  // its own memory (the mapped queues are shared)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  rusage after{};
  ::getrusage(RUSAGE_CHILDREN, &after);
  auto cpu = [](const rusage& r) {
    return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
           static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
  };
  const double total = static_cast<double>(lines) * sources;
  std::printf("| %d sources, %s | %.2f M lines/s | %.2f s CPU per M lines | %llu MiB peak private RSS |\n", sources,
              zstd ? "zstd level 1 (rotating every 64 MiB)" : "plain file", total / seconds / 1e6,
              (cpu(after) - cpu(before)) / (total / 1e6), static_cast<unsigned long long>(peak / 1024));
  std::fflush(stdout);
}

void idle_sources_row(const fs::path& work) {
  const fs::path spool = fresh_dir(work / "idle-spool");
  shmq::logger()->set_level(spdlog::level::off);
  std::vector<std::unique_ptr<shmq::log::SpoolWriter>> writers;
  for (int i = 0; i < 100; ++i) {
    shmq::log::SinkOptions options;
    options.spool = spool;
    options.program = "idle" + std::to_string(i);
    options.capacity = 1 << 16;
    writers.push_back(std::make_unique<shmq::log::SpoolWriter>(options));
  }
  const pid_t logd = spawn({kLogd, "--spool", spool.string(), "--output", (work / "idle.log").string()});
  std::this_thread::sleep_for(std::chrono::seconds(2));  // a measurement, not synchronisation
  const std::uint64_t rss = rss_kib(logd, "RssAnon:");
  rusage before{};
  ::getrusage(RUSAGE_SELF, &before);
  ::kill(logd, SIGTERM);
  wait_for(logd);
  std::printf("| 100 idle sources attached | | | %llu KiB private RSS |\n", static_cast<unsigned long long>(rss));
  writers.clear();
}

// --- 3. loss under kill -9 ------------------------------------------------------------------------

struct Loss {
  std::uint64_t returned;
  std::uint64_t written;
};

// A child logs as fast as it can and stores, after each call returns, how many have returned.
template <class MakeLogger>
std::uint64_t log_until_killed(MakeLogger make_logger, std::chrono::milliseconds run_for) {
  auto* returned = static_cast<std::atomic<std::uint64_t>*>(
      ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  new (returned) std::atomic<std::uint64_t>(0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::shared_ptr<spdlog::logger> logger = make_logger();
    for (std::uint64_t i = 0;; ++i) {
      logger->info("burst line {}", i);
      returned->store(i + 1, std::memory_order_release);  // after the call: pairs with the parent's load
    }
  }
  std::this_thread::sleep_for(run_for);  // a point in the middle of the burst, not a synchronisation
  ::kill(pid, SIGKILL);
  wait_for(pid);
  const std::uint64_t n = returned->load(std::memory_order_acquire);  // pairs with the child's store
  ::munmap(returned, 4096);
  return n;
}

void loss_rows(const fs::path& work) {
  std::printf("\n## Lines lost when the application is killed with -9 after 0.3 s of logging\n\n");
  std::printf("| logger | info() calls returned | lines in the file | lost |\n|---|---:|---:|---:|\n");
  {
    const fs::path file = work / "async-kill.log";
    fs::remove(file);
    const std::uint64_t returned = log_until_killed(
        [&] {
          static auto pool = std::make_shared<spdlog::details::thread_pool>(8192, 1);  // the logger holds a weak_ptr
          auto logger = std::make_shared<spdlog::async_logger>(
              "async", std::make_shared<spdlog::sinks::basic_file_sink_mt>(file.string()), pool,
              spdlog::async_overflow_policy::block);
          logger->set_pattern("%v");
          return std::static_pointer_cast<spdlog::logger>(logger);
        },
        std::chrono::milliseconds(300));
    const std::uint64_t written = count_lines(file, "burst line ");
    std::printf("| spdlog async (block, 8192) + file | %llu | %llu | %lld |\n",
                static_cast<unsigned long long>(returned), static_cast<unsigned long long>(written),
                static_cast<long long>(returned) - static_cast<long long>(written));
  }
  {
    const fs::path spool = fresh_dir(work / "kill-spool");
    const fs::path file = work / "shmq-kill.log";
    fs::remove(file);
    fs::remove(file.parent_path() / ("." + file.filename().string() + ".shmq-logd-state"));
    const pid_t logd = spawn({kLogd, "--spool", spool.string(), "--output", file.string()});
    const std::uint64_t returned = log_until_killed(
        [&] {
          shmq::logger()->set_level(spdlog::level::off);
          shmq::log::SinkOptions options;
          options.spool = spool;
          options.program = "burst";
          options.block_bound = std::chrono::hours(1);  // like the async logger's block policy: wait, never drop
          auto logger = shmq::log::spool_logger_mt("shmq-burst", options);
          logger->set_pattern("%v");
          return logger;
        },
        std::chrono::milliseconds(300));
    ::kill(logd, SIGTERM);
    wait_for(logd);
    wait_for(spawn({kLogd, "--spool", spool.string(), "--output", file.string(), "--exit-when-drained"}));
    const std::uint64_t written = count_lines(file, "burst line ");
    std::printf("| shmq spool sink + shmq-logd | %llu | %llu | %lld |\n", static_cast<unsigned long long>(returned),
                static_cast<unsigned long long>(written),
                std::max<long long>(0, static_cast<long long>(returned) - static_cast<long long>(written)));
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t calls = 1'000'000;
  fs::path work = "/tmp/shmq-log-bench";
  std::string part = "all";  // latency, shipper, loss
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--calls") calls = std::stoull(argv[i + 1]);
    if (arg == "--work") work = argv[i + 1];
    if (arg == "--part") part = argv[i + 1];
  }
  fresh_dir(work);
  shmq::logger()->set_level(spdlog::level::warn);
  const double per_ns = ticks_per_ns();
  std::printf("# shmq crash-safe logging benchmark (%u CPUs, TSC %.2f GHz, work dir %s)\n",
              std::thread::hardware_concurrency(), per_ns, work.c_str());
  if (part == "all" || part == "latency") latency_rows(work, calls, per_ns);
  if (part == "all" || part == "shipper") {
    std::printf("\n## shmq-logd\n\n| run | throughput | CPU | memory |\n|---|---:|---:|---:|\n");
    shipper_row(work, 4, 500'000, false);
    shipper_row(work, 4, 500'000, true);
    idle_sources_row(work);
  }
  if (part == "all" || part == "loss") loss_rows(work);
  fs::remove_all(work);
  return 0;
}
