// Throughput: role 0 sends, role 1 receives and checks every sequence number. Repetition 0 is
// the warm-up, and its rate sizes the measured repetitions to about seconds_per_repetition each.
#include <algorithm>

#include "sequence_check.hpp"
#include "suites.hpp"

namespace bench {

RowStatus status_of(const PairResult& pair, bool is_peer) {
  switch (pair.outcome) {
    case Outcome::ok:
      return {};
    case Outcome::unavailable:
      return {RowState::unavailable, pair.message};
    case Outcome::sequence_error:
      return {RowState::failed, pair.message};
    case Outcome::running:
    case Outcome::failed:
      break;
  }
  return {is_peer ? RowState::unavailable : RowState::failed, "failed at run time: " + pair.message};
}

void set_rates(ThroughputRow& row, const std::vector<double>& messages_per_second) {
  row.messages_per_second = spread_of(messages_per_second);
  const double megabytes = static_cast<double>(row.size) / 1e6;
  const Spread& m = row.messages_per_second;
  row.megabytes_per_second = {m.median * megabytes, m.min * megabytes, m.max * megabytes};
}

namespace {

std::uint64_t calibrated_count(const Config& config, const SharedBoard& board) {
  const double warmup_ns = static_cast<double>(std::max<std::uint64_t>(board.end_ns[0] - board.start_ns[0], 1));
  const double wanted = static_cast<double>(board.count[0]) * config.seconds_per_repetition * 1e9 / warmup_ns;
  const double floor = config.smoke ? 500.0 : 10'000.0;
  return static_cast<std::uint64_t>(std::clamp(wanted, floor, 200'000'000.0));
}

}  // namespace

ThroughputRow measure_throughput(const Config& config, Transport& transport, std::size_t size) {
  ThroughputRow row;
  row.transport = transport.name();
  row.size = size;
  const int repetitions = std::min(config.repetitions, SharedBoard::kMaxRepetitions - 1);
  try {
    transport.prepare(1, {size, config.ring_bytes});
  } catch (const Unavailable& e) {
    transport.cleanup();
    row.status = {RowState::unavailable, e.what()};
    return row;
  }

  const std::uint64_t warmup = std::clamp<std::uint64_t>((std::uint64_t{256} << 20) / size, 1, config.warmup_messages);
  SharedBoardMapping board;
  auto producer = [&](SharedBoard& b) {
    auto sender = transport.open_sender(0);
    b.barrier.arrive();  // both ends open
    std::uint64_t sequence = 0;
    for (int rep = 0; rep <= repetitions; ++rep) {
      if (rep == 0) b.count[0] = warmup;
      if (rep == 1) std::fill_n(b.count + 1, repetitions, calibrated_count(config, b));
      b.barrier.arrive();  // count[rep] is published
      b.start_ns[rep] = now_ns();
      for (std::uint64_t i = 0; i < b.count[rep]; ++i) {
        if (sequence == config.drop_message) ++sequence;  // only ever in the harness's self-test
        write_sequence(sender->claim(), sequence++);
        sender->commit();
      }
      sender->flush();
      b.barrier.arrive();  // the consumer has them all
    }
  };
  auto consumer = [&](SharedBoard& b) {
    auto receiver = transport.open_receiver(0);
    b.barrier.arrive();
    std::uint64_t expected = 0;
    for (int rep = 0; rep <= repetitions; ++rep) {
      b.barrier.arrive();
      for (std::uint64_t i = 0; i < b.count[rep]; ++i) expect_sequence(receiver->receive(), size, expected++);
      b.end_ns[rep] = now_ns();
      b.barrier.arrive();
    }
  };
  const PairResult pair = run_pair(config, *board, producer, consumer);
  transport.cleanup();
  row.pinned = pair.pinned;
  row.status = status_of(pair, transport.is_peer());
  if (row.status.state != RowState::ok) return row;

  std::vector<double> rates;
  for (int rep = 1; rep <= repetitions; ++rep) {
    const double seconds = static_cast<double>(board->end_ns[rep] - board->start_ns[rep]) / 1e9;
    rates.push_back(static_cast<double>(board->count[rep]) / seconds);
  }
  row.messages_per_repetition = board->count[1];
  set_rates(row, rates);
  return row;
}

}  // namespace bench
