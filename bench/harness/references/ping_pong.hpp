// The frame shared by the reference ping-pongs: a shared page for their word, and the timed loop
// (warm-up, repetitions, a histogram of round trips) around a ping and a pong step.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include <sys/mman.h>

#include "../suites.hpp"

namespace bench {

// One page of MAP_SHARED anonymous memory, inherited by the child processes.
class SharedPage {
 public:
  SharedPage() : memory_(mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)) {
    if (memory_ == MAP_FAILED) throw std::runtime_error("mmap of a shared page failed");
  }
  ~SharedPage() { munmap(memory_, kSize); }
  SharedPage(const SharedPage&) = delete;
  SharedPage& operator=(const SharedPage&) = delete;
  template <class T>
  T& as() const noexcept {
    return *new (memory_) T{};
  }  // constructs T at the page's start

 private:
  static constexpr std::size_t kSize = 4096;
  void* memory_;
};

// ping(i) performs round trip i from role 0; pong(i) answers it in role 1.
template <class Ping, class Pong>
LatencyRow measure_reference_ping_pong(const Config& config, std::string name, std::size_t size,
                                       std::uint64_t round_trips, int repetitions, Ping ping, Pong pong) {
  LatencyRow row;
  row.transport = std::move(name);
  row.reference = true;
  row.size = size;
  repetitions = std::clamp(repetitions, 1, SharedBoard::kMaxRepetitions);
  const std::uint64_t warmup = std::max<std::uint64_t>(round_trips / 10, 100);
  SharedBoardMapping board;
  auto initiator = [&](SharedBoard& b) {
    b.barrier.arrive();
    std::uint64_t i = 0;
    for (; i < warmup; ++i) ping(i);
    Histogram repetition;
    for (int rep = 0; rep < repetitions; ++rep) {
      repetition.clear();
      for (std::uint64_t n = 0; n < round_trips; ++n, ++i) {
        const std::uint64_t start = now_ns();
        ping(i);
        repetition.record(now_ns() - start);
      }
      b.p50_ns[rep] = repetition.percentile(50);
      b.histogram.merge(repetition);
    }
  };
  auto echo = [&](SharedBoard& b) {
    b.barrier.arrive();
    const std::uint64_t total = warmup + round_trips * static_cast<std::uint64_t>(repetitions);
    for (std::uint64_t i = 0; i < total; ++i) pong(i);
  };
  const PairResult pair = run_pair(config, *board, initiator, echo);
  row.pinned = pair.pinned;
  row.status = status_of(pair, false);
  if (row.status.state != RowState::ok) return row;
  fill_percentiles(row, board->histogram);
  row.p50_by_repetition_ns = spread_of(std::vector<double>(board->p50_ns, board->p50_ns + repetitions));
  return row;
}

}  // namespace bench
