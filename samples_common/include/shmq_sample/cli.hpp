// Command-line plumbing shared by shmq-producer and shmq-consumer: size options, logging levels,
// the command line, the progress line and Ctrl-C.
#pragma once

#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "shmq/error.hpp"
#include "shmq/log.hpp"
#include "shmq_sample/exit_codes.hpp"
#include "shmq_sample/units.hpp"

namespace shmq_sample {

// A CLI11 check for options that take a size.
inline CLI::Validator size_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (parse_size(text)) return {};
        return "'" + text +
               "' is not a size: give bytes, or a number with KiB, MiB, GiB or TiB (binary: 64KiB = 65536)";
      },
      "");
}

// ---- Logging ----

enum class Verbosity { quiet, normal, verbose };

namespace detail {
// Passes on only records below `error`. The library logs each error just before it throws it, and
// the programs print every error they catch: without this filter each error would appear twice.
class BelowErrorSink final : public spdlog::sinks::sink {
 public:
  explicit BelowErrorSink(std::shared_ptr<spdlog::sinks::sink> inner) : inner_(std::move(inner)) {}
  void log(const spdlog::details::log_msg& msg) override {
    if (msg.level < spdlog::level::err) inner_->log(msg);
  }
  void flush() override { inner_->flush(); }
  void set_pattern(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
    inner_->set_formatter(std::move(formatter));
  }

 private:
  std::shared_ptr<spdlog::sinks::sink> inner_;
};
}  // namespace detail

// Sets up two loggers writing to stderr: the program's own (returned) and the library's "shmq"
// logger (lifecycle events: create, attach, detach, peer gone).
//   quiet:   errors only.
//   normal:  the program's info and warnings; the library's warnings.
//   verbose: everything, including the library's lifecycle events and debug details.
inline std::shared_ptr<spdlog::logger> setup_logging(const std::string& program, Verbosity verbosity) {
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  sink->set_pattern("%n: %^%l%$: %v");
  auto own = std::make_shared<spdlog::logger>(program, sink);
  std::shared_ptr<spdlog::sinks::sink> library_sink = sink;
  if (verbosity != Verbosity::verbose) library_sink = std::make_shared<detail::BelowErrorSink>(sink);
  auto library = std::make_shared<spdlog::logger>(shmq::kLoggerName, library_sink);
  switch (verbosity) {
    case Verbosity::quiet:
      own->set_level(spdlog::level::err);
      library->set_level(spdlog::level::off);
      break;
    case Verbosity::normal:
      own->set_level(spdlog::level::info);
      library->set_level(spdlog::level::warn);
      break;
    case Verbosity::verbose:
      own->set_level(spdlog::level::debug);
      library->set_level(spdlog::level::debug);
      break;
  }
  shmq::set_logger(library);
  return own;
}

// What to add to a shmq::Error's message so that a newcomer knows what to do next.
inline std::string hint_for(const shmq::Error& e, bool creating) {
  switch (e.code()) {
    case shmq::ErrorCode::already_exists:
      return creating ? " (--create makes a new queue and never touches an existing file: drop --create to use this "
                        "queue, or remove the file first)"
                      : "";
    case shmq::ErrorCode::io:
      if (e.sys_errno() == ENOENT && !creating) return " (no queue there yet: start shmq-producer with --create first)";
      return "";
    case shmq::ErrorCode::role_taken:
      return " (a queue has one producer and one consumer at a time)";
    default:
      return "";
  }
}

// ---- The command line and main() ----

// The paragraph both programs' --help starts with (after their first line).
inline constexpr const char* kQueueIntro =
    "A shmq queue is a file (by default under /dev/shm) that a producer and a consumer process map\n"
    "into memory and pass messages through, without system calls while both are busy.\n";

// --quiet and --verbose.
inline void add_verbosity_flags(CLI::App& app, bool& quiet, bool& verbose, const std::string& verbose_help) {
  auto* q = app.add_flag("--quiet", quiet, "Print errors only (no progress line, no summary)");
  app.add_flag("-v,--verbose", verbose, verbose_help)->excludes(q);
}

inline Verbosity verbosity(bool quiet, bool verbose) {
  return quiet ? Verbosity::quiet : verbose ? Verbosity::verbose : Verbosity::normal;
}

// Parses the command line, then runs `check` (which may throw a CLI::ParseError). Returns the exit
// code when the program ends here: 0 after --help, kExitUsage after bad arguments.
inline std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv,
                                             const std::function<void()>& check = {}) {
  try {
    app.parse(argc, argv);
    if (check) check();
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  return std::nullopt;
}

// Runs the program's body; an exception becomes one line on stderr and exit code kExitFailed.
template <class Body>
int run_reporting_errors(spdlog::logger& log, bool creating, Body&& body) {
  try {
    return body();
  } catch (const shmq::Error& e) {
    log.error("{}{}", e.what(), hint_for(e, creating));
  } catch (const std::exception& e) {
    log.error("{}", e.what());
  }
  return kExitFailed;
}

// ---- Ctrl-C ----

// The signal that asked the program to stop (SIGINT or SIGTERM), or 0. The programs poll it
// between batches and around every wait (the waits are bounded so that they notice it).
inline volatile std::sig_atomic_t g_stop_signal = 0;

inline void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = [](int signo) { g_stop_signal = signo; };
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: a blocking read of stdin returns EINTR
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

// How long a blocking call waits before looking at g_stop_signal again.
inline constexpr std::chrono::milliseconds kStopCheckInterval{200};

// ---- Progress ----

// A progress line on stderr, redrawn in place at most four times a second, only when stderr is a
// terminal. Call due() every few thousand messages: it reads the clock only then.
class ProgressLine {
 public:
  // The first line appears after a quarter of a second: short runs show none.
  explicit ProgressLine(bool wanted)
      : enabled_(wanted && ::isatty(STDERR_FILENO) == 1), last_(std::chrono::steady_clock::now()) {}
  bool enabled() const noexcept { return enabled_; }

  bool due() {
    if (!enabled_) return false;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(250)) return false;
    last_ = now;
    return true;
  }
  void show(const std::string& text) {
    std::fprintf(stderr, "\r%s\x1b[K", text.c_str());
    std::fflush(stderr);
    shown_ = true;
  }
  void clear() {
    if (shown_) std::fprintf(stderr, "\r\x1b[K");
    shown_ = false;
  }

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace shmq_sample
