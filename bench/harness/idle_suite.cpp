// Idle cost of a blocking transport: the CPU time (getrusage(RUSAGE_SELF) of the child, all its
// threads) that a process spends blocked for config.idle_seconds,
// (a) as a consumer waiting on an empty queue while the producer sleeps, then sends one message;
// (b) as a producer waiting on a full queue while the consumer sleeps, then drains it. The
//     producer's window includes filling the queue once (a small ring, idle_ring_bytes, keeps
//     that short).
#include <chrono>
#include <thread>

#include "sequence_check.hpp"
#include "suites.hpp"

namespace bench {

namespace {

constexpr std::size_t kIdleMessageSize = 64;

void sleep_seconds(double seconds) { std::this_thread::sleep_for(std::chrono::duration<double>(seconds)); }

void send_one(Sender& sender, std::uint64_t sequence) {
  write_sequence(sender.claim(), sequence);
  sender.commit();
  sender.flush();
}

// Returns (cpu_ns, window_ns) measured by the blocked role, or a failed status.
RowStatus run_idle_case(const Config& config, Transport& transport, bool consumer_blocks, double& cpu_percent,
                        double& window_s) {
  try {
    transport.prepare(1, {kIdleMessageSize, config.idle_ring_bytes});
  } catch (const Unavailable& e) {
    transport.cleanup();
    return {RowState::unavailable, e.what()};
  }
  // Enough messages to fill every transport's buffering several times over.
  const std::uint64_t fill = 8 * (config.idle_ring_bytes / kIdleMessageSize) + 1024;

  SharedBoardMapping board;
  auto producer = [&](SharedBoard& b) {
    auto sender = transport.open_sender(0);
    b.barrier.arrive();
    if (consumer_blocks) {
      send_one(*sender, 0);
      b.barrier.arrive();  // the consumer has message 0 and is about to block
      sleep_seconds(config.idle_seconds);
      send_one(*sender, 1);
      return;
    }
    const std::uint64_t cpu_start = process_cpu_ns();
    const std::uint64_t start = now_ns();
    for (std::uint64_t sequence = 0; sequence < fill; ++sequence) {
      write_sequence(sender->claim(), sequence);
      sender->commit();
    }
    sender->flush();
    b.window_ns = now_ns() - start;
    b.cpu_ns = process_cpu_ns() - cpu_start;
  };
  auto consumer = [&](SharedBoard& b) {
    auto receiver = transport.open_receiver(0);
    b.barrier.arrive();
    if (consumer_blocks) {
      expect_sequence(receiver->receive(), kIdleMessageSize, 0);
      b.barrier.arrive();
      const std::uint64_t cpu_start = process_cpu_ns();
      const std::uint64_t start = now_ns();
      expect_sequence(receiver->receive(), kIdleMessageSize, 1);
      b.window_ns = now_ns() - start;
      b.cpu_ns = process_cpu_ns() - cpu_start;
      return;
    }
    sleep_seconds(config.idle_seconds);
    for (std::uint64_t sequence = 0; sequence < fill; ++sequence)
      expect_sequence(receiver->receive(), kIdleMessageSize, sequence);
  };
  const PairResult pair = run_pair(config, *board, producer, consumer);
  transport.cleanup();
  const RowStatus status = status_of(pair, transport.is_peer());
  if (status.state == RowState::ok) {
    window_s = static_cast<double>(board->window_ns) / 1e9;
    cpu_percent = window_s > 0 ? 100.0 * static_cast<double>(board->cpu_ns) / 1e9 / window_s : 0;
  }
  return status;
}

}  // namespace

IdleRow measure_idle(const Config& config, Transport& transport) {
  IdleRow row;
  row.transport = transport.name();
  row.status = run_idle_case(config, transport, true, row.consumer_cpu_percent, row.consumer_window_s);
  if (row.status.state != RowState::ok) return row;
  row.status = run_idle_case(config, transport, false, row.producer_cpu_percent, row.producer_window_s);
  return row;
}

}  // namespace bench
