// Every message starts with its 64-bit sequence number; the receiving side checks each one, so a
// transport that drops, duplicates or reorders a message fails its row instead of looking fast.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>

namespace bench {

inline constexpr std::size_t kMinMessageSize = sizeof(std::uint64_t);

class SequenceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline void write_sequence(std::span<std::byte> message, std::uint64_t sequence) noexcept {
  std::memcpy(message.data(), &sequence, sizeof sequence);
}

inline void expect_sequence(std::span<const std::byte> message, std::size_t size, std::uint64_t expected) {
  if (message.size() != size) {
    throw SequenceError("message " + std::to_string(expected) + " has " + std::to_string(message.size()) +
                        " bytes, expected " + std::to_string(size));
  }
  std::uint64_t got = 0;
  std::memcpy(&got, message.data(), sizeof got);
  if (got != expected) {
    throw SequenceError("expected message " + std::to_string(expected) + ", received " + std::to_string(got) +
                        " (a message was lost, duplicated or reordered)");
  }
}

}  // namespace bench
