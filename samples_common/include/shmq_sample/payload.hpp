// The payload of the messages shmq-producer generates, checked by shmq-consumer --verify.
//
// A payload is printable ASCII without a newline, so `shmq-consumer --stdout` prints each message
// as one readable line. Offsets in bytes:
//
//    0                16  17               33  34
//   +-----------------+---+-----------------+---+----------------------------------+
//   | sequence        |' '| checksum        |' '| filler: "abc...xyz", repeating   |
//   | 16 hex digits   |   | 16 hex digits   |   | (from byte 34 up to the end)     |
//   +-----------------+---+-----------------+---+----------------------------------+
//   e.g. "00000000000002a7 5c0f3e1d9a8b7c6d abcdefghijklmnopqrst"
//
// - sequence: the message's queue sequence number (Message::sequence), 16 lowercase hex digits,
//   most significant first.
// - checksum: XXH3-64 with seed = sequence (XXH3_64bits_withSeed) of bytes 33 .. end (the space
//   and the filler), 16 lowercase hex digits, most significant first. Seeding with the sequence
//   binds the payload to its message: a stale payload left in the ring by an earlier message, or
//   a payload sent twice, fails the check.
// - filler: byte i (i >= 34) is 'a' + (i - 34) % 26. The same for every message of a size, so the
//   producer copies a template and patches the two numbers; damage shows in the checksum.
// The smallest payload is kMinPayloadSize (33) bytes: sequence, space, checksum (no filler); its
// checksum covers nothing (XXH3 of zero bytes with the seed).
//
// In Python (the `xxhash` module):
//   filler = (string.ascii_lowercase * (size // 26 + 1))[:size - 34]   # sizes above 33
//   tail = b" " + filler.encode()                                       # b"" when size == 33
//   payload = b"%016x %016x" % (seq, xxhash.xxh3_64_intdigest(tail, seed=seq)) + tail
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include <xxhash.h>

namespace shmq_sample {

inline constexpr std::size_t kSequenceOffset = 0;
inline constexpr std::size_t kChecksumOffset = 17;
inline constexpr std::size_t kHexDigits = 16;
inline constexpr std::size_t kMinPayloadSize = kChecksumOffset + kHexDigits;  // 33
inline constexpr std::size_t kCoveredOffset = kMinPayloadSize;                // the checksum covers [33, size)
inline constexpr std::size_t kFillerOffset = kMinPayloadSize + 1;             // 34

namespace detail {

// The 16 lowercase hex digits of `value`, most significant first, as 16 bytes in two words
// (branch-free: spread the nibbles one per byte, then map 0-9 and 10-15 to their digits).
inline void put_hex(char* out, std::uint64_t value) noexcept {
  const auto eight_digits = [](std::uint32_t half) noexcept {
    std::uint64_t x = half;
    x = (x | x << 16) & 0x0000FFFF0000FFFFULL;
    x = (x | x << 8) & 0x00FF00FF00FF00FFULL;
    x = (x | x << 4) & 0x0F0F0F0F0F0F0F0FULL;  // nibble k (from the least significant) in byte k
    const std::uint64_t letters = ((x + 0x0606060606060606ULL) >> 4) & 0x0101010101010101ULL;  // 1 where >= 10
    x += 0x3030303030303030ULL + letters * ('a' - '0' - 10);
    return __builtin_bswap64(x);  // most significant digit first in memory (little-endian; std::byteswap is C++23)
  };
  static_assert(std::endian::native == std::endian::little);
  const std::uint64_t high = eight_digits(static_cast<std::uint32_t>(value >> 32));
  const std::uint64_t low = eight_digits(static_cast<std::uint32_t>(value));
  std::memcpy(out, &high, 8);
  std::memcpy(out + 8, &low, 8);
}

inline bool hex_equals(const char* in, std::uint64_t value) noexcept {
  char expected[kHexDigits];
  put_hex(expected, value);
  return std::memcmp(in, expected, kHexDigits) == 0;
}

inline std::optional<std::uint64_t> get_hex(const char* in) noexcept {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < kHexDigits; ++i) {
    const char c = in[i];
    unsigned digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<unsigned>(c - 'a') + 10;
    } else {
      return std::nullopt;
    }
    value = (value << 4) | digit;
  }
  return value;
}

inline std::uint64_t checksum(const char* payload, std::size_t size, std::uint64_t sequence) noexcept {
  return XXH3_64bits_withSeed(payload + kCoveredOffset, size - kCoveredOffset, sequence);
}

// The bytes that are the same in every payload of `size`: the separators and the filler.
inline void write_fixed_part(char* p, std::size_t size) noexcept {
  p[kHexDigits] = ' ';
  if (size > kMinPayloadSize) p[kMinPayloadSize] = ' ';
  for (std::size_t i = kFillerOffset; i < size; ++i) p[i] = static_cast<char>('a' + (i - kFillerOffset) % 26);
}

inline void write_numbers(char* p, std::size_t size, std::uint64_t sequence) noexcept {
  put_hex(p + kSequenceOffset, sequence);
  put_hex(p + kChecksumOffset, checksum(p, size, sequence));
}

}  // namespace detail

// Makes payloads of one size fast: a template holding the separators and the filler, in which
// each call patches the sequence and the checksum (the bytes the checksum covers never change).
class PayloadTemplate {
 public:
  // Precondition: size >= kMinPayloadSize.
  explicit PayloadTemplate(std::size_t size) : bytes_(size) { detail::write_fixed_part(bytes_.data(), size); }

  // The payload of message `sequence`, valid until the next call.
  std::span<const std::byte> payload(std::uint64_t sequence) noexcept {
    detail::write_numbers(bytes_.data(), bytes_.size(), sequence);
    return std::as_bytes(std::span(bytes_));
  }

 private:
  std::vector<char> bytes_;
};

// Writes the payload of message `sequence` over all of `out`. Precondition: out.size() >= kMinPayloadSize.
// (For payloads of varying sizes; a stream of one size is cheaper through a PayloadTemplate.)
inline void write_payload(std::span<std::byte> out, std::uint64_t sequence) noexcept {
  char* p = reinterpret_cast<char*>(out.data());
  detail::write_fixed_part(p, out.size());
  detail::write_numbers(p, out.size(), sequence);
}

enum class PayloadCheck {
  ok,
  too_short,       // fewer than kMinPayloadSize bytes
  malformed,       // the sequence or checksum field is not 16 lowercase hex digits, or a separator is missing
  wrong_sequence,  // the embedded sequence is not the message's queue sequence number
  bad_checksum,    // the checksum does not match the rest of the payload
};

inline const char* to_string(PayloadCheck check) noexcept {
  switch (check) {
    case PayloadCheck::ok:
      return "ok";
    case PayloadCheck::too_short:
      return "shorter than a generated payload";
    case PayloadCheck::malformed:
      return "not a generated payload (malformed header)";
    case PayloadCheck::wrong_sequence:
      return "embedded sequence number differs from the message's";
    case PayloadCheck::bad_checksum:
      return "checksum mismatch";
  }
  return "unknown";
}

// Checks a payload written for the message with queue sequence `sequence`. The fast path
// compares the two fields with the digits they must have; only a failure parses them to say why.
inline PayloadCheck check_payload(std::span<const std::byte> in, std::uint64_t sequence) noexcept {
  const char* p = reinterpret_cast<const char*>(in.data());
  const std::size_t size = in.size();
  if (size < kMinPayloadSize) return PayloadCheck::too_short;
  const bool separators = p[kHexDigits] == ' ' && (size == kMinPayloadSize || p[kMinPayloadSize] == ' ');
  const std::uint64_t sum = detail::checksum(p, size, sequence);
  if (separators && detail::hex_equals(p + kSequenceOffset, sequence) && detail::hex_equals(p + kChecksumOffset, sum))
      [[likely]] {
    return PayloadCheck::ok;
  }
  const std::optional<std::uint64_t> embedded = detail::get_hex(p + kSequenceOffset);
  if (!separators || !embedded || !detail::get_hex(p + kChecksumOffset)) return PayloadCheck::malformed;
  if (*embedded != sequence) return PayloadCheck::wrong_sequence;
  return PayloadCheck::bad_checksum;
}

// The sequence number embedded in a generated payload (or in a line that --stdout printed from
// one), without checking the rest.
inline std::optional<std::uint64_t> embedded_sequence(std::string_view payload) noexcept {
  if (payload.size() < kMinPayloadSize) return std::nullopt;
  return detail::get_hex(payload.data() + kSequenceOffset);
}

}  // namespace shmq_sample
