// shmq watch PATH [--interval MS] [--count N]: rates, depth and lag, refreshed in place on a
// terminal, one line per interval otherwise. Read-only; exits cleanly on SIGINT or SIGTERM.
//
// Each refresh reads a few words of the header and the first live record (DepthFrom::counters): its
// cost does not grow with the depth, so watching never competes with the peers for the ring's cache
// lines. A damaged snapshot (impossible positions, a bad first record: what stat reports as a
// problem) is shown and ends watch with exit code 1: a monitor must not keep printing numbers that
// mean nothing, and the exit code is what a supervisor sees. Sequence words that cannot be
// subtracted (not damage: stat and verify count from the records) give no depth, and say why.
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <ctime>
#include <iostream>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.hpp"
#include "diagnostics.hpp"
#include "lag_tracker.hpp"
#include "queue_snapshot.hpp"
#include "snapshot_text.hpp"
#include "terminal_width.hpp"
#include "units.hpp"

namespace shmq::tool {

namespace {

// SIGINT and SIGTERM are blocked and taken with sigtimedwait, which is also the interval timer:
// no handler, no flag, no lost signal between the check and the sleep.
class StopSignals {
 public:
  StopSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    ::sigprocmask(SIG_BLOCK, &set_, &old_);
  }
  ~StopSignals() { ::sigprocmask(SIG_SETMASK, &old_, nullptr); }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // Waits `ms`; true when a stop signal arrived.
  bool wait(long ms) const {
    timespec timeout{ms / 1000, (ms % 1000) * 1'000'000};
    for (;;) {
      if (::sigtimedwait(&set_, nullptr, &timeout) >= 0) return true;
      if (errno == EAGAIN) return false;
      if (errno != EINTR) return false;  // EINTR: another signal; wait again (the timeout is approximate then)
    }
  }

 private:
  sigset_t set_{};
  sigset_t old_{};
};

std::string lag_text(const QueueSnapshot& s, const LagTracker& tracker) {
  std::string text = s.depth_messages ? fmt::format("{} messages", *s.depth_messages) : "? messages";
  const std::optional<Lag> lag = tracker.consumer_lag();
  if (!lag || (lag->at_most && *lag->at_most == std::chrono::nanoseconds(0))) return text;
  if (!lag->at_most) {
    // Published before watch's first sample: only a lower bound (none at all on the first refresh).
    if (lag->at_least > std::chrono::nanoseconds(0)) text += ", oldest waiting >= " + format_duration(lag->at_least);
  } else if (lag->at_least == std::chrono::nanoseconds(0)) {
    text += ", oldest waiting < " + format_duration(*lag->at_most);
  } else {
    text += ", oldest waiting " + format_duration(lag->at_least) + " to " + format_duration(*lag->at_most);
  }
  const std::optional<Rates> rates = tracker.rates();
  if (rates && rates->consumed_per_s > 0 && s.depth_messages) {
    const auto drain = std::chrono::duration<double>(static_cast<double>(*s.depth_messages) / rates->consumed_per_s);
    text += ", drains in " + format_duration(std::chrono::duration_cast<std::chrono::nanoseconds>(drain)) +
            " at the current rate";
  }
  return text;
}

std::string rate_text(const std::optional<Rates>& rates, bool producer) {
  if (!rates) return "rates after the next sample";
  return producer ? fmt::format("{}  {}", format_message_rate(rates->published_per_s),
                                format_byte_rate(rates->published_bytes_per_s))
                  : fmt::format("{}  {}", format_message_rate(rates->consumed_per_s),
                                format_byte_rate(rates->consumed_bytes_per_s));
}

// Durable lag: how many published messages an OS crash would lose now, and the checkpoint's age.
std::string durable_lag(const QueueSnapshot& s) {
  if (!s.durable) return describe_durable(s);
  return fmt::format("sequence {}, {} published messages not yet durable, checkpoint {} taken {} ago",
                     s.durable->sequence, s.durable_lag_messages(), s.durable->counter,
                     format_duration(s.checkpoint_age()));
}

const char* liveness(const RoleSnapshot& r) {
  if (r.attached) return "attached";
  return r.attach_count == 0 ? "never-attached" : "not-attached";
}

// The in-place view: a frame of lines, redrawn over the previous one.
std::string frame(const QueueSnapshot& s, const LagTracker& tracker, long interval_ms) {
  const std::optional<Rates> rates = tracker.rates();
  std::ostringstream out;
  out << fmt::format("shmq watch {}  every {} ms  {}  (Ctrl-C to quit)\n", s.path.string(), interval_ms,
                     format_utc(s.taken_unix_ns))
      << fmt::format("producer   {:<15} {:<28} published {}\n", liveness(s.producer), rate_text(rates, true),
                     s.published)
      << fmt::format("consumer   {:<15} {:<28} consumed  {}\n", liveness(s.consumer), rate_text(rates, false),
                     s.consumed)
      << fmt::format("depth      {}\n", describe_depth(s, /*with_note=*/!s.depth_messages))
      << fmt::format("lag        {}\n", lag_text(s, tracker)) << fmt::format("durable    {}\n", durable_lag(s))
      << fmt::format("waiting    producer for space: {}, consumer for data: {}\n", s.producer.waiting ? "yes" : "no",
                     s.consumer.waiting ? "yes" : "no");
  if (s.problem) out << fmt::format("problem    {}\n", *s.problem);
  return out.str();
}

// A field value with spaces, last on the line: in double quotes (none inside).
std::string quoted(std::string text) {
  std::replace(text.begin(), text.end(), '"', '\'');
  return '"' + text + '"';
}

// The line-per-interval form, for pipes and logs: key=value fields.
std::string line(const QueueSnapshot& s, const LagTracker& tracker) {
  const std::optional<Rates> rates = tracker.rates();
  const std::optional<Lag> lag = tracker.consumer_lag();
  std::string text = fmt::format("{} published={} consumed={} depth_messages={} depth_bytes={} fill={:.4f}",
                                 format_utc(s.taken_unix_ns), s.published, s.consumed,
                                 s.depth_messages ? std::to_string(*s.depth_messages) : "?", s.depth_bytes, s.fill());
  if (rates) {
    text += fmt::format(" in_msgs_per_s={:.0f} in_bytes_per_s={:.0f} out_msgs_per_s={:.0f} out_bytes_per_s={:.0f}",
                        rates->published_per_s, rates->published_bytes_per_s, rates->consumed_per_s,
                        rates->consumed_bytes_per_s);
  }
  if (lag) {
    text += fmt::format(
        " lag_min_s={:.3f} lag_max_s={}", std::chrono::duration<double>(lag->at_least).count(),
        lag->at_most ? fmt::format("{:.3f}", std::chrono::duration<double>(*lag->at_most).count()) : std::string("?"));
  }
  if (s.durable) {
    text += fmt::format(" durable={} durable_lag_messages={} checkpoint_age_s={:.3f}", s.durable->sequence,
                        s.durable_lag_messages(), std::chrono::duration<double>(s.checkpoint_age()).count());
  } else {
    text += " durable=n/a";
  }
  text += fmt::format(" producer={} consumer={}", liveness(s.producer), liveness(s.consumer));
  if (s.problem) {
    text += " problem=" + quoted(*s.problem);
  } else if (!s.depth_messages) {
    text += " depth_note=" + quoted(s.depth_note);
  }
  return text + '\n';
}

// The watched path still names the file we mapped (it was not removed or replaced).
bool still_in_place(const detail::QueueFile& file) {
  struct stat ours {
  }, now{};
  return ::fstat(file.fd(), &ours) == 0 && ::lstat(file.path().c_str(), &now) == 0 && ours.st_dev == now.st_dev &&
         ours.st_ino == now.st_ino;
}

}  // namespace

Command add_watch(CLI::App& app) {
  struct Options {
    QueueArgs queue;
    long interval_ms = 1000;
    long count = 0;
  };
  auto o = std::make_shared<Options>();
  CLI::App* sub =
      app.add_subcommand("watch", "Live view of a queue: rates, depth, consumer lag (read-only; Ctrl-C to quit)");
  add_queue_args(*sub, o->queue);
  sub->add_option("--interval", o->interval_ms, "Milliseconds between refreshes")
      ->capture_default_str()
      ->check(CLI::Range(10L, 3'600'000L));
  sub->add_option("--count", o->count, "Stop after this many refreshes (0: until Ctrl-C)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sub->footer(
      "On a terminal the view is redrawn in place; otherwise one line of key=value fields per interval. "
      "Depth and rates come from the sequence words of the role lines (constant cost per refresh). Each refresh "
      "checks the positions and the first live record: on damage watch prints it (a problem line, or a "
      "problem= field) and exits 1; `shmq verify` checks every record. The queue "
      "stores no timestamps: how long the oldest unconsumed message has waited is bounded from watch's own "
      "samples, to within one interval. Durable queues also show the durable lag: published messages not yet "
      "covered by a checkpoint, and the checkpoint's age.");

  return {sub, [o] {
            const StopSignals signals;  // before the first output: a signal sent after it is never lost
            const detail::QueueFile file = open_read_only(o->queue.path, o->queue.any_owner);
            const bool tty = ::isatty(STDOUT_FILENO) == 1;
            LagTracker tracker;
            std::size_t last_lines = 0;
            for (long n = 1;; ++n) {
              const QueueSnapshot s = take_snapshot(file, DepthFrom::counters);
              tracker.add({s.taken, s.published, s.consumed, s.write, s.read});
              if (tty) {
                const std::string text =
                    fit_to_width(frame(s, tracker, o->interval_ms), terminal_columns(STDOUT_FILENO));
                // Every line fits in one row, so the frame took as many rows as it has lines.
                if (last_lines > 0) std::cout << fmt::format("\x1b[{}F\x1b[J", last_lines);  // back to the frame's top
                std::cout << text;
                last_lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
              } else {
                std::cout << line(s, tracker);
              }
              std::cout.flush();
              if (s.problem) {
                log().error("{}: damaged: {}", s.path.string(), *s.problem);
                return kExitDamaged;
              }
              if (!still_in_place(file)) {
                log().error("{}: the queue file was removed or replaced; stopping", file.path().string());
                return kExitFailed;
              }
              if (o->count > 0 && n >= o->count) break;
              if (signals.wait(o->interval_ms)) break;
            }
            return kExitOk;
          }};
}

}  // namespace shmq::tool
