// Message payloads whose bytes prove what they are.
//
// A payload of 16 bytes or more carries its sequence number, the generation of the producer that
// wrote it (each producer process the test starts gets a new one) and a digest of the rest, so
// the checker can tell a message intact, and tell which producer wrote it: a staged record of a
// dead producer and the record a later producer wrote at the same position and sequence differ.
// A shorter payload is a pattern derived from its sequence number alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace shmq::torture {

inline constexpr std::uint32_t kNoGeneration = 0xFFFFFFFFu;  // a payload too short to say
inline constexpr std::size_t kTaggedSize = 16;               // the smallest payload that carries its generation

// Writes the payload of message `sequence` of `size` bytes by producer `generation` into `out`.
void fill_payload(std::span<std::byte> out, std::uint64_t sequence, std::uint32_t generation);
std::vector<std::byte> make_payload(std::size_t size, std::uint64_t sequence, std::uint32_t generation);

struct PayloadCheck {
  bool intact = false;
  std::uint32_t generation = kNoGeneration;
  std::uint64_t digest = 0;  // of the whole payload, to compare two deliveries of one sequence
};
// Checks a payload delivered as message `sequence`.
PayloadCheck check_payload(std::span<const std::byte> bytes, std::uint64_t sequence);

}  // namespace shmq::torture
