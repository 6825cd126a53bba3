// The crash-safe logging example: an spdlog logger whose sink is this process's queue in a spool.
// It logs a burst of numbered lines as fast as it can and prints the number of each line whose
// spdlog call has returned. Kill it with -9 in the middle (run.sh does): shmq-logd still ships
// every one of those lines, because a returned call means the line is in a shared mapping.
//
//   shmq-crash-logging-example SPOOL_DIR [LINES]
#include <cstdio>
#include <cstdlib>

#include <spdlog/spdlog.h>

#include "shmq/log/sink.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s SPOOL_DIR [LINES]\n", argv[0]);
    return 2;
  }
  const long lines = argc > 2 ? std::atol(argv[2]) : 100'000'000;

  // The setup: a logger whose records go into this process's queue in the spool.
  shmq::log::SinkOptions spool;
  spool.spool = argv[1];
  auto log = shmq::log::spool_logger_mt("burst", spool);
  log->set_pattern("%Y-%m-%dT%H:%M:%S.%f %l %v");

  for (long i = 0; i < lines; ++i) {
    log->info("burst line {}", i);
    std::printf("%ld\n", i);  // after the call returned: this line is committed
  }
  return 0;
}
