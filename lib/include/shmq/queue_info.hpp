// What a queue file is, learnt without attaching to it: opened read-only, validated like any
// open, mapped PROT_READ, never written. For checks before attaching (the largest message a
// queue takes, whether it is durable) and for tools.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "shmq/options.hpp"

namespace shmq {

struct QueueInfo {
  std::uint64_t capacity = 0;        // ring bytes
  std::size_t max_message_size = 0;  // the largest message the queue takes
  bool checksums = false;            // every record carries a checksum
  bool durable = false;              // the producer keeps msync checkpoints
};

// The largest message a queue of `capacity` ring bytes takes (capacity - 16; 0 below 16 bytes).
std::size_t max_message_size(std::uint64_t capacity) noexcept;

// Throws shmq::Error like Consumer::open (not_a_queue, incompatible, damaged, foreign_owner, io).
QueueInfo inspect_queue(const std::filesystem::path& path, const OpenOptions& options = {});

}  // namespace shmq
