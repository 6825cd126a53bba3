// --placements: one measurement of a row per requested placement class. The row is tried again
// (probe, measure, probe) until each class has an attempt whose two probes fall in it, or the
// attempts run out; an attempt is kept for whichever missing class it landed in.
#pragma once

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "config.hpp"
#include "results.hpp"

namespace bench {

// `attempt` measures the row once between two probes and sets its placement (class included).
// Returns one row per class of config.placements, in that order; a class not reached is a row in
// state not_reached. A row that is unavailable or fails stops the search: the missing classes say so.
template <class Row, class Attempt>
std::vector<Row> measure_in_placements(const Config& config, Attempt attempt) {
  std::map<std::string, Row> kept;
  std::map<std::string, int> seen;  // what the attempts landed in, for the not_reached reason
  Row last;
  int attempts = 0;
  while (kept.size() < config.placements.size() && attempts < config.placement_attempts) {
    if (attempts++ > 0) {
      // Re-running is what gives the host a chance to move the vCPUs; a pause makes that likelier.
      std::this_thread::sleep_for(std::chrono::milliseconds(config.smoke ? 20 : 200));
    }
    last = attempt();
    if (last.status.state != RowState::ok) break;
    const std::string& found = last.placement.class_name;
    ++seen[found.empty() ? "moved" : found];
    const bool requested =
        std::find(config.placements.begin(), config.placements.end(), found) != config.placements.end();
    if (requested && !kept.contains(found)) kept.emplace(found, last);
  }
  std::string landed;
  for (const auto& [name, count] : seen) landed += (landed.empty() ? "" : ", ") + name + " " + std::to_string(count);
  std::vector<Row> rows;
  for (const std::string& wanted : config.placements) {
    if (const auto it = kept.find(wanted); it != kept.end()) {
      rows.push_back(it->second);
      continue;
    }
    Row row = last;  // unavailable or failed: that status
    if (last.status.state == RowState::ok) {
      row = Row{};
      row.transport = last.transport;
      row.reference = last.reference;
      row.size = last.size;
      row.status = {RowState::not_reached, "not reached in " + std::to_string(attempts) + " attempts (" + landed + ")"};
    }
    row.placement = {0, 0, wanted};
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace bench
