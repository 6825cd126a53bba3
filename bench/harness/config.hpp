// What one invocation of shmq-bench measures, from its command line.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace bench {

struct Config {
  bool smoke = false;
  std::filesystem::path results_dir = "bench-results";
  std::filesystem::path disk_dir = ".";  // where the sequential-write reference writes its file
  std::filesystem::path queue_dir = "/dev/shm";
  std::vector<std::string> transports;  // name filters (substring match); empty: all
  std::vector<std::string> suites{"throughput", "latency", "idle", "reference", "durable"};
  std::vector<std::size_t> throughput_sizes{8, 64, 1024, 65536};
  std::vector<std::size_t> latency_sizes{8, 64, 1024};
  std::size_t ring_bytes = std::size_t{4} << 20;
  std::size_t idle_ring_bytes = std::size_t{64} << 10;
  int repetitions = 5;
  std::uint64_t warmup_messages = 100'000;  // throughput warm-up and calibration burst (at most 256 MiB)
  double seconds_per_repetition = 0.25;     // throughput repetitions are sized to last about this
  std::uint64_t round_trips = 20'000;       // latency: per repetition (5 x 20k = 100k in all)
  std::uint64_t warmup_round_trips = 10'000;
  std::uint64_t placement_round_trips = 20'000;
  // Placement classes of the cache-line round-trip p50 (placement.hpp): near below
  // placement_thresholds_ns[0], far above placement_thresholds_ns[1], mid between.
  std::vector<double> placement_thresholds_ns{160, 400};
  std::vector<std::string> placements;  // each row once per class listed; empty: once, wherever it runs
  int placement_attempts = 12;          // tries per row to get a measurement in each listed class
  double idle_seconds = 10.0;
  std::size_t disk_bytes = std::size_t{1} << 30;          // the sequential-write reference: sized like the fill
  std::size_t durable_fill_bytes = std::size_t{1} << 30;  // durable suite: the queue a lone producer fills
  int durable_rounds = 3;  // durable suite: disk reference and fill alternated this many times (median ratio)
  std::uint64_t sync_rounds = 2'000;  // durable suite: batches each ended by sync()
  int cpus[2] = {0, 1};
  std::chrono::seconds run_timeout{120};
  // Self-test of the sequence check: the throughput producer skips this sequence number.
  std::uint64_t drop_message = UINT64_MAX;  // a hang detector per process pair, never a measurement

  void apply_smoke_defaults() {
    repetitions = 2;
    warmup_messages = 2'000;
    seconds_per_repetition = 0.01;
    round_trips = 2'000;
    warmup_round_trips = 200;
    placement_round_trips = 1'000;
    idle_seconds = 0.2;
    disk_bytes = std::size_t{4} << 20;
    durable_fill_bytes = std::size_t{16} << 20;
    durable_rounds = 1;
    sync_rounds = 50;
    run_timeout = std::chrono::seconds{20};
  }
};

}  // namespace bench
