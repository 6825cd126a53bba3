#include <atomic>
#include <cerrno>
#include <chrono>
#include <optional>

#include <pthread.h>
#include <unistd.h>

#include "shmq/log/drop_counter.hpp"
#include "shmq/log/sink.hpp"
#include "shmq/log/spool.hpp"
#include "shmq/shmq.hpp"

namespace shmq::log {
namespace {

std::uint64_t now_unix_ns() noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// Bumped in every child of fork(), so a writer can tell it is a copy in another process.
std::atomic<std::uint64_t> fork_generation{0};

// Relaxed: the child's handler runs in the child's only thread, before any of its code that
// reads the counter, so program order is all the ordering needed.
void count_fork() noexcept { fork_generation.fetch_add(1, std::memory_order_relaxed); }

std::uint64_t current_fork_generation() noexcept {
  static const bool registered = [] { return ::pthread_atfork(nullptr, nullptr, count_fork) == 0; }();
  (void)registered;
  return fork_generation.load(std::memory_order_relaxed);  // relaxed: pairs with count_fork (same thread)
}

std::string this_program() { return program_invocation_short_name; }

}  // namespace

struct SpoolWriter::State {
  SinkOptions options;
  std::uint64_t fork_generation = 0;
  std::filesystem::path queue_path;
  std::optional<Producer> producer;
  DropCounter drops;
  std::uint64_t dropped_here = 0;
  bool gave_up_waiting = false;  // block policy: the last wait ran out and nothing fit since

  // Creates this process's queue: the drop counter first, so that it exists whenever the queue does.
  void open_queue() {
    const std::string name = spool_queue_name(options.program, ::getpid(), now_unix_ns());
    queue_path = options.spool / name;
    drops = DropCounter::create(drops_path(queue_path));
    CreateOptions create{.capacity = options.capacity, .mode = 0600, .durable = options.durable};
    if (options.durable) create.checkpoints = options.checkpoints;
    try {
      // A shipper that is gone may come back (restarted, or after a crash): the block policy
      // waits out its bound rather than giving up when the consumer role is vacant.
      OpenOptions open;
      open.wait.return_on_peer_gone = false;
      producer.emplace(Producer::create(queue_path, create, open));
    } catch (...) {
      std::error_code ignored;
      std::filesystem::remove(drops_path(queue_path), ignored);
      throw;
    }
    fork_generation = current_fork_generation();
    gave_up_waiting = false;
  }

  // A fork's child must not touch its parent's queue: it gets its own.
  void follow_fork() {
    if (fork_generation == current_fork_generation()) return;
    producer.reset();  // a fork's copy: destroying it leaves the parent's queue alone
    drops = DropCounter();
    dropped_here = 0;
    open_queue();
  }

  Result<Reservation> reserve(std::size_t size) {
    Result<Reservation> r = producer->try_reserve(size);
    if (r.ok()) return r;
    if (options.when_full == FullPolicy::drop || gave_up_waiting) return r;
    r = producer->reserve_for(size, options.block_bound);
    if (!r.ok()) gave_up_waiting = true;
    return r;
  }

  // Publishes `record`; a record that finds no room is counted as dropped when `count_drop`.
  bool publish(const Record& record, bool count_drop) {
    Record fitted = record;
    const std::size_t largest = producer->max_message_size();
    if (encoded_size(fitted) > largest) {
      const std::size_t overhead = encoded_size(fitted) - fitted.text.size();
      fitted.text = fitted.text.substr(0, largest > overhead ? largest - overhead : 0);
      fitted.flags |= kFlagTruncated;
    }
    Result<Reservation> r = reserve(encoded_size(fitted));
    if (!r.ok()) {
      if (count_drop) {
        drops.add(now_unix_ns());
        ++dropped_here;
      }
      return false;
    }
    gave_up_waiting = false;
    const std::size_t used = encode(fitted, r->bytes());
    r->commit(used);
    return true;
  }
};

SpoolWriter::SpoolWriter(const SinkOptions& options) : state_(std::make_unique<State>()) {
  state_->options = options;
  if (state_->options.program.empty()) state_->options.program = this_program();
  state_->open_queue();
}

SpoolWriter::~SpoolWriter() {
  if (!state_ || !state_->producer || state_->fork_generation != current_fork_generation()) return;
  try {
    Record close;
    close.kind = RecordKind::close;
    close.time_unix_ns = now_unix_ns();
    state_->gave_up_waiting = false;
    // Not a line: a close record that finds no room is not counted as dropped (shmq-logd then
    // reports an end without a close).
    const bool sent = state_->publish(close, false);
    if (sent && state_->options.durable) state_->producer->sync();
  } catch (const std::exception&) {
    // A broken queue (corrupt peer, failed msync): nothing more can be written; detach below.
  }
}

bool SpoolWriter::write(const Record& record) {
  state_->follow_fork();
  return state_->publish(record, true);
}

void SpoolWriter::flush() {
  state_->follow_fork();
  if (state_->options.durable) state_->producer->sync();
}

const std::filesystem::path& SpoolWriter::queue_path() const noexcept { return state_->queue_path; }

std::uint64_t SpoolWriter::dropped() const noexcept { return state_->dropped_here; }

}  // namespace shmq::log
