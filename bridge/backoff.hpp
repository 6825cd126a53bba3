// The pause between two attempts to reach the NATS server: doubling from 100 ms up to 5 s, back to
// the start after a success.
#pragma once

#include <algorithm>
#include <chrono>

namespace shmq_bridge {

class Backoff {
 public:
  std::chrono::milliseconds next() noexcept {
    const std::chrono::milliseconds pause = pause_;
    pause_ = std::min(pause_ * 2, kMax);
    return pause;
  }
  void reset() noexcept { pause_ = kFirst; }

 private:
  static constexpr std::chrono::milliseconds kFirst{100};
  static constexpr std::chrono::milliseconds kMax{5000};
  std::chrono::milliseconds pause_ = kFirst;
};

}  // namespace shmq_bridge
