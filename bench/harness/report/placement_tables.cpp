// With --placements: the throughput and round-trip tables, one column group per requested class.
#include "reports.hpp"

namespace bench {

namespace {

// " (before / after)" for a measured row; nothing for one that ran in one process.
std::string ping_text(const Placement& placement) {
  const std::string probes = placement_text(placement);
  return probes.empty() ? "" : " (" + probes + ")";
}

std::string pinned_text(bool pinned) { return pinned ? "" : " (unpinned)"; }

}  // namespace

void write_throughput_by_placement(const Config& config, const RunResults& results, std::ostream& out) {
  if (results.throughput.empty()) return;
  out << "## Throughput by placement (two processes, every sequence number checked)\n\n";
  out << "msg/s, median of the repetitions; in parentheses the cache-line ping (ns) before / after the row.\n\n";
  out << "| transport | size |";
  for (const auto& placement : config.placements) out << " " << placement << ": msg/s (ping ns) |";
  out << "\n|---|---:|";
  for (std::size_t i = 0; i < config.placements.size(); ++i) out << "---:|";
  out << "\n";
  for (const auto& group : group_by_placement(results.throughput)) {
    out << "| " << group.first().transport << " | " << group.first().size << " B |";
    for (const auto& placement : config.placements) {
      const ThroughputRow* row = group.in(placement);
      if (row == nullptr) {
        out << " |";
      } else if (row->status.state != RowState::ok) {
        out << " " << status_text(row->status) << " |";
      } else {
        out << " " << format_count(row->messages_per_second.median) << ping_text(row->placement)
            << pinned_text(row->pinned) << " |";
      }
    }
    out << "\n";
  }
  out << "\n";
}

void write_latency_by_placement(const Config& config, const RunResults& results, std::ostream& out) {
  if (results.latency.empty()) return;
  out << "## Round trip by placement, one message each way (ns)\n\n";
  out << "| transport | size |";
  for (const auto& placement : config.placements) {
    out << " " << placement << ": p50 | " << placement << ": p99 | " << placement << ": p99.9 | " << placement
        << ": ping |";
  }
  out << "\n|---|---:|";
  for (std::size_t i = 0; i < config.placements.size(); ++i) out << "---:|---:|---:|---:|";
  out << "\n";
  for (const auto& group : group_by_placement(results.latency)) {
    out << "| " << group.first().transport << " | " << group.first().size << " B |";
    for (const auto& placement : config.placements) {
      const LatencyRow* row = group.in(placement);
      if (row == nullptr) {
        out << " | | | |";
      } else if (row->status.state != RowState::ok) {
        out << " " << status_text(row->status) << " | | | |";
      } else {
        out << " " << format_count(row->p50_ns) << " | " << format_count(row->p99_ns) << " | "
            << format_count(row->p999_ns) << " | " << placement_text(row->placement) << pinned_text(row->pinned)
            << " |";
      }
    }
    out << "\n";
  }
  out << "\n";
}

}  // namespace bench
