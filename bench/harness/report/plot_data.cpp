#include <algorithm>
#include <fstream>
#include <map>

#include "reports.hpp"

namespace bench {

namespace {

// A curve's title: the transport, and its placement class when rows were measured per class.
template <class Row>
std::string title(const Row& row) {
  return row.placement.class_name.empty() ? row.transport : row.transport + " (" + row.placement.class_name + ")";
}

}  // namespace

void write_plot_data(const RunResults& results, const std::filesystem::path& dir) {
  // Throughput: per transport, msg/s (median, min, max) and MB/s by message size.
  std::map<std::string, std::vector<const ThroughputRow*>> by_transport;
  std::vector<std::string> order;
  for (const auto& row : results.throughput) {
    if (row.status.state != RowState::ok) continue;
    if (!by_transport.contains(title(row))) order.push_back(title(row));
    by_transport[title(row)].push_back(&row);
  }
  std::ofstream throughput(dir / "throughput.dat");
  for (const auto& name : order) {
    throughput << "\"" << name << "\"\n";
    for (const auto* row : by_transport[name]) {
      throughput << row->size << " " << row->messages_per_second.median << " " << row->messages_per_second.min << " "
                 << row->messages_per_second.max << " " << row->megabytes_per_second.median << "\n";
    }
    throughput << "\n\n";
  }

  // Latency: one file per message size, with a percentile curve per transport (and the references
  // in every file); x = 1 / (1 - p) as HdrHistogram plots do.
  std::vector<std::size_t> sizes;
  for (const auto& row : results.latency) {
    if (!row.reference && std::find(sizes.begin(), sizes.end(), row.size) == sizes.end()) sizes.push_back(row.size);
  }
  for (std::size_t size : sizes) {
    std::ofstream latency(dir / ("latency-" + std::to_string(size) + ".dat"));
    for (const auto& row : results.latency) {
      if (row.status.state != RowState::ok || (row.size != size && !row.reference)) continue;
      latency << "\"" << title(row) << "\"\n";
      for (const auto& [percentile, ns] : row.curve) {
        if (percentile >= 100.0) continue;
        latency << percentile << " " << 1.0 / (1.0 - percentile / 100.0) << " " << ns << "\n";
      }
      latency << "\n\n";
    }
  }
}

}  // namespace bench
