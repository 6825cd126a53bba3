// Round-trip latency: role 0 sends a ping on channel 0 and waits for the pong on channel 1; role 1
// echoes. Every round trip is timed and recorded in a log-bucketed histogram; both sides check the
// sequence numbers.
#include <algorithm>

#include "sequence_check.hpp"
#include "suites.hpp"

namespace bench {

void fill_percentiles(LatencyRow& row, const Histogram& histogram) {
  row.round_trips = histogram.count();
  row.p50_ns = static_cast<double>(histogram.percentile(50));
  row.p99_ns = static_cast<double>(histogram.percentile(99));
  row.p999_ns = static_cast<double>(histogram.percentile(99.9));
  row.max_ns = static_cast<double>(histogram.max());
  for (double p : {0.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 99.999, 100.0}) {
    row.curve.emplace_back(p, static_cast<double>(p == 0.0 ? histogram.min() : histogram.percentile(p)));
  }
}

LatencyRow measure_latency(const Config& config, Transport& transport, std::size_t size) {
  LatencyRow row;
  row.transport = transport.name();
  row.size = size;
  const int repetitions = std::min(config.repetitions, SharedBoard::kMaxRepetitions);
  try {
    transport.prepare(2, {size, config.ring_bytes});
  } catch (const Unavailable& e) {
    transport.cleanup();
    row.status = {RowState::unavailable, e.what()};
    return row;
  }

  SharedBoardMapping board;
  auto initiator = [&](SharedBoard& b) {
    auto receiver = transport.open_receiver(1);
    auto sender = transport.open_sender(0);
    b.barrier.arrive();
    std::uint64_t sequence = 0;
    auto round_trip = [&] {
      write_sequence(sender->claim(), sequence);
      sender->commit();
      sender->flush();
      expect_sequence(receiver->receive(), size, sequence++);
    };
    for (std::uint64_t i = 0; i < config.warmup_round_trips; ++i) round_trip();
    Histogram repetition;
    for (int rep = 0; rep < repetitions; ++rep) {
      repetition.clear();
      for (std::uint64_t i = 0; i < config.round_trips; ++i) {
        const std::uint64_t start = now_ns();
        round_trip();
        repetition.record(now_ns() - start);
      }
      b.p50_ns[rep] = repetition.percentile(50);
      b.histogram.merge(repetition);
    }
  };
  auto echo = [&](SharedBoard& b) {
    auto receiver = transport.open_receiver(0);
    auto sender = transport.open_sender(1);
    b.barrier.arrive();
    const std::uint64_t total =
        config.warmup_round_trips + config.round_trips * static_cast<std::uint64_t>(repetitions);
    for (std::uint64_t sequence = 0; sequence < total; ++sequence) {
      expect_sequence(receiver->receive(), size, sequence);
      write_sequence(sender->claim(), sequence);
      sender->commit();
      sender->flush();
    }
  };
  const PairResult pair = run_pair(config, *board, initiator, echo);
  transport.cleanup();
  row.pinned = pair.pinned;
  row.status = status_of(pair, transport.is_peer());
  if (row.status.state != RowState::ok) return row;

  fill_percentiles(row, board->histogram);
  std::vector<double> p50s(board->p50_ns, board->p50_ns + repetitions);
  row.p50_by_repetition_ns = spread_of(p50s);
  return row;
}

}  // namespace bench
