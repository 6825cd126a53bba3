// The log record: what the spdlog sink puts into a spool queue and what shmq-logd reads back.
//
// One record is one queue message: a fixed 24-byte header, the logger's name, then the formatted
// text (no trailing newline). All integers are little-endian (the queue never leaves the machine,
// and every Linux target shmq builds for is little-endian). docs/LOGGING.md draws the layout.
//
//   0      2       3      4       5       6            8               16          24
//   +------+-------+------+-------+-------+------------+---------------+-----------+------+------+
//   |magic |version| kind | level | flags | name_length| time_unix_ns  | thread_id | name | text |
//   +------+-------+------+-------+-------+------------+---------------+-----------+------+------+
//
// The text's length is what remains of the message after the name. A reader treats every byte
// as untrusted: decode() checks each field and never reads past the message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace shmq::log {

inline constexpr std::uint16_t kRecordMagic = 0x6c72;  // "rl" in the file
inline constexpr std::uint8_t kRecordVersion = 1;
inline constexpr std::size_t kRecordHeaderSize = 24;
inline constexpr std::size_t kMaxLoggerName = 255;  // longer names are cut to this
inline constexpr std::uint8_t kMaxLevel = 5;        // spdlog's critical (trace = 0 ... critical = 5)

enum class RecordKind : std::uint8_t {
  line = 1,   // a formatted log line
  close = 2,  // the last record of a process that closed its sink cleanly (no text)
};

inline constexpr std::uint8_t kFlagTruncated = 1;  // the text was cut to fit the queue's largest message

struct Record {
  RecordKind kind = RecordKind::line;
  std::uint8_t level = 0;
  std::uint8_t flags = 0;
  std::uint64_t time_unix_ns = 0;
  std::uint64_t thread_id = 0;
  std::string_view logger_name;
  std::string_view text;
};

// The size encode() needs for `record` (its name cut to kMaxLoggerName).
std::size_t encoded_size(const Record& record) noexcept;

// Writes `record` into `out`, which must hold encoded_size(record) bytes; returns the bytes used.
std::size_t encode(const Record& record, std::span<std::byte> out) noexcept;

// Why a message is not a valid record (nullptr when it is one).
struct Decoded {
  Record record;
  const char* error = nullptr;  // e.g. "bad magic", "unknown version 7"
  explicit operator bool() const noexcept { return error == nullptr; }
};

// Reads a record from a message. The views point into `message`: copy them before the message
// is released, and before trusting them twice if the writer is not trusted.
Decoded decode(std::span<const std::byte> message) noexcept;

}  // namespace shmq::log
