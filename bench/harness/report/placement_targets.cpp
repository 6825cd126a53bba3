// "Targets by placement": the ratios the project tracks, each from measurements of one placement
// class only, since a ratio across classes measures the VM rather than the code.
#include <cstdio>

#include "reports.hpp"

namespace bench {

// The rows' names as the transport registry gives them.
const char* const kTargetBusyPollRow = "shmq busy-poll";
const char* const kTargetSpscRow = "Boost spsc_queue in shm";  // transports/boost_spsc_queue_transport.cpp
const char* const kTargetCachelineRow = "cache-line ping-pong (reference)";
const char* const kTargetBlockingRow = "shmq blocking";

namespace {

template <class Row>
const Row* find_row(const std::vector<Row>& rows, const std::string& transport, std::size_t size,
                    const std::string& placement) {
  for (const Row& row : rows) {
    if (row.transport == transport && row.size == size && row.placement.class_name == placement &&
        row.status.state == RowState::ok)
      return &row;
  }
  return nullptr;
}

// "0.52 (12.3 M / 23.6 M)", or "n/a" when either figure is missing.
std::string ratio_text(double over, double under) {
  if (over <= 0 || under <= 0) return "n/a";
  char ratio[32];
  std::snprintf(ratio, sizeof ratio, "%.2f", over / under);
  return std::string(ratio) + " (" + format_count(over) + " / " + format_count(under) + ")";
}

std::string figure_text(double value) { return value > 0 ? format_count(value) : "n/a"; }

}  // namespace

std::vector<PlacementTargets> placement_targets(const Config& config, const RunResults& results) {
  std::vector<PlacementTargets> targets;
  for (const auto& placement : config.placements) {
    PlacementTargets t;
    t.placement = placement;
    for (const std::size_t size : {std::size_t{8}, std::size_t{64}, std::size_t{1024}}) {
      PlacementTargets::Throughput figures{size};
      if (const auto* row = find_row(results.throughput, kTargetBusyPollRow, size, placement))
        figures.busy_poll = row->messages_per_second.median;
      if (const auto* row = find_row(results.throughput, kTargetSpscRow, size, placement))
        figures.spsc = row->messages_per_second.median;
      t.throughput.push_back(figures);
    }
    if (const auto* row = find_row(results.latency, kTargetBusyPollRow, 64, placement)) {
      t.busy_poll_p50_ns = row->p50_ns;
      t.busy_poll_p999_ns = row->p999_ns;
    }
    if (const auto* row = find_row(results.latency, kTargetCachelineRow, 64, placement))
      t.cacheline_p50_ns = row->p50_ns;
    if (const auto* row = find_row(results.latency, kTargetBlockingRow, 64, placement)) t.blocking_p50_ns = row->p50_ns;
    targets.push_back(std::move(t));
  }
  return targets;
}

void write_placement_targets(const Config& config, const RunResults& results, std::ostream& out) {
  const auto targets = placement_targets(config, results);
  if (targets.empty()) return;
  out << "## Targets by placement\n\n";
  out << "Each figure from rows measured in that placement class only; n/a: a row did not run or did not reach "
         "the class.\n\n";
  out << "| target |";
  for (const auto& t : targets) out << " " << t.placement << " |";
  out << "\n|---|";
  for (std::size_t i = 0; i < targets.size(); ++i) out << "---:|";
  out << "\n";
  for (std::size_t i = 0; i < targets.front().throughput.size(); ++i) {
    out << "| throughput " << kTargetBusyPollRow << " / " << kTargetSpscRow << ", "
        << targets.front().throughput[i].size << " B |";
    for (const auto& t : targets) out << " " << ratio_text(t.throughput[i].busy_poll, t.throughput[i].spsc) << " |";
    out << "\n";
  }
  out << "| round trip 64 B p50, " << kTargetBusyPollRow << " / " << kTargetCachelineRow << " |";
  for (const auto& t : targets) out << " " << ratio_text(t.busy_poll_p50_ns, t.cacheline_p50_ns) << " |";
  out << "\n| round trip 64 B p99.9, " << kTargetBusyPollRow << " (ns) |";
  for (const auto& t : targets) out << " " << figure_text(t.busy_poll_p999_ns) << " |";
  out << "\n| round trip 64 B p50, " << kTargetBlockingRow << " / " << kTargetBusyPollRow << " |";
  for (const auto& t : targets) out << " " << ratio_text(t.blocking_p50_ns, t.busy_poll_p50_ns) << " |";
  out << "\n\n";
}

}  // namespace bench
