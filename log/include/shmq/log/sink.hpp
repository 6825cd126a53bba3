// An spdlog sink that writes each record into this process's own shmq queue in a spool
// directory, from where shmq-logd ships it to the log files. Crash-safe: once the spdlog call
// returns, the record is in a shared mapping, so `kill -9`, a segfault or the OOM killer of the
// application loses nothing (the machine losing power does, unless the spool is durable).
//
//   auto log = shmq::log::spool_logger_mt("app", {.spool = "/run/app-logs"});
//   log->info("order {} filled at {}", id, price);
//
// One queue per process: `<program>.<pid>.<start-time-ns>.q`, created exclusively at
// construction, plus its drop counter `<queue>.drops` (drop_counter.hpp). Each record carries the
// wall-clock time (ns), level, logger name, thread id and the line formatted by the sink's
// formatter without its newline (record.hpp; docs/LOGGING.md).
//
// When the queue is full (shmq-logd is down or slow) the policy decides:
//   - FullPolicy::drop: the record is dropped at once;
//   - FullPolicy::block: the call waits up to `block_bound` for room, then drops. After a wait
//     that ran out, later calls drop at once until a record fits again, so a dead shipper costs
//     the application one bound, not one per line.
// Every dropped record is counted in the drop counter file; shmq-logd writes how many and when.
//
// Durable spool (`durable = true`, a spool on a real file system): records also survive power
// loss up to the queue's last checkpoint (`checkpoints`), and logger->flush() returns once every
// record logged before it is durable.
//
// Threads: spool_sink_mt takes spdlog's sink mutex around formatting and publishing (one queue,
// one producer; docs/LOGGING.md says why this beats a queue per thread on few cores).
//
// fork(): a child that logs through an inherited sink gets a queue of its own on its first record.
//
// When the sink is destroyed it publishes a close record (shmq-logd then reports a clean end)
// and detaches; the queue stays in the spool until shmq-logd has shipped and removed it.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include <spdlog/details/null_mutex.h>
#include <spdlog/details/synchronous_factory.h>
#include <spdlog/sinks/base_sink.h>

#include "shmq/log/record.hpp"
#include "shmq/options.hpp"

namespace shmq::log {

enum class FullPolicy { block, drop };

struct SinkOptions {
  std::filesystem::path spool;                      // the spool directory; it must exist
  std::string program;                              // the queue name's first part (default: this program's name)
  std::uint64_t capacity = std::uint64_t{4} << 20;  // the queue's ring bytes (a power of two)
  FullPolicy when_full = FullPolicy::block;
  std::chrono::nanoseconds block_bound = std::chrono::milliseconds(10);
  bool durable = false;  // a durable queue: see above
  CheckpointPolicy checkpoints{.bytes = 0, .interval = std::chrono::milliseconds(100)};
};

// The part of the sink that is not a template: the queue, the drop counter, the policy.
// Not thread-safe (the sink's mutex serialises it).
class SpoolWriter {
 public:
  // Creates the queue and its drop counter in options.spool. Throws shmq::Error.
  explicit SpoolWriter(const SinkOptions& options);
  ~SpoolWriter();  // publishes a close record (waiting up to block_bound for room), detaches
  SpoolWriter(const SpoolWriter&) = delete;
  SpoolWriter& operator=(const SpoolWriter&) = delete;

  // Publishes `record` (its text cut to the queue's largest message if need be), or counts it
  // as dropped according to the policy. Returns true when it was published.
  bool write(const Record& record);
  // Durable spool: returns once every record written before is durable. Otherwise nothing to do.
  void flush();

  const std::filesystem::path& queue_path() const noexcept;
  std::uint64_t dropped() const noexcept;  // records dropped by this process

 private:
  struct State;
  std::unique_ptr<State> state_;
};

template <class Mutex>
class spool_sink final : public spdlog::sinks::base_sink<Mutex> {
 public:
  explicit spool_sink(const SinkOptions& options) : writer_(options) {}

  const std::filesystem::path& queue_path() const noexcept { return writer_.queue_path(); }
  std::uint64_t dropped() const noexcept { return writer_.dropped(); }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    this->formatter_->format(msg, formatted);
    std::size_t length = formatted.size();
    while (length > 0 && (formatted[length - 1] == '\n' || formatted[length - 1] == '\r')) --length;
    Record record;
    record.level = static_cast<std::uint8_t>(msg.level);
    record.time_unix_ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(msg.time.time_since_epoch()).count());
    record.thread_id = msg.thread_id;
    record.logger_name = {msg.logger_name.data(), msg.logger_name.size()};
    record.text = {formatted.data(), length};
    writer_.write(record);
  }
  void flush_() override { writer_.flush(); }

 private:
  SpoolWriter writer_;
};

using spool_sink_mt = spool_sink<std::mutex>;
using spool_sink_st = spool_sink<spdlog::details::null_mutex>;

// A logger with one spool sink, registered with spdlog like spdlog::basic_logger_mt.
template <class Factory = spdlog::synchronous_factory>
std::shared_ptr<spdlog::logger> spool_logger_mt(const std::string& logger_name, const SinkOptions& options) {
  return Factory::template create<spool_sink_mt>(logger_name, options);
}
template <class Factory = spdlog::synchronous_factory>
std::shared_ptr<spdlog::logger> spool_logger_st(const std::string& logger_name, const SinkOptions& options) {
  return Factory::template create<spool_sink_st>(logger_name, options);
}

}  // namespace shmq::log
