#include <cstdio>
#include <sstream>

#include "reports.hpp"

namespace bench {

namespace {

std::string spread_text(const Spread& s) {
  return format_count(s.median) + " [" + format_count(s.min) + " – " + format_count(s.max) + "]";
}

std::string size_text(std::size_t size) { return std::to_string(size) + " B"; }

}  // namespace

std::string status_text(const RowStatus& status) {
  if (status.state == RowState::not_reached) return status.reason;
  return (status.state == RowState::unavailable ? "unavailable: " : "**FAILED**: ") + status.reason;
}

std::string placement_text(const Placement& p) {
  if (p.before_ns == 0 && p.after_ns == 0) return "";
  return format_count(p.before_ns) + " / " + format_count(p.after_ns);
}

std::string markdown_report(const Config& config, const RunResults& results) {
  std::ostringstream out;
  out << "# shmq-bench " << (results.smoke ? "smoke run (tiny counts: the figures mean nothing)" : "run") << "\n\n";
  out << "- Machine: " << results.cpu_model << ", " << results.online_cpus << " online CPUs, Linux " << results.kernel
      << "\n";
  out << "- Started: " << results.started_at << "\n";
  out << "- Processes: producer/initiator on CPU " << config.cpus[0] << ", consumer/echo on CPU " << config.cpus[1]
      << (results.pinned ? " (pinned)" : " — **pinning failed for some runs: those rows are unpinned**") << "\n";
  out << "- Buffering given to every transport: " << config.ring_bytes << " bytes; repetitions: " << config.repetitions
      << " (median [min – max]); each throughput repetition sized to ~" << config.seconds_per_repetition << " s\n";
  out << "- Placement: cache-line round-trip p50 (ns) between the two CPUs just before / after each row; compare "
         "rows only within the same placement.\n";
  if (!config.placements.empty()) {
    out << "- Placement classes: near < " << format_count(config.placement_thresholds_ns[0])
        << " ns <= mid <= " << format_count(config.placement_thresholds_ns[1])
        << " ns < far, both probes in the class; each row tried up "
        << "to " << config.placement_attempts << " times per class\n";
  }
  out << "\n";

  if (!config.placements.empty()) {
    write_throughput_by_placement(config, results, out);
    write_latency_by_placement(config, results, out);
  }
  if (!results.throughput.empty() && config.placements.empty()) {
    out << "## Throughput (two processes, every sequence number checked)\n\n";
    out << "| transport | size | msg/s | MB/s | placement (ns) |\n|---|---:|---:|---:|---:|\n";
    for (const auto& row : results.throughput) {
      out << "| " << row.transport << " | " << size_text(row.size) << " | ";
      if (row.status.state != RowState::ok) {
        out << status_text(row.status) << " | | |\n";
        continue;
      }
      out << spread_text(row.messages_per_second) << " | " << format_count(row.megabytes_per_second.median) << " | "
          << placement_text(row.placement) << (row.pinned ? "" : " (unpinned)") << " |\n";
    }
    out << "\n";
  }
  if (!results.latency.empty() && config.placements.empty()) {
    out << "## Round trip, one message each way (ns)\n\n";
    out << "| transport | size | p50 | p99 | p99.9 | max | p50 per repetition | round trips | placement (ns) |\n"
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& row : results.latency) {
      out << "| " << row.transport << " | " << size_text(row.size) << " | ";
      if (row.status.state != RowState::ok) {
        out << status_text(row.status) << " | | | | | | |\n";
        continue;
      }
      out << format_count(row.p50_ns) << " | " << format_count(row.p99_ns) << " | " << format_count(row.p999_ns)
          << " | " << format_count(row.max_ns) << " | " << spread_text(row.p50_by_repetition_ns) << " | "
          << row.round_trips << " | " << placement_text(row.placement) << (row.pinned ? "" : " (unpinned)") << " |\n";
    }
    out << "\n";
  }
  if (!results.idle.empty()) {
    out << "## Idle cost: CPU used while blocked (% of one core, getrusage of the blocked process)\n\n";
    out << "| transport | consumer blocked on an empty queue | producer blocked on a full queue |\n|---|---:|---:|\n";
    for (const auto& row : results.idle) {
      out << "| " << row.transport << " | ";
      if (row.status.state != RowState::ok) {
        out << status_text(row.status) << " | |\n";
        continue;
      }
      char text[160];
      std::snprintf(text, sizeof text, "%.3f %% over %.2f s | %.3f %% over %.2f s", row.consumer_cpu_percent,
                    row.consumer_window_s, row.producer_cpu_percent, row.producer_window_s);
      out << text << " |\n";
    }
    out << "\n";
  }
  if (!results.disk.empty()) {
    out << "## Sequential write + fdatasync (reference for durable mode)\n\n";
    out << "| directory | bytes | MB/s |\n|---|---:|---:|\n";
    for (const auto& row : results.disk) {
      out << "| " << row.directory << " | " << row.bytes << " | "
          << (row.status.state == RowState::ok ? spread_text(row.megabytes_per_second) : status_text(row.status))
          << " |\n";
    }
    out << "\n";
  }
  if (results.durable) {
    const DurableResults& d = *results.durable;
    char text[256];
    out << "## Durable mode (queue files under the disk reference's directory; checksums on)\n\n";
    out << "| measurement | result |\n|---|---|\n";
    out << "| producer alone fills a " << d.fill_queue_bytes
        << "-byte queue, 1024 B messages, 10 ms checkpoints, then sync() | ";
    if (d.fill_status.state != RowState::ok) {
      out << status_text(d.fill_status) << " |\n";
    } else {
      std::snprintf(text, sizeof text, "%s MB/s (median; last round: %llu messages in %.3f s)",
                    format_count(d.fill_megabytes_per_second).c_str(), static_cast<unsigned long long>(d.fill_messages),
                    d.fill_seconds);
      out << text << (d.fill_pinned ? "" : " (unpinned)") << " |\n";
      out << "| fill / sequential write + fdatasync of as many bytes, alternated (median) | ";
      if (d.fill_to_disk > 0) {
        std::snprintf(text, sizeof text, "%.2f (disk %s MB/s; rounds:", d.fill_to_disk,
                      format_count(d.disk_megabytes_per_second).c_str());
        out << text;
        for (const double ratio : d.fill_to_disk_rounds) {
          std::snprintf(text, sizeof text, " %.2f", ratio);
          out << text;
        }
        out << ") |\n";
      } else {
        out << "n/a (no disk reference) |\n";
      }
    }
    out << "| sync() after " << d.sync_batch << " x 64 B messages, consumer keeping up (ns) | ";
    if (d.sync_status.state != RowState::ok) {
      out << status_text(d.sync_status) << " |\n";
    } else {
      out << "p50 " << format_count(d.sync_p50_ns) << ", p99 " << format_count(d.sync_p99_ns) << ", max "
          << format_count(d.sync_max_ns) << " over " << d.syncs << " syncs" << (d.sync_pinned ? "" : " (unpinned)")
          << " |\n";
    }
    out << "| 64 B throughput, " << d.durable_row << " / " << d.non_durable_row << " | ";
    if (d.durable_to_non_durable > 0) {
      std::snprintf(text, sizeof text, "%.2f (%s / %s msg/s)", d.durable_to_non_durable,
                    format_count(d.durable_64_messages_per_second).c_str(),
                    format_count(d.non_durable_64_messages_per_second).c_str());
      out << text << " |\n";
    } else {
      out << "n/a (both 64 B throughput rows must run) |\n";
    }
    for (const auto& cost : d.checksum_costs) {
      out << "| " << cost.size << " B throughput, " << d.checksummed_row << " / " << d.non_durable_row << " | ";
      if (cost.ratio > 0) {
        std::snprintf(text, sizeof text, "%.2f (%s / %s msg/s)", cost.ratio, format_count(cost.with).c_str(),
                      format_count(cost.without).c_str());
        out << text << " |\n";
      } else {
        out << "n/a (both rows must run) |\n";
      }
    }
    out << "\n";
  }
  if (!config.placements.empty()) write_placement_targets(config, results, out);
  if (!results.notes.empty()) {
    out << "## Notes\n\n";
    for (const auto& note : results.notes) out << "- " << note << "\n";
    out << "\n";
  }
  if (!results.failures.empty()) {
    out << "## Failures\n\n";
    for (const auto& failure : results.failures) out << "- " << failure << "\n";
  }
  return out.str();
}

}  // namespace bench
