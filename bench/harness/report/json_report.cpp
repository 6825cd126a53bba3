#include <fstream>

#include <nlohmann/json.hpp>

#include "reports.hpp"

namespace bench {

namespace {

using nlohmann::json;

json to_json(const Spread& s) { return {{"median", s.median}, {"min", s.min}, {"max", s.max}}; }

json to_json(const RowStatus& s) {
  const char* state = s.state == RowState::ok            ? "ok"
                      : s.state == RowState::unavailable ? "unavailable"
                      : s.state == RowState::not_reached ? "not_reached"
                                                         : "failed";
  json out = {{"state", state}};
  if (!s.reason.empty()) out["reason"] = s.reason;
  return out;
}

json to_json(const Placement& p) {
  return {{"before_ns", p.before_ns}, {"after_ns", p.after_ns}, {"class", p.class_name}};
}

json to_json(const ThroughputRow& row) {
  return {{"transport", row.transport},
          {"reference", row.reference},
          {"size", row.size},
          {"status", to_json(row.status)},
          {"messages_per_second", to_json(row.messages_per_second)},
          {"megabytes_per_second", to_json(row.megabytes_per_second)},
          {"messages_per_repetition", row.messages_per_repetition},
          {"pinned", row.pinned},
          {"placement", to_json(row.placement)}};
}

json to_json(const LatencyRow& row) {
  json curve = json::array();
  for (const auto& [percentile, ns] : row.curve) curve.push_back({{"percentile", percentile}, {"ns", ns}});
  return {{"transport", row.transport},
          {"reference", row.reference},
          {"size", row.size},
          {"status", to_json(row.status)},
          {"p50_ns", row.p50_ns},
          {"p99_ns", row.p99_ns},
          {"p99_9_ns", row.p999_ns},
          {"max_ns", row.max_ns},
          {"p50_by_repetition_ns", to_json(row.p50_by_repetition_ns)},
          {"round_trips", row.round_trips},
          {"curve", curve},
          {"pinned", row.pinned},
          {"placement", to_json(row.placement)}};
}

// The rows as they ran; with --placements, one entry per transport and size whose "by_placement"
// holds a row per requested class (a one-process row, such as memcpy, under "any").
template <class Row>
json rows_json(const Config& config, const std::vector<Row>& rows) {
  json out = json::array();
  if (config.placements.empty()) {
    for (const auto& row : rows) out.push_back(to_json(row));
    return out;
  }
  for (const auto& group : group_by_placement(rows)) {
    json by_placement = json::object();
    if (group.unplaced != nullptr) by_placement["any"] = to_json(*group.unplaced);
    for (const auto& [placement, row] : group.by_class) by_placement[placement] = to_json(*row);
    out.push_back({{"transport", group.first().transport},
                   {"reference", group.first().reference},
                   {"size", group.first().size},
                   {"by_placement", by_placement}});
  }
  return out;
}

// Null for a missing figure or ratio.
json figure_json(double value) { return value > 0 ? json(value) : json(nullptr); }
json ratio_json(double over, double under) { return over > 0 && under > 0 ? json(over / under) : json(nullptr); }

json targets_json(const Config& config, const RunResults& results) {
  json out = json::array();
  for (const auto& t : placement_targets(config, results)) {
    json throughput = json::array();
    for (const auto& f : t.throughput) {
      throughput.push_back({{"size", f.size},
                            {"busy_poll_messages_per_second", figure_json(f.busy_poll)},
                            {"spsc_messages_per_second", figure_json(f.spsc)},
                            {"ratio", ratio_json(f.busy_poll, f.spsc)}});
    }
    out.push_back({{"placement", t.placement},
                   {"busy_poll_row", kTargetBusyPollRow},
                   {"spsc_row", kTargetSpscRow},
                   {"cacheline_row", kTargetCachelineRow},
                   {"blocking_row", kTargetBlockingRow},
                   {"busy_poll_over_spsc_throughput", throughput},
                   {"busy_poll_64_p50_ns", figure_json(t.busy_poll_p50_ns)},
                   {"cacheline_p50_ns", figure_json(t.cacheline_p50_ns)},
                   {"busy_poll_over_cacheline_p50", ratio_json(t.busy_poll_p50_ns, t.cacheline_p50_ns)},
                   {"busy_poll_64_p99_9_ns", figure_json(t.busy_poll_p999_ns)},
                   {"blocking_64_p50_ns", figure_json(t.blocking_p50_ns)},
                   {"blocking_over_busy_poll_p50", ratio_json(t.blocking_p50_ns, t.busy_poll_p50_ns)}});
  }
  return out;
}

}  // namespace

void write_json_report(const Config& config, const RunResults& results, const std::filesystem::path& file) {
  json out;
  out["machine"] = {{"cpu_model", results.cpu_model}, {"online_cpus", results.online_cpus}, {"kernel", results.kernel}};
  out["started_at"] = results.started_at;
  out["smoke"] = results.smoke;
  out["config"] = {{"cpus", {config.cpus[0], config.cpus[1]}},
                   {"pinned", results.pinned},
                   {"ring_bytes", config.ring_bytes},
                   {"idle_ring_bytes", config.idle_ring_bytes},
                   {"repetitions", config.repetitions},
                   {"seconds_per_repetition", config.seconds_per_repetition},
                   {"round_trips_per_repetition", config.round_trips},
                   {"idle_seconds", config.idle_seconds},
                   {"queue_dir", config.queue_dir.string()},
                   {"placement_thresholds_ns", config.placement_thresholds_ns},
                   {"placements", config.placements},
                   {"placement_attempts", config.placement_attempts}};
  out["throughput"] = rows_json(config, results.throughput);
  out["latency"] = rows_json(config, results.latency);
  out["idle"] = json::array();
  for (const auto& row : results.idle) {
    out["idle"].push_back({{"transport", row.transport},
                           {"status", to_json(row.status)},
                           {"consumer_cpu_percent", row.consumer_cpu_percent},
                           {"consumer_window_s", row.consumer_window_s},
                           {"producer_cpu_percent", row.producer_cpu_percent},
                           {"producer_window_s", row.producer_window_s}});
  }
  out["disk_write"] = json::array();
  for (const auto& row : results.disk) {
    out["disk_write"].push_back({{"directory", row.directory},
                                 {"bytes", row.bytes},
                                 {"status", to_json(row.status)},
                                 {"megabytes_per_second", to_json(row.megabytes_per_second)}});
  }
  if (results.durable) {
    const DurableResults& d = *results.durable;
    out["durable"] = {{"fill",
                       {{"status", to_json(d.fill_status)},
                        {"queue_bytes", d.fill_queue_bytes},
                        {"message_size", 1024},
                        {"checkpoint_interval_ms", 10},
                        {"messages", d.fill_messages},
                        {"seconds", d.fill_seconds},
                        {"megabytes_per_second", d.fill_megabytes_per_second},
                        {"disk_megabytes_per_second", d.disk_megabytes_per_second},
                        {"ratio_to_disk", d.fill_to_disk},
                        {"ratio_to_disk_rounds", d.fill_to_disk_rounds},
                        {"pinned", d.fill_pinned}}},
                      {"sync_latency",
                       {{"status", to_json(d.sync_status)},
                        {"batch_messages", d.sync_batch},
                        {"message_size", 64},
                        {"syncs", d.syncs},
                        {"p50_ns", d.sync_p50_ns},
                        {"p99_ns", d.sync_p99_ns},
                        {"max_ns", d.sync_max_ns},
                        {"pinned", d.sync_pinned}}},
                      {"throughput_64",
                       {{"durable_row", d.durable_row},
                        {"non_durable_row", d.non_durable_row},
                        {"durable_messages_per_second", d.durable_64_messages_per_second},
                        {"non_durable_messages_per_second", d.non_durable_64_messages_per_second},
                        {"ratio", d.durable_to_non_durable}}}};
    nlohmann::json costs = nlohmann::json::array();
    for (const auto& cost : d.checksum_costs) {
      costs.push_back({{"message_size", cost.size},
                       {"checksummed_row", d.checksummed_row},
                       {"plain_row", d.non_durable_row},
                       {"checksummed_messages_per_second", cost.with},
                       {"plain_messages_per_second", cost.without},
                       {"ratio", cost.ratio}});
    }
    out["durable"]["checksum_cost"] = costs;
  }
  if (!config.placements.empty()) out["targets_by_placement"] = targets_json(config, results);
  out["notes"] = results.notes;
  out["failures"] = results.failures;
  std::ofstream(file) << out.dump(2) << "\n";
}

}  // namespace bench
