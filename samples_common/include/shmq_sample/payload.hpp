// The payload of the messages shmq-producer generates, checked by shmq-consumer --verify.
//
// A payload is printable ASCII without a newline, so `shmq-consumer --stdout` prints each message
// as one readable line. Offsets in bytes:
//
//    0                16  17               33  34
//   +-----------------+---+-----------------+---+----------------------------------+
//   | sequence        |' '| checksum        |' '| filler: a..z, repeating          |
//   | 16 hex digits   |   | 16 hex digits   |   | (from byte 34 up to the end)     |
//   +-----------------+---+-----------------+---+----------------------------------+
//   e.g. "00000000000002a7 5c0f3e1d9a8b7c6d klmnopqrstuvwxyzabcd"
//
// - sequence: the message's queue sequence number (Message::sequence), lowercase hex.
// - checksum: XXH3_64bits_withSeed(bytes 33 .. end, seed = sequence), lowercase hex. Seeding with
//   the sequence binds the rest of the payload to this message, so a stale payload left in the
//   ring by an earlier message fails the check even where its bytes look alike.
// - filler: byte i (i >= 34) is 'a' + (sequence + i) % 26; it differs from one message to the
//   next, so a torn or stale read shows up in the checksum.
// The smallest payload is kMinPayloadSize (33) bytes: sequence, space, checksum (no filler).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>

#include <xxhash.h>

namespace shmq_sample {

inline constexpr std::size_t kSequenceOffset = 0;
inline constexpr std::size_t kChecksumOffset = 17;
inline constexpr std::size_t kHexDigits = 16;
inline constexpr std::size_t kMinPayloadSize = kChecksumOffset + kHexDigits;  // 33
inline constexpr std::size_t kCoveredOffset = kMinPayloadSize;                // the checksum covers [33, size)
inline constexpr std::size_t kFillerOffset = kMinPayloadSize + 1;             // 34
inline constexpr std::size_t kAlphabet = 26;

namespace detail {

inline void put_hex(char* out, std::uint64_t value) noexcept {
  constexpr char kDigits[] = "0123456789abcdef";
  for (std::size_t i = kHexDigits; i-- > 0;) {
    out[i] = kDigits[value & 15U];
    value >>= 4;
  }
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

}  // namespace detail

// Writes the payload of message `sequence` over all of `out`. Precondition: out.size() >= kMinPayloadSize.
inline void write_payload(std::span<std::byte> out, std::uint64_t sequence) noexcept {
  char* p = reinterpret_cast<char*>(out.data());
  const std::size_t size = out.size();
  detail::put_hex(p + kSequenceOffset, sequence);
  p[kHexDigits] = ' ';
  if (size > kMinPayloadSize) {
    p[kMinPayloadSize] = ' ';
    // The filler repeats every 26 bytes: write one period, then double it with memcpy.
    char* filler = p + kFillerOffset;
    const std::size_t length = size - kFillerOffset;
    const std::size_t first = std::min(length, kAlphabet);
    for (std::size_t i = 0; i < first; ++i) {
      filler[i] = static_cast<char>('a' + (sequence + kFillerOffset + i) % kAlphabet);
    }
    for (std::size_t done = first; done < length; done *= 2) {  // `done` stays a multiple of 26
      std::memcpy(filler + done, filler, std::min(done, length - done));
    }
  }
  detail::put_hex(p + kChecksumOffset, detail::checksum(p, size, sequence));
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

// Checks a payload written by write_payload() for the message with queue sequence `sequence`.
inline PayloadCheck check_payload(std::span<const std::byte> in, std::uint64_t sequence) noexcept {
  const char* p = reinterpret_cast<const char*>(in.data());
  const std::size_t size = in.size();
  if (size < kMinPayloadSize) return PayloadCheck::too_short;
  const std::optional<std::uint64_t> embedded = detail::get_hex(p + kSequenceOffset);
  const std::optional<std::uint64_t> sum = detail::get_hex(p + kChecksumOffset);
  if (!embedded || !sum || p[kHexDigits] != ' ' || (size > kMinPayloadSize && p[kMinPayloadSize] != ' ')) {
    return PayloadCheck::malformed;
  }
  if (*embedded != sequence) return PayloadCheck::wrong_sequence;
  if (*sum != detail::checksum(p, size, sequence)) return PayloadCheck::bad_checksum;
  return PayloadCheck::ok;
}

// The sequence number embedded in a generated payload (or in a line that --stdout printed from
// one), without checking the rest.
inline std::optional<std::uint64_t> embedded_sequence(std::string_view payload) noexcept {
  if (payload.size() < kMinPayloadSize) return std::nullopt;
  return detail::get_hex(payload.data() + kSequenceOffset);
}

}  // namespace shmq_sample
