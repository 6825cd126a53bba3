// shmq-producer: sends generated messages (or the lines of standard input) into a shmq queue.
// See --help, and shmq-consumer for the other end.
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "shmq/shmq.hpp"
#include "shmq_sample/cli.hpp"
#include "shmq_sample/payload.hpp"

namespace {

using namespace shmq_sample;
using Clock = std::chrono::steady_clock;

constexpr const char* kDescription =
    "By default it sends --count generated messages of --size bytes. Each carries its sequence\n"
    "number and a checksum, so that `shmq-consumer --verify` can check that nothing was lost,\n"
    "duplicated or damaged. The payload is printable text, one line per message.\n"
    "\n"
    "The queue keeps counting across runs: started again on the same queue (after it finished,\n"
    "or after it was killed), the producer continues from the queue's next sequence number until\n"
    "the queue has received --count messages in all.\n"
    "\n"
    "With --stdin it instead sends each line of standard input (without its newline) as one\n"
    "message.\n"
    "\n"
    "When the queue is full the producer waits for the consumer. If the consumer leaves (or dies)\n"
    "while the queue is full, the producer says so once and waits for the next consumer, which\n"
    "resumes where the last one released; with --exit-on-consumer-gone it exits with status 3.\n";

constexpr const char* kFooter =
    "Examples:\n"
    "  shmq create /dev/shm/demo --capacity 4MiB     # first, so the two may start in any order\n"
    "  shmq-producer --queue /dev/shm/demo --count 1000000 --size 64 &\n"
    "  shmq-consumer --queue /dev/shm/demo --verify\n"
    "\n"
    "  printf 'hello\\nworld\\n' | shmq-producer --queue /dev/shm/chat --create --stdin\n"
    "  shmq-consumer --queue /dev/shm/chat --stdout\n"
    "\n";

struct Options {
  std::filesystem::path queue;
  std::uint64_t count = 0;
  std::string size_text = "64";
  std::uint64_t size = 0;
  bool create = false;
  std::string capacity_text = "1MiB";
  std::uint64_t capacity = 0;
  bool from_stdin = false;
  bool exit_on_consumer_gone = false;
  bool quiet = false;
  bool verbose = false;
};

// Messages between two publications: each publication is one release store that makes a whole
// batch visible to the consumer (and wakes it if it is parked).
constexpr std::uint64_t kPublishBatch = 64;
// The progress line reads the clock once per this many messages.
constexpr std::uint64_t kProgressStride = 4096;

class Run {
 public:
  Run(const Options& options, spdlog::logger& log) : options_(options), log_(log), progress_(!options.quiet) {}

  int operator()() {
    // Checked before attaching, so a bad --size leaves an existing queue file untouched (with
    // --create, main() has checked it against --capacity).
    if (!options_.create && !options_.from_stdin) {
      const std::size_t largest = shmq::inspect_queue(options_.queue).max_message_size;
      if (options_.size > largest) {
        log_.error("--size {} is larger than the largest message queue {} takes ({} bytes)", options_.size,
                   options_.queue.string(), largest);
        return kExitUsage;
      }
    }
    shmq::Producer producer = open();
    first_sequence_ = producer.next_sequence();
    started_ = Clock::now();
    const int rc = options_.from_stdin ? send_stdin(producer) : send_generated(producer);
    producer.publish();
    progress_.clear();
    summarize(producer.next_sequence(), rc);
    return rc;
  }

 private:
  shmq::Producer open() {
    if (!options_.create) return shmq::Producer::open(options_.queue);
    shmq::CreateOptions create;
    create.capacity = options_.capacity;
    return shmq::Producer::create(options_.queue, create);
  }

  // Sends `message` (published now or with the next publish()), waiting for the consumer when the
  // queue is full. Returns the exit code that ends the run instead when the wait cannot succeed.
  std::optional<int> send(shmq::Producer& producer, std::span<const std::byte> message, shmq::Publish publish) {
    shmq::Result<std::uint64_t> sent = producer.try_send(message, publish);  // the fast path reads no clock
    if (sent) [[likely]] {
      return std::nullopt;
    }
    while (!sent) {
      if (const std::optional<int> stop = stopped(producer, sent.status())) return stop;
      sent = producer.send_for(message, kStopCheckInterval);  // publishes what is staged before it waits
    }
    room_found(producer);
    return std::nullopt;
  }

  // Whether a failed wait (with `status`) ends the run, and with which exit code.
  std::optional<int> stopped(shmq::Producer& producer, shmq::Status status) {
    if (g_stop_signal != 0) return kExitInterrupted + g_stop_signal;
    if (status != shmq::Status::peer_gone) return std::nullopt;  // would_block or timed_out: wait again
    progress_.clear();
    if (options_.exit_on_consumer_gone) {
      log_.error(
          "the consumer of {} is gone and the queue is full: stopping (start a consumer, then run this "
          "again to continue)",
          options_.queue.string());
      return kExitPeerGone;
    }
    log_.warn("the consumer of {} is gone and the queue is full: waiting for the next consumer to attach",
              options_.queue.string());
    shmq::WaitOptions follow = wait_;
    follow.return_on_peer_gone = false;  // until the next consumer has made room
    producer.set_wait_options(follow);
    waiting_for_consumer_ = true;
    return std::nullopt;
  }

  // After a wait that succeeded: a consumer that leaves from now on is a new departure.
  void room_found(shmq::Producer& producer) {
    if (waiting_for_consumer_) {
      waiting_for_consumer_ = false;
      producer.set_wait_options(wait_);
    }
  }

  int send_generated(shmq::Producer& producer) {
    const std::uint64_t total = options_.count;
    if (producer.next_sequence() >= total) {
      log_.info("{} has received {} messages already (next sequence {}): nothing to send", options_.queue.string(),
                producer.next_sequence(), producer.next_sequence());
      return kExitOk;
    }
    if (producer.next_sequence() > 0) {
      log_.info("continuing at sequence {} (the queue's next)", producer.next_sequence());
    }
    // Each payload is the template with its two numbers patched in, copied into the ring by
    // try_send; the bytes the checksum covers never leave this process's cache.
    PayloadTemplate payloads(static_cast<std::size_t>(options_.size));
    std::uint64_t next = producer.next_sequence();
    std::uint64_t batches = 0;
    while (next < total) {
      const std::uint64_t batch_end = std::min(total, next + kPublishBatch);
      for (; next < batch_end; ++next) {
        // `next` is the queue's next sequence number: this process is its only producer.
        if (const std::optional<int> stop = send(producer, payloads.payload(next), shmq::Publish::later)) return *stop;
      }
      producer.publish();
      if (g_stop_signal != 0) return kExitInterrupted + g_stop_signal;
      if (++batches % (kProgressStride / kPublishBatch) == 0 && progress_.due()) show_progress(next, total);
    }
    return kExitOk;
  }

  int send_stdin(shmq::Producer& producer) {
    struct LineBuffer {
      char* data = nullptr;  // getline(3) allocates and grows it
      std::size_t capacity = 0;
      ~LineBuffer() { std::free(data); }
    } buffer;
    std::uint64_t lines = 0;
    for (;;) {
      errno = 0;
      const ssize_t n = ::getline(&buffer.data, &buffer.capacity, stdin);
      if (n < 0) {
        if (g_stop_signal != 0) return kExitInterrupted + g_stop_signal;
        if (std::ferror(stdin) != 0) {
          log_.error("cannot read standard input: {}", std::strerror(errno != 0 ? errno : EIO));
          return kExitFailed;
        }
        return kExitOk;  // end of input
      }
      std::string_view text(buffer.data, static_cast<std::size_t>(n));
      if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
      if (text.size() > producer.max_message_size()) {
        log_.error("line {} of standard input has {} bytes; queue {} takes messages of at most {} bytes", lines + 1,
                   text.size(), options_.queue.string(), producer.max_message_size());
        return kExitFailed;
      }
      if (const std::optional<int> stop = send(producer, std::as_bytes(std::span(text)), shmq::Publish::now)) {
        return *stop;
      }
      bytes_ += text.size();
      ++lines;
      if (lines % kProgressStride == 0 && progress_.due()) show_progress(producer.next_sequence(), 0);
    }
  }

  void show_progress(std::uint64_t next, std::uint64_t total) {
    const double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    const double sent = static_cast<double>(next - first_sequence_);
    std::string text = "shmq-producer: " + std::to_string(next - first_sequence_) + " messages sent";
    if (total > 0) {
      text += " (queue at " + std::to_string(next) + " of " + std::to_string(total) + ", " +
              std::to_string(next * 100 / total) + "%)";
    }
    if (seconds > 0) text += ", " + format_count(sent / seconds) + " msg/s";
    progress_.show(text);
  }

  void summarize(std::uint64_t next, int rc) {
    const std::uint64_t sent = next - first_sequence_;
    if (options_.quiet || (sent == 0 && rc == kExitOk && !options_.from_stdin)) return;
    if (!options_.from_stdin) bytes_ = sent * options_.size;
    const double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    std::string range =
        sent == 0 ? std::string("none") : std::to_string(first_sequence_) + ".." + std::to_string(next - 1);
    std::fprintf(stderr, "shmq-producer: sent %llu messages (sequence %s), %llu bytes in %.3f s",
                 static_cast<unsigned long long>(sent), range.c_str(), static_cast<unsigned long long>(bytes_),
                 seconds);
    if (seconds > 0 && sent > 0) {
      std::fprintf(stderr, ": %s msg/s, %.1f MB/s", format_count(static_cast<double>(sent) / seconds).c_str(),
                   static_cast<double>(bytes_) / 1e6 / seconds);
    }
    std::fprintf(stderr, "%s\n", rc >= kExitInterrupted ? " (interrupted)" : "");
  }

  const Options& options_;
  spdlog::logger& log_;
  ProgressLine progress_;
  const shmq::WaitOptions wait_ = shmq::OpenOptions{}.wait;  // what the producer is opened with
  bool waiting_for_consumer_ = false;  // the consumer left while the queue was full; waiting for the next
  Clock::time_point started_{};
  std::uint64_t first_sequence_ = 0;
  std::uint64_t bytes_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{std::string("Sends messages into a shmq queue.\n\n") + kQueueIntro + "\n" + kDescription,
               "shmq-producer"};
  app.footer(std::string(kFooter) + kExitCodesHelp);
  app.get_formatter()->column_width(28);
  app.add_option("--queue", options.queue, "Queue file (e.g. /dev/shm/demo)")->required()->type_name("PATH");
  auto* count =
      app.add_option("-n,--count", options.count,
                     "Send generated messages until the queue has received N in all (sequence numbers 0..N-1)")
          ->type_name("N");
  app.add_option("-s,--size", options.size_text, "Bytes per generated message, at least 33 (suffixes KiB, MiB)")
      ->check(size_validator())
      ->type_name("BYTES")
      ->capture_default_str();
  auto* create =
      app.add_flag("-c,--create", options.create, "Create the queue file first (refuses to touch an existing file)");
  app.add_option("--capacity", options.capacity_text,
                 "With --create: ring size in bytes, a power of two from 4KiB (suffixes KiB, MiB, GiB)")
      ->check(size_validator())
      ->type_name("BYTES")
      ->capture_default_str()
      ->needs(create);
  auto* from_stdin = app.add_flag("--stdin", options.from_stdin,
                                  "Send each line of standard input as one message instead of generated ones");
  count->excludes(from_stdin);
  app.add_flag("--exit-on-consumer-gone", options.exit_on_consumer_gone,
               "Exit with status 3 when the consumer leaves while the queue is full, instead of waiting for the next");
  add_verbosity_flags(app, options.quiet, options.verbose, "Also log the queue's lifecycle (create, attach, detach)");
  if (const std::optional<int> rc = parse_command_line(app, argc, argv, [&] {
        if (!options.from_stdin && count->count() == 0) throw CLI::RequiredError("--count (or --stdin)");
      })) {
    return *rc;
  }
  options.size = *parse_size(options.size_text);
  options.capacity = *parse_size(options.capacity_text);

  const auto log = setup_logging("shmq-producer", verbosity(options.quiet, options.verbose));
  // Arguments that can be checked without the queue are checked before it is touched.
  if (!options.from_stdin && options.size < kMinPayloadSize) {
    log->error(
        "--size {} is too small: a generated message needs at least {} bytes (its sequence number and "
        "checksum)",
        options.size, kMinPayloadSize);
    return kExitUsage;
  }
  if (options.create && !options.from_stdin && options.size > shmq::max_message_size(options.capacity)) {
    log->error("--size {} does not fit a queue of --capacity {} (the largest message is the capacity minus 40 bytes)",
               options.size, options.capacity);
    return kExitUsage;
  }

  install_stop_handlers();
  return run_reporting_errors(*log, options.create, [&] { return Run(options, *log)(); });
}
