// shmq-log: sends each line of standard input (without its newline) as one record into a spool
// queue of its own, for programs not written in C++:
//
//   some-program 2>&1 | shmq-log --spool /run/app-logs --name some-program
//
// Exits 0 at end of input once every line is committed (in the queue; durable with --durable).
#include <cstdio>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shmq/log/sink.hpp"
#include "shmq_sample/exit_codes.hpp"
#include "shmq/shmq.hpp"

namespace {

constexpr const char* kFooter =
    "When the queue is full (shmq-logd is down or slow), shmq-log waits for room: the pipe fills\n"
    "and the writing program waits too. With --block-ms it waits that long, then drops (and\n"
    "later lines drop at once until one fits); with --drop it drops at once. Dropped lines are\n"
    "counted in the queue's drop counter and shmq-logd reports them.\n"
    "\n"
    "Exit status: 0 every line committed; 2 an error (named on stderr); 3 some lines were dropped\n"
    "(the queue was full); 64 bad arguments.";

}  // namespace

int main(int argc, char** argv) {
  shmq::log::SinkOptions options;
  std::string name;
  std::uint64_t block_ms = 0;
  bool drop = false;
  std::string level_name = "info";
  CLI::App app{"shmq-log: sends each line of standard input as one log record into a spool"};
  app.footer(kFooter);
  app.add_option("--spool", options.spool, "the spool directory")->required()->check(CLI::ExistingDirectory);
  app.add_option("--name", name, "the program name in the queue's name and the records' logger name")->required();
  app.add_option("--capacity", options.capacity, "the queue's ring bytes (a power of two)");
  app.add_option("--block-ms", block_ms, "wait at most this long for room, then drop (0: wait for room)");
  app.add_flag("--drop", drop, "drop a line at once when the queue is full");
  app.add_flag("--durable", options.durable, "a durable queue: exit only once every line survives power loss");
  app.add_option("--level", level_name, "the level of every record")
      ->check(CLI::IsMember({"trace", "debug", "info", "warning", "error", "critical"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? shmq_sample::kExitOk : shmq_sample::kExitUsage;  // --help: 0
  }

  options.program = name;
  options.when_full = drop ? shmq::log::FullPolicy::drop : shmq::log::FullPolicy::block;
  options.block_bound = block_ms > 0 ? std::chrono::nanoseconds(std::chrono::milliseconds(block_ms))
                                     : std::chrono::nanoseconds(std::chrono::hours(24 * 365 * 100));
  shmq::logger()->set_level(spdlog::level::warn);
  try {
    shmq::log::SpoolWriter writer(options);
    shmq::log::Record record;
    record.level = static_cast<std::uint8_t>(spdlog::level::from_str(level_name));
    record.logger_name = name;
    record.thread_id = static_cast<std::uint64_t>(::syscall(SYS_gettid));
    std::ios::sync_with_stdio(false);
    std::string line;
    while (std::getline(std::cin, line)) {
      record.time_unix_ns = static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
              .count());
      record.text = line;
      writer.write(record);
    }
    writer.flush();
    if (writer.dropped() > 0) {
      std::fprintf(stderr, "shmq-log: %llu lines dropped (the queue was full)\n",
                   static_cast<unsigned long long>(writer.dropped()));
      return shmq_sample::kExitPeerGone;
    }
    return shmq_sample::kExitOk;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shmq-log: %s\n", e.what());
    return shmq_sample::kExitFailed;
  }
}
