// The block of MAP_SHARED anonymous memory through which the two child processes of a run meet
// (a barrier) and report back to the harness (outcome, timings, histogram).
#pragma once

#include <atomic>
#include <cstdint>
#include <new>
#include <stdexcept>

#include <sys/mman.h>

#include "clock.hpp"
#include "histogram.hpp"

namespace bench {

// Two-process barrier. Waiters spin briefly, then yield: it only runs between measured phases.
struct PairBarrier {
  std::atomic<std::uint32_t> arrived{0};
  std::atomic<std::uint32_t> generation{0};

  void arrive() noexcept {
    const std::uint32_t generation_now = generation.load(std::memory_order_acquire);
    if (arrived.fetch_add(1, std::memory_order_acq_rel) == 1) {
      arrived.store(0, std::memory_order_relaxed);
      // Release pairs with the waiters' acquire: they see arrived == 0 before arriving again.
      generation.store(generation_now + 1, std::memory_order_release);
      return;
    }
    for (unsigned spins = 0; generation.load(std::memory_order_acquire) == generation_now; ++spins) {
      if (spins < 10'000) {
        cpu_relax();
      } else {
        sched_yield_now();
      }
    }
  }

 private:
  static void sched_yield_now() noexcept;
};

enum class Outcome : int { running, ok, unavailable, sequence_error, failed };

struct RoleReport {
  std::atomic<int> outcome{static_cast<int>(Outcome::running)};
  bool pinned = false;
  char message[512] = {};
};

struct SharedBoard {
  static constexpr int kMaxRepetitions = 64;
  PairBarrier barrier;
  RoleReport roles[2];
  std::uint64_t count[kMaxRepetitions] = {};  // messages (or round trips) per repetition
  std::uint64_t start_ns[kMaxRepetitions] = {};
  std::uint64_t end_ns[kMaxRepetitions] = {};
  std::uint64_t p50_ns[kMaxRepetitions] = {};
  Histogram histogram;
  std::uint64_t cpu_ns = 0;
  std::uint64_t window_ns = 0;
};

// Owns one SharedBoard in a fresh MAP_SHARED|MAP_ANONYMOUS mapping (inherited across fork).
class SharedBoardMapping {
 public:
  SharedBoardMapping() {
    void* memory = mmap(nullptr, sizeof(SharedBoard), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) throw std::runtime_error("mmap of the shared board failed");
    board_ = new (memory) SharedBoard{};
  }
  ~SharedBoardMapping() {
    board_->~SharedBoard();
    munmap(board_, sizeof(SharedBoard));
  }
  SharedBoardMapping(const SharedBoardMapping&) = delete;
  SharedBoardMapping& operator=(const SharedBoardMapping&) = delete;
  SharedBoard& operator*() const noexcept { return *board_; }
  SharedBoard* operator->() const noexcept { return board_; }

 private:
  SharedBoard* board_;
};

}  // namespace bench
