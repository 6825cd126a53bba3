// What shmq-logd is asked to do (main.cpp fills it from the command line).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>

namespace shmq::logd {

struct ShipperOptions {
  std::filesystem::path spool;      // the directory of queues to ship
  std::filesystem::path output;     // the log file; rotated files are `<output>.000001` ... next to it
  std::uint64_t max_size = 0;       // rotate once the file reaches this many bytes (0: never)
  std::chrono::seconds max_age{0};  // rotate a non-empty file this old (0: never)
  unsigned keep = 0;                // rotated files to keep, newest first (0: all)
  bool compress = false;            // zstd-compress rotated files (`.zst`), in a thread of the shipper
  int zstd_level = 1;
  // Records of different processes are merged by timestamp; a record is held back until every
  // other source has either shown a later record or been seen empty `hold_back` after it.
  std::chrono::milliseconds hold_back{50};
  // The most a shipped line waits for fdatasync (and its queue space for release).
  std::chrono::milliseconds sync_interval{100};
  bool remove_ended = true;        // remove a drained queue whose process has exited
  bool exit_when_drained = false;  // exit once no source is left (every process exited, all shipped)
  bool json_stat = false;          // also print the status as one JSON line every status interval
  std::chrono::milliseconds status_interval{1000};
};

}  // namespace shmq::logd
