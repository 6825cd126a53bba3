// The generated payload (samples_common/include/shmq_sample/payload.hpp): built as its comment
// documents, and every lost, repeated or damaged payload fails the check.
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <xxhash.h>

#include "shmq_sample/payload.hpp"

namespace shmq_sample {
namespace {

std::string text(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// The payload as payload.hpp documents it, built independently of its code (printf for the hex).
std::string documented_payload(std::uint64_t sequence, std::size_t size) {
  std::string tail;
  if (size > kMinPayloadSize) tail = " ";
  for (std::size_t i = kFillerOffset; i < size; ++i) tail += static_cast<char>('a' + (i - kFillerOffset) % 26);
  char head[64];
  std::snprintf(head, sizeof head, "%016" PRIx64 " %016" PRIx64, sequence,
                static_cast<std::uint64_t>(XXH3_64bits_withSeed(tail.data(), tail.size(), sequence)));
  return head + tail;
}

const std::vector<std::uint64_t> kSequences = {0, 1, 9, 10, 15, 16, 0x2a7, 0xfedcba9876543210ULL, UINT64_MAX};
const std::vector<std::size_t> kSizes = {33, 34, 35, 40, 59, 60, 61, 64, 100, 1024, 4096};

TEST(Payload, TemplateAndOneOffWriterBuildTheDocumentedFormat) {
  for (std::size_t size : kSizes) {
    PayloadTemplate payloads(size);
    for (std::uint64_t sequence : kSequences) {
      const std::string expected = documented_payload(sequence, size);
      EXPECT_EQ(text(payloads.payload(sequence)), expected);
      std::vector<std::byte> out(size);
      write_payload(out, sequence);
      EXPECT_EQ(text(out), expected);
      EXPECT_EQ(check_payload(out, sequence), PayloadCheck::ok) << expected;
      EXPECT_EQ(embedded_sequence(expected), sequence);
    }
  }
}

// Every byte changed to every other printable value, at every offset of 64- and 33-byte payloads.
TEST(Payload, EveryChangeOfEveryByteIsCaught) {
  for (std::size_t size : {std::size_t{33}, std::size_t{64}}) {
    for (std::uint64_t sequence : kSequences) {
      std::string payload = documented_payload(sequence, size);
      for (std::size_t at = 0; at < size; ++at) {
        const char original = payload[at];
        for (int c = 0x20; c < 0x7f; ++c) {
          if (c == original) continue;
          payload[at] = static_cast<char>(c);
          EXPECT_NE(check_payload(std::as_bytes(std::span(payload)), sequence), PayloadCheck::ok)
              << "byte " << at << " changed to '" << static_cast<char>(c) << "' in " << payload;
          payload[at] = original;
        }
      }
    }
  }
}

TEST(Payload, LostRepeatedAndTruncatedPayloadsAreCaughtWithTheirCause) {
  const std::string p7 = documented_payload(7, 64);
  const auto bytes = [](const std::string& s) { return std::as_bytes(std::span(s)); };
  // Under message 8: the payload of 7 (a repeat) or of 9 (8 was lost).
  EXPECT_EQ(check_payload(bytes(p7), 8), PayloadCheck::wrong_sequence);
  EXPECT_EQ(check_payload(bytes(documented_payload(9, 64)), 8), PayloadCheck::wrong_sequence);
  // Seeded with the sequence: the right sequence field over another message's checksum fails.
  std::string forged = p7;
  forged.replace(kSequenceOffset, kHexDigits, documented_payload(8, 64).substr(0, kHexDigits));
  EXPECT_EQ(check_payload(bytes(forged), 8), PayloadCheck::bad_checksum);
  EXPECT_EQ(check_payload(bytes(p7.substr(0, 63)), 7), PayloadCheck::bad_checksum);
  EXPECT_EQ(check_payload(bytes(p7 + "a"), 7), PayloadCheck::bad_checksum);
  EXPECT_EQ(check_payload(bytes(p7.substr(0, 32)), 7), PayloadCheck::too_short);
  std::string upper = p7;
  upper[15] = 'A';
  EXPECT_EQ(check_payload(bytes(upper), 7), PayloadCheck::malformed);
  std::string no_space = p7;
  no_space[kMinPayloadSize] = 'x';
  EXPECT_EQ(check_payload(bytes(no_space), 7), PayloadCheck::malformed);
}

}  // namespace
}  // namespace shmq_sample
