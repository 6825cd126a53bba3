// How far a queue's messages have got.
#pragma once

#include <cstdint>

namespace shmq {

// The three watermarks of a queue, as sequence numbers: messages below `published` are visible
// to the consumer, below `durable` survive an OS crash (durable queues; 0 otherwise), below
// `consumed` were released by the consumer.
struct Watermarks {
  std::uint64_t published = 0;
  std::uint64_t durable = 0;
  std::uint64_t consumed = 0;
  bool durable_mode = false;
};

}  // namespace shmq
