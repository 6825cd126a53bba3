// shmq-bench: shmq and its peers measured side by side, in two separate processes per run.
// See bench/README.md for what each figure means; `shmq-bench --help` for the options.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <shmq/log.hpp>
#include <spdlog/spdlog.h>

#include "machine_info.hpp"
#include "placement.hpp"
#include "placement_search.hpp"
#include "report/reports.hpp"
#include "sequence_check.hpp"
#include "suites.hpp"
#include "transports/transport_factories.hpp"

namespace bench {

namespace {

bool wanted(const std::vector<std::string>& filters, const std::string& name) {
  if (filters.empty()) return true;
  return std::any_of(filters.begin(), filters.end(),
                     [&](const std::string& f) { return name.find(f) != std::string::npos; });
}

bool suite_on(const Config& config, const char* suite) {
  return std::find(config.suites.begin(), config.suites.end(), suite) != config.suites.end();
}

class Runner {
 public:
  Runner(const Config& config, RunResults& results) : config_(config), results_(results) {}

  Placement probe_placement(bool before, Placement placement) {
    const LatencyRow probe = measure_cacheline_ping_pong(config_, config_.placement_round_trips, 1);
    (before ? placement.before_ns : placement.after_ns) = probe.status.state == RowState::ok ? probe.p50_ns : 0;
    return placement;
  }

  // Prints a row's progress line and keeps the run's pinning flag and failures.
  void account(const RowStatus& status, bool pinned, const std::string& what) {
    if (!pinned) results_.pinned = false;
    if (status.state == RowState::failed) results_.failures.push_back(what + ": " + status.reason);
    const std::string outcome = status.state == RowState::ok            ? "ok"
                                : status.state == RowState::unavailable ? "unavailable: " + status.reason
                                : status.state == RowState::not_reached ? status.reason
                                                                        : "FAILED: " + status.reason;
    std::fprintf(stderr, "%-64s %s\n", what.c_str(), outcome.c_str());
  }

  void keep_note(const Transport& transport) {
    const std::string note = transport.note();
    if (note.empty()) return;
    const std::string line = transport.name() + ": " + note;
    if (std::find(results_.notes.begin(), results_.notes.end(), line) == results_.notes.end())
      results_.notes.push_back(line);
  }

  template <class Measure>
  auto with_placement(Measure measure) {
    const Placement before = probe_placement(true, {});
    auto row = measure();
    row.placement = probe_placement(false, before);
    row.placement.class_name = placement_class_of(config_, row.placement);
    return row;
  }

  // A row once, wherever it runs; with --placements, once per requested placement class.
  template <class Measure>
  auto measured_rows(Measure measure) {
    using Row = decltype(measure());
    if (config_.placements.empty()) return std::vector<Row>{with_placement(measure)};
    return measure_in_placements<Row>(config_, [&] { return with_placement(measure); });
  }

  // The progress line's name of a row: with --placements, its class too.
  std::string label(const std::string& what, const Placement& placement) const {
    return config_.placements.empty() ? what : what + " [" + placement.class_name + "]";
  }

  void run(std::vector<std::unique_ptr<Transport>>& transports) {
    if (suite_on(config_, "reference")) run_references();
    if (suite_on(config_, "throughput")) {
      for (std::size_t size : config_.throughput_sizes) {
        for (auto& t : transports) {
          for (auto& row : measured_rows([&] { return measure_throughput(config_, *t, size); })) {
            account(
                row.status, row.pinned,
                label("throughput " + t->name() + " " + std::to_string(size) + " B", row.placement) + ": " +
                    (row.status.state == RowState::ok ? format_count(row.messages_per_second.median) + " msg/s" : ""));
            results_.throughput.push_back(std::move(row));
          }
          keep_note(*t);
        }
      }
    }
    if (suite_on(config_, "latency")) {
      for (std::size_t size : config_.latency_sizes) {
        for (auto& t : transports) {
          if (t->throughput_only()) continue;
          for (auto& row : measured_rows([&] { return measure_latency(config_, *t, size); })) {
            account(row.status, row.pinned,
                    label("latency " + t->name() + " " + std::to_string(size) + " B", row.placement) + ": " +
                        (row.status.state == RowState::ok ? "p50 " + format_count(row.p50_ns) + " ns" : ""));
            results_.latency.push_back(std::move(row));
          }
          keep_note(*t);
        }
      }
    }
    if (suite_on(config_, "idle")) {
      for (auto& t : transports) {
        if (t->waiting() != Waiting::blocking || t->throughput_only()) continue;
        auto row = measure_idle(config_, *t);
        account(row.status, true, "idle " + t->name());
        results_.idle.push_back(std::move(row));
      }
    }
    if (suite_on(config_, "durable")) run_durable();
  }

 private:
  void run_references() {
    for (std::size_t size : config_.throughput_sizes) {
      auto row = measure_memcpy(config_, size);
      account(row.status, true, "throughput memcpy " + std::to_string(size) + " B");
      results_.throughput.push_back(std::move(row));
    }
    reference_latency("cache-line ping-pong",
                      [&] { return measure_cacheline_ping_pong(config_, config_.round_trips, config_.repetitions); });
    reference_latency("index + data ping-pong", [&] {
      return measure_index_and_data_ping_pong(config_, config_.round_trips, config_.repetitions);
    });
    reference_latency("futex ping-pong", [&] { return measure_futex_ping_pong(config_); });
    auto disk = measure_disk_write(config_);
    account(disk.status, true, "disk write " + disk.directory);
    results_.disk.push_back(std::move(disk));
  }

  template <class Measure>
  void reference_latency(const std::string& name, Measure measure) {
    for (auto& row : measured_rows(measure)) {
      account(row.status, row.pinned,
              label("latency " + name, row.placement) + ": " +
                  (row.status.state == RowState::ok ? "p50 " + format_count(row.p50_ns) + " ns" : ""));
      results_.latency.push_back(std::move(row));
    }
  }

  // After the throughput rows, whose 64-byte durable and busy-poll figures it compares. It takes its
  // own disk references, alternated with the fills.
  void run_durable() {
    DurableResults durable = measure_durable(config_, results_.throughput);
    char ratio[32];
    std::snprintf(ratio, sizeof ratio, "%.2f", durable.fill_to_disk);
    account(durable.fill_status, durable.fill_pinned,
            "durable fill " + format_count(static_cast<double>(durable.fill_queue_bytes)) +
                "B, 1024 B, 10 ms checkpoints, median of " + std::to_string(durable.fill_to_disk_rounds.size()) + ": " +
                (durable.fill_status.state == RowState::ok
                     ? format_count(durable.fill_megabytes_per_second) + " MB/s, " + ratio + "x disk"
                     : ""));
    account(durable.sync_status, durable.sync_pinned,
            "durable sync() after " + std::to_string(durable.sync_batch) + " x 64 B: " +
                (durable.sync_status.state == RowState::ok ? "p50 " + format_count(durable.sync_p50_ns) + " ns, p99 " +
                                                                 format_count(durable.sync_p99_ns) + " ns"
                                                           : ""));
    results_.durable = std::move(durable);
  }

  const Config& config_;
  RunResults& results_;
};

bool cpus_available(const Config& config) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return false;
  return config.cpus[0] != config.cpus[1] && CPU_ISSET(config.cpus[0], &set) && CPU_ISSET(config.cpus[1], &set);
}

}  // namespace

int main(int argc, char** argv) {
  Config config;
  // --smoke changes the defaults; explicit options given with it still win.
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--smoke") config.apply_smoke_defaults(), config.smoke = true;
  }
  CLI::App app{"shmq-bench: shmq and its peers, two processes per run, side by side"};
  app.add_flag("--smoke", config.smoke, "tiny counts, a few seconds: checks that every row still runs");
  app.add_option("--results", config.results_dir, "directory for results (a run-DATE folder is made inside)");
  app.add_option("--transports", config.transports, "only transports whose name contains one of these")->delimiter(',');
  app.add_option("--suites", config.suites, "throughput,latency,idle,reference,durable")->delimiter(',');
  app.add_option("--sizes", config.throughput_sizes, "throughput payload sizes in bytes (>= 8)")->delimiter(',');
  app.add_option("--latency-sizes", config.latency_sizes, "round-trip payload sizes in bytes (>= 8)")->delimiter(',');
  app.add_option("--repetitions", config.repetitions, "measured repetitions (median, min, max)")
      ->check(CLI::Range(1, 63));
  app.add_option("--seconds-per-repetition", config.seconds_per_repetition, "throughput repetition length");
  app.add_option("--round-trips", config.round_trips, "round trips per latency repetition");
  app.add_option("--idle-seconds", config.idle_seconds, "how long a process stays blocked in the idle test");
  app.add_option("--ring-bytes", config.ring_bytes, "buffering given to every transport");
  app.add_option("--disk-dir", config.disk_dir,
                 "directory of the sequential-write reference and of the durable queues");
  app.add_option("--queue-dir", config.queue_dir, "directory of the shmq queue files");
  app.add_option("--disk-bytes", config.disk_bytes, "bytes written by the sequential-write reference");
  app.add_option("--durable-rounds", config.durable_rounds,
                 "durable suite: disk reference and fill alternated this many times; the median ratio is reported")
      ->check(CLI::Range(1, 15));
  app.add_option("--durable-fill-bytes", config.durable_fill_bytes,
                 "durable suite: size of the queue a lone producer fills (1024-byte messages)");
  app.add_option("--sync-rounds", config.sync_rounds,
                 "durable suite: sync() calls timed, each after a batch of 64-byte messages");
  app.add_option("--producer-cpu", config.cpus[0], "CPU of the producer / initiator");
  app.add_option("--consumer-cpu", config.cpus[1], "CPU of the consumer / echo");
  app.add_option("--drop-message", config.drop_message,
                 "self-test: the throughput producer skips this sequence number (the run must fail)");
  app.add_option("--placements", config.placements,
                 "measure every two-process row once in each of these placement classes (near,mid,far), retrying "
                 "it until the cache-line probes before and after it both fall in the class; default: once, "
                 "wherever it runs")
      ->delimiter(',')
      ->check(CLI::IsMember({"near", "mid", "far"}));
  app.add_option("--placement-thresholds", config.placement_thresholds_ns,
                 "NEAR,FAR: a cache-line round-trip p50 below NEAR ns is near, above FAR ns far, between mid")
      ->delimiter(',')
      ->expected(2)
      ->capture_default_str();
  app.add_option("--placement-attempts", config.placement_attempts,
                 "with --placements: tries per row; a class not reached in as many is reported, not a failure")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.footer(
      "Placement: the VM moves its vCPUs on the host, which changes cross-core figures 2-5x. A cache-line "
      "ping-pong runs before and after every row; rows compare only within one placement class (bench/README.md).");
  bool list = false;
  app.add_flag("--list", list, "list the transports and exit");
  CLI11_PARSE(app, argc, argv);
  if (config.placement_thresholds_ns.size() != 2 || !(config.placement_thresholds_ns[0] > 0) ||
      !(config.placement_thresholds_ns[0] <= config.placement_thresholds_ns[1])) {
    std::fprintf(stderr, "--placement-thresholds takes NEAR,FAR in ns with 0 < NEAR <= FAR\n");
    return 2;
  }
  std::vector<std::string> classes;  // requested classes, each once, in near, mid, far order
  for (const char* name : kPlacementClasses) {
    if (std::find(config.placements.begin(), config.placements.end(), name) != config.placements.end())
      classes.push_back(name);
  }
  config.placements = classes;
  shmq::logger()->set_level(spdlog::level::warn);  // attach/detach lines for every run drown the tables
  for (const auto* sizes : {&config.throughput_sizes, &config.latency_sizes}) {
    if (std::any_of(sizes->begin(), sizes->end(), [](std::size_t s) { return s < kMinMessageSize; })) {
      std::fprintf(stderr, "message sizes must be at least %zu bytes (the sequence number)\n", kMinMessageSize);
      return 2;
    }
  }

  const std::string run_name = "run-" + local_time_text("%Y%m%d-%H%M%S");
  const auto run_dir = config.results_dir / run_name;
  Config run_config = config;
  run_config.results_dir = run_dir;  // iox-roudi's config and log go there too

  auto transports = make_all_transports(run_config);
  if (list) {
    for (const auto& t : transports) std::printf("%s\n", t->name().c_str());
    return 0;
  }
  std::filesystem::create_directories(run_dir);
  std::erase_if(transports, [&](const auto& t) { return !wanted(config.transports, t->name()); });

  RunResults results;
  results.cpu_model = cpu_model();
  results.kernel = kernel_release();
  results.online_cpus = online_cpus();
  results.started_at = local_time_text("%Y-%m-%d %H:%M:%S %z");
  results.smoke = config.smoke;
  if (!cpus_available(config)) {
    std::fprintf(stderr, "note: CPUs %d and %d are not both available; runs will be unpinned\n", config.cpus[0],
                 config.cpus[1]);
  }

  Runner(run_config, results).run(transports);
  transports.clear();  // stops iox-roudi

  const std::string markdown = markdown_report(config, results);
  std::ofstream(run_dir / "results.md") << markdown;
  write_json_report(config, results, run_dir / "results.json");
  write_plot_data(results, run_dir);
  std::error_code ignored;
  std::filesystem::remove(config.results_dir / "latest", ignored);
  std::filesystem::create_directory_symlink(run_name, config.results_dir / "latest", ignored);
  std::cout << markdown << "Results: " << run_dir.string() << "\n";
  return results.failures.empty() ? 0 : 1;
}

}  // namespace bench

int main(int argc, char** argv) { return bench::main(argc, argv); }
