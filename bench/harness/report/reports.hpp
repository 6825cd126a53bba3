// The outputs of a run: a markdown table (also printed), a JSON file, and the data files that
// bench/plot.gnuplot turns into PNG plots.
#pragma once

#include <filesystem>
#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "../config.hpp"
#include "../results.hpp"

#include "shmq_sample/units.hpp"

namespace bench {

std::string markdown_report(const Config& config, const RunResults& results);
void write_json_report(const Config& config, const RunResults& results, const std::filesystem::path& file);
// throughput.dat and latency-SIZE.dat: one block per transport, separated by two blank lines, each
// block starting with the transport's name (gnuplot: index i, title columnheader(1)).
void write_plot_data(const RunResults& results, const std::filesystem::path& dir);

// "12.3 M", "456 k", "789": the project's one formatter of counts.
using shmq_sample::format_count;

// Markdown cells shared by the tables: a row that did not measure, and its placement probes.
std::string status_text(const RowStatus& status);
std::string placement_text(const Placement& placement);

// With --placements: the rows of one transport and size, by placement class. A row measured once
// in one process (memcpy) has no class: it is `unplaced`, and stands for every class.
template <class Row>
struct PlacementGroup {
  const Row* unplaced = nullptr;
  std::map<std::string, const Row*> by_class;
  const Row& first() const { return unplaced != nullptr ? *unplaced : *by_class.begin()->second; }
  const Row* in(const std::string& placement) const {
    const auto it = by_class.find(placement);
    return it != by_class.end() ? it->second : unplaced;
  }
};

template <class Row>
std::vector<PlacementGroup<Row>> group_by_placement(const std::vector<Row>& rows) {
  std::vector<PlacementGroup<Row>> groups;
  std::map<std::pair<std::string, std::size_t>, std::size_t> index;  // (transport, size) -> group
  for (const Row& row : rows) {
    const auto [it, added] = index.try_emplace({row.transport, row.size}, groups.size());
    if (added) groups.emplace_back();
    auto& group = groups[it->second];
    if (row.placement.class_name.empty()) {
      group.unplaced = &row;
    } else {
      group.by_class[row.placement.class_name] = &row;
    }
  }
  return groups;
}

// The throughput and round-trip tables with one column group per class of config.placements.
void write_throughput_by_placement(const Config& config, const RunResults& results, std::ostream& out);
void write_latency_by_placement(const Config& config, const RunResults& results, std::ostream& out);

// The project's targets, per requested placement class, from measurements in that class only
// (0: the row did not run or did not reach the class).
struct PlacementTargets {
  std::string placement;
  struct Throughput {
    std::size_t size = 0;
    double busy_poll = 0, spsc = 0;  // msg/s
  };
  std::vector<Throughput> throughput;  // "shmq busy-poll" over "Boost spsc_queue in shm" at 8, 64, 1024 B
  double busy_poll_p50_ns = 0, busy_poll_p999_ns = 0, cacheline_p50_ns = 0, blocking_p50_ns = 0;  // 64 B
};
extern const char* const kTargetBusyPollRow;
extern const char* const kTargetSpscRow;
extern const char* const kTargetCachelineRow;
extern const char* const kTargetBlockingRow;
std::vector<PlacementTargets> placement_targets(const Config& config, const RunResults& results);
// "Targets by placement": the ratios, "n/a" where a figure is missing.
void write_placement_targets(const Config& config, const RunResults& results, std::ostream& out);

}  // namespace bench
