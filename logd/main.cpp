// shmq-logd: ships the records of every queue in a spool directory into one rotated log file,
// exactly once across its own crashes. See --help and docs/LOGGING.md.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "files.hpp"
#include "shipper.hpp"
#include "shmq_sample/exit_codes.hpp"
#include "shmq/shmq.hpp"
#include "status.hpp"

namespace {

std::atomic<bool> stop_requested{false};

extern "C" void request_stop(int) {
  stop_requested.store(true, std::memory_order_relaxed);  // relaxed: a lone flag, read by the loop
}

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = request_stop;  // no SA_RESTART: the idle wait returns at once
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);
}

constexpr const char* kFooter =
    "Each record's text becomes one line of --output; nothing is added to it. The shipper adds lines\n"
    "of its own, starting with 'shmq-logd: ', when a process drops records (its queue was full),\n"
    "when a process ends (cleanly or not), and when a queue is set aside.\n"
    "\n"
    "Examples:\n"
    "  shmq-logd --spool /run/app-logs --output /var/log/app.log --max-size 100MB --keep 10 --compress zstd\n"
    "  shmq-logd --spool /run/app-logs --stat\n"
    "\n"
    "Exit status: 0 stopped (SIGTERM or SIGINT after a final sync, or drained with --exit-when-drained);\n"
    "2 an error (named on stderr: a lock held by another shmq-logd, a damaged state file, a failed\n"
    "write or sync); 64 bad arguments. (Stopping on a signal is the normal end of a daemon: 0.)";

int print_status(const std::filesystem::path& spool, bool json) {
  const std::filesystem::path path = shmq::logd::status_path_for(spool);
  const shmq::logd::FileText file = shmq::logd::read_small_file(path);
  if (!file.exists) {
    std::fprintf(stderr, "%s: no status: no shmq-logd has shipped this spool\n", path.c_str());
    return shmq_sample::kExitFailed;
  }
  const shmq::logd::StatusReport report = shmq::logd::parse_status(file.text, path);
  std::fputs(json ? (shmq::logd::status_json(report) + "\n").c_str() : shmq::logd::status_text(report).c_str(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  shmq::logd::ShipperOptions options;
  std::string compress;
  std::uint64_t hold_back_ms = 50;
  std::uint64_t sync_ms = 100;
  std::uint64_t max_age_s = 0;
  bool stat = false;
  bool keep_ended = false;
  CLI::App app{"shmq-logd: ships the records of every queue in a spool directory into one log file"};
  app.footer(kFooter);
  app.add_option("--spool", options.spool, "the spool directory to watch")->required()->check(CLI::ExistingDirectory);
  app.add_option("--output", options.output, "the log file (rotated files: FILE.000001, ...)");
  app.add_option("--max-size", options.max_size, "rotate when the file reaches this many bytes (0: never)");
  app.add_option("--max-age", max_age_s, "rotate a non-empty file after this many seconds (0: never)");
  app.add_option("--keep", options.keep, "rotated files to keep (0: all)");
  app.add_option("--compress", compress, "compress rotated files")->check(CLI::IsMember({"zstd", "none"}));
  app.add_option("--zstd-level", options.zstd_level, "zstd level (1 is fastest)")->check(CLI::Range(1, 19));
  app.add_option("--hold-back", hold_back_ms, "ms a record waits for older records of other processes");
  app.add_option("--sync-interval", sync_ms, "the most ms a line waits for fdatasync");
  app.add_flag("--keep-ended-queues", keep_ended, "do not remove the queue of a process that ended");
  app.add_flag("--exit-when-drained", options.exit_when_drained,
               "exit once every queue is shipped and removed (every process has exited)");
  app.add_flag("--json-stat", options.json_stat,
               "with --output: print the status as a JSON line every second; without: print the status once");
  app.add_flag("--stat", stat, "print the running shipper's status and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? shmq_sample::kExitOk : shmq_sample::kExitUsage;  // --help: 0
  }

  spdlog::set_default_logger(spdlog::stderr_color_mt("shmq-logd"));  // stdout is for --json-stat
  try {
    if (stat || options.output.empty()) {
      if (!stat && !options.json_stat) {
        std::fprintf(stderr, "--output is required (or --stat / --json-stat to see a running shipper)\n");
        return shmq_sample::kExitUsage;
      }
      return print_status(options.spool, options.json_stat);
    }
    options.compress = compress == "zstd";
    options.hold_back = std::chrono::milliseconds(hold_back_ms);
    options.sync_interval = std::chrono::milliseconds(sync_ms);
    options.max_age = std::chrono::seconds(max_age_s);
    options.remove_ended = !keep_ended;
    if (auto lib = spdlog::get(shmq::kLoggerName); lib) lib->set_level(spdlog::level::warn);
    shmq::logger()->set_level(spdlog::level::warn);  // attach/detach of every queue is routine here
    install_stop_handlers();
    shmq::logd::Shipper shipper(options);
    shipper.run(stop_requested);
    return shmq_sample::kExitOk;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return shmq_sample::kExitFailed;
  }
}
