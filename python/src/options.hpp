// The options of a new queue as Python passes them (keyword arguments of Producer.create and
// shmq.create_queue), and their translation to shmq::CreateOptions.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>

#include <pybind11/pybind11.h>

#include <shmq/options.hpp>

namespace shmq_python {

struct QueueOptions {
  std::uint64_t capacity = shmq::CreateOptions{}.capacity;
  bool durable = false;
  std::optional<bool> checksums;
  std::uint32_t mode = 0600;
  std::uint64_t checkpoint_bytes = 0;
  double checkpoint_interval = 0.010;  // seconds
};

inline shmq::CreateOptions to_create_options(const QueueOptions& queue) {
  if (!(queue.checkpoint_interval >= 0 && queue.checkpoint_interval <= 86400)) {
    throw pybind11::value_error("checkpoint_interval must be between 0 and 86400 seconds");
  }
  shmq::CreateOptions options;
  options.capacity = queue.capacity;
  options.durable = queue.durable;
  options.checksums = queue.checksums;
  options.mode = static_cast<mode_t>(queue.mode);
  options.checkpoints.bytes = queue.checkpoint_bytes;
  options.checkpoints.interval =
      std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(queue.checkpoint_interval * 1000)));
  return options;
}

}  // namespace shmq_python
