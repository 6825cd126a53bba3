#include "payload.hpp"

#include <cstring>

namespace shmq::torture {
namespace {

std::uint64_t mix(std::uint64_t x) noexcept {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDULL;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ULL;
  return x ^ (x >> 33);
}

std::byte pattern_byte(std::uint64_t key, std::size_t i) noexcept {
  return static_cast<std::byte>(mix(key + i / 8) >> ((i % 8) * 8));
}

std::uint64_t digest_of(std::span<const std::byte> bytes) noexcept {
  std::uint64_t h = 0x84222325CBF29CE4ULL ^ bytes.size();
  for (std::byte b : bytes) h = (h ^ static_cast<std::uint8_t>(b)) * 0x100000001B3ULL;
  return mix(h);
}

}  // namespace

void fill_payload(std::span<std::byte> out, std::uint64_t sequence, std::uint32_t generation) {
  if (out.size() < kTaggedSize) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = pattern_byte(mix(sequence) ^ out.size(), i);
    return;
  }
  std::memcpy(out.data(), &sequence, 8);
  std::memcpy(out.data() + 8, &generation, 4);
  const std::uint64_t key = mix(sequence ^ (std::uint64_t{generation} << 40) ^ out.size());
  for (std::size_t i = kTaggedSize; i < out.size(); ++i) out[i] = pattern_byte(key, i);
  const auto tag = static_cast<std::uint32_t>(key ^ digest_of(out.subspan(kTaggedSize)));
  std::memcpy(out.data() + 12, &tag, 4);
}

std::vector<std::byte> make_payload(std::size_t size, std::uint64_t sequence, std::uint32_t generation) {
  std::vector<std::byte> bytes(size);
  fill_payload(bytes, sequence, generation);
  return bytes;
}

PayloadCheck check_payload(std::span<const std::byte> bytes, std::uint64_t sequence) {
  PayloadCheck check;
  check.digest = digest_of(bytes);
  std::uint32_t generation = kNoGeneration;
  if (bytes.size() >= kTaggedSize) std::memcpy(&generation, bytes.data() + 8, 4);
  std::vector<std::byte> expected(bytes.size());
  fill_payload(expected, sequence, generation);
  check.intact = bytes.empty() || std::memcmp(expected.data(), bytes.data(), bytes.size()) == 0;
  check.generation = generation;
  return check;
}

}  // namespace shmq::torture
