// What a run measured, row by row, as the reports print it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bench {

// Median with min and max over the repetitions of one measurement.
struct Spread {
  double median = 0;
  double min = 0;
  double max = 0;
};

inline Spread spread_of(std::vector<double> values) {
  if (values.empty()) return {};
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  const double median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  return {median, values.front(), values.back()};
}

// not_reached: with --placements, the row was never measured in that placement class (not a failure).
enum class RowState { ok, unavailable, failed, not_reached };

struct RowStatus {
  RowState state = RowState::ok;
  std::string reason;  // for unavailable, failed and not_reached rows
};

// Cache-line round trip p50 between the two CPUs, measured just before and just after a row, and
// the class both fall into: "near", "mid", "far", or "" (they differ, or the row was not probed).
struct Placement {
  double before_ns = 0;
  double after_ns = 0;
  std::string class_name;
};

struct ThroughputRow {
  std::string transport;
  bool reference = false;  // a physical limit, not a transport
  std::size_t size = 0;
  RowStatus status;
  Spread messages_per_second;
  Spread megabytes_per_second;
  std::uint64_t messages_per_repetition = 0;
  bool pinned = true;
  Placement placement;
};

struct LatencyRow {
  std::string transport;
  bool reference = false;
  std::size_t size = 0;
  RowStatus status;
  double p50_ns = 0, p99_ns = 0, p999_ns = 0, max_ns = 0;
  Spread p50_by_repetition_ns;
  std::vector<std::pair<double, double>> curve;  // (percentile, ns) for the plot
  std::uint64_t round_trips = 0;
  bool pinned = true;
  Placement placement;
};

struct IdleRow {
  std::string transport;
  RowStatus status;
  double consumer_cpu_percent = 0;  // of one core, while blocked on an empty queue
  double consumer_window_s = 0;
  double producer_cpu_percent = 0;  // of one core, while blocked on a full queue
  double producer_window_s = 0;
};

struct DiskRow {
  std::string directory;
  RowStatus status;
  std::size_t bytes = 0;
  Spread megabytes_per_second;
};

// The durable suite: (a) a producer alone fills a durable queue on disk, (b) sync() latency,
// (c) 64-byte durable throughput over non-durable, from the throughput rows of the same run.
struct DurableResults {
  RowStatus fill_status;
  std::uint64_t fill_queue_bytes = 0;       // the ring's capacity
  std::uint64_t fill_messages = 0;          // 1024-byte messages sent until the ring was full
  double fill_seconds = 0;                  // first send to the end of the closing sync()
  double fill_megabytes_per_second = 0;     // of payload: the median over the rounds
  double disk_megabytes_per_second = 0;     // the median of the disk references alternated with the fills (0: none)
  std::vector<double> fill_to_disk_rounds;  // each fill over the disk reference taken just before it
  double fill_to_disk = 0;                  // their median (0: not available)
  bool fill_pinned = true;

  RowStatus sync_status;
  std::uint64_t syncs = 0;     // recorded (after the warm-up)
  std::size_t sync_batch = 0;  // 64-byte messages sent before each sync()
  double sync_p50_ns = 0, sync_p99_ns = 0, sync_max_ns = 0;
  bool sync_pinned = true;

  std::string durable_row, non_durable_row;  // the 64-byte throughput rows compared
  double durable_64_messages_per_second = 0;
  double non_durable_64_messages_per_second = 0;
  double durable_to_non_durable = 0;  // ratio (0: both rows did not run)

  // What record checksums cost: the busy-poll row with checksums over the one without.
  struct ChecksumCost {
    std::size_t size = 0;
    double with = 0, without = 0;  // messages/s medians
    double ratio = 0;              // with / without (0: a row did not run)
  };
  std::string checksummed_row;
  std::vector<ChecksumCost> checksum_costs;
};

struct RunResults {
  std::string cpu_model;
  std::string kernel;
  int online_cpus = 0;
  std::string started_at;
  bool smoke = false;
  bool pinned = true;  // every pair of processes was pinned as asked
  std::vector<ThroughputRow> throughput;
  std::vector<LatencyRow> latency;
  std::vector<IdleRow> idle;
  std::vector<DiskRow> disk;
  std::optional<DurableResults> durable;
  std::vector<std::string> notes;     // what transports had to settle for, once each
  std::vector<std::string> failures;  // rows that make the run fail (shmq or a sequence error)
};

}  // namespace bench
