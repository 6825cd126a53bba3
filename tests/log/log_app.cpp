// The application of the logging tests: logs numbered lines "<name> <i>" through the spool sink.
//
//   shmq_log_test_app --spool DIR --name NAME --count N [--capacity BYTES] [--drop | --bound-ms MS]
//                     [--durable] [--flush-every K] [--report] [--text-size BYTES]
//
// --report: after each spdlog call returns, writes "<i>\n" to stdout (the line is committed).
// --flush-every K: flushes the logger after every K lines, then writes "flushed <n>\n" (lines
// 0..n-1 are durable). --count 0 logs until killed. At the end it writes
// "dropped <D> longest_call_ns <L>\n".
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "shmq/log/sink.hpp"
#include "shmq/shmq.hpp"

namespace {

void say(const std::string& text) {
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(STDOUT_FILENO, p, left);
    if (n <= 0) std::_Exit(4);  // the test stopped reading: nothing to report to
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace

int main(int argc, char** argv) {
  shmq::log::SinkOptions options;
  std::string name = "app";
  std::uint64_t count = 1000;
  std::uint64_t flush_every = 0;
  std::size_t text_size = 0;
  bool report = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--spool")
      options.spool = value();
    else if (arg == "--name")
      name = value();
    else if (arg == "--count")
      count = std::stoull(value());
    else if (arg == "--capacity")
      options.capacity = std::stoull(value());
    else if (arg == "--drop")
      options.when_full = shmq::log::FullPolicy::drop;
    else if (arg == "--bound-ms")
      options.block_bound = std::chrono::milliseconds(std::stoll(value()));
    else if (arg == "--durable")
      options.durable = true;
    else if (arg == "--flush-every")
      flush_every = std::stoull(value());
    else if (arg == "--report")
      report = true;
    else if (arg == "--text-size")
      text_size = std::stoull(value());
    else {
      std::fprintf(stderr, "unknown argument %s\n", arg.c_str());
      return 2;
    }
  }
  options.program = name;
  shmq::logger()->set_level(spdlog::level::warn);
  auto sink = std::make_shared<shmq::log::spool_sink_mt>(options);
  auto logger = std::make_shared<spdlog::logger>(name, sink);
  logger->set_pattern("%v");
  const std::string padding(text_size, '.');
  std::int64_t longest = 0;
  for (std::uint64_t i = 0; count == 0 || i < count; ++i) {
    const auto start = std::chrono::steady_clock::now();
    logger->info("{} {}{}", name, i, padding);
    longest = std::max<std::int64_t>(longest, (std::chrono::steady_clock::now() - start).count());
    if (report) say(std::to_string(i) + "\n");
    if (flush_every > 0 && (i + 1) % flush_every == 0) {
      logger->flush();
      say("flushed " + std::to_string(i + 1) + "\n");
    }
  }
  say("dropped " + std::to_string(sink->dropped()) + " longest_call_ns " + std::to_string(longest) + "\n");
  return 0;
}
