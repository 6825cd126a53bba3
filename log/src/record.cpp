#include "shmq/log/record.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace shmq::log {
namespace {

// Header field offsets (see record.hpp).
constexpr std::size_t kMagicAt = 0;
constexpr std::size_t kVersionAt = 2;
constexpr std::size_t kKindAt = 3;
constexpr std::size_t kLevelAt = 4;
constexpr std::size_t kFlagsAt = 5;
constexpr std::size_t kNameLengthAt = 6;
constexpr std::size_t kTimeAt = 8;
constexpr std::size_t kThreadAt = 16;
static_assert(kThreadAt + 8 == kRecordHeaderSize);
static_assert(std::endian::native == std::endian::little, "the record layout is little-endian");

template <class T>
void put(std::byte* out, std::size_t at, T value) noexcept {
  std::memcpy(out + at, &value, sizeof value);
}

template <class T>
T get(const std::byte* in, std::size_t at) noexcept {
  T value;
  std::memcpy(&value, in + at, sizeof value);
  return value;
}

std::size_t name_length(const Record& record) noexcept { return std::min(record.logger_name.size(), kMaxLoggerName); }

}  // namespace

std::size_t encoded_size(const Record& record) noexcept {
  return kRecordHeaderSize + name_length(record) + record.text.size();
}

std::size_t encode(const Record& record, std::span<std::byte> out) noexcept {
  const std::size_t name = name_length(record);
  std::byte* p = out.data();
  put<std::uint16_t>(p, kMagicAt, kRecordMagic);
  put<std::uint8_t>(p, kVersionAt, kRecordVersion);
  put<std::uint8_t>(p, kKindAt, static_cast<std::uint8_t>(record.kind));
  put<std::uint8_t>(p, kLevelAt, record.level);
  put<std::uint8_t>(p, kFlagsAt, record.flags);
  put<std::uint16_t>(p, kNameLengthAt, static_cast<std::uint16_t>(name));
  put<std::uint64_t>(p, kTimeAt, record.time_unix_ns);
  put<std::uint64_t>(p, kThreadAt, record.thread_id);
  if (name > 0) std::memcpy(p + kRecordHeaderSize, record.logger_name.data(), name);
  if (!record.text.empty()) std::memcpy(p + kRecordHeaderSize + name, record.text.data(), record.text.size());
  return kRecordHeaderSize + name + record.text.size();
}

Decoded decode(std::span<const std::byte> message) noexcept {
  Decoded out;
  if (message.size() < kRecordHeaderSize) {
    out.error = "shorter than a record header";
    return out;
  }
  const std::byte* p = message.data();
  if (get<std::uint16_t>(p, kMagicAt) != kRecordMagic) {
    out.error = "not a log record (bad magic)";
    return out;
  }
  if (get<std::uint8_t>(p, kVersionAt) != kRecordVersion) {
    out.error = "unknown record version";
    return out;
  }
  const auto kind = get<std::uint8_t>(p, kKindAt);
  if (kind != static_cast<std::uint8_t>(RecordKind::line) && kind != static_cast<std::uint8_t>(RecordKind::close)) {
    out.error = "unknown record kind";
    return out;
  }
  Record& r = out.record;
  r.kind = static_cast<RecordKind>(kind);
  r.level = get<std::uint8_t>(p, kLevelAt);
  r.flags = get<std::uint8_t>(p, kFlagsAt);
  if (r.level > kMaxLevel) {
    out.error = "level out of range";
    return out;
  }
  if ((r.flags & ~kFlagTruncated) != 0) {
    out.error = "unknown flags";
    return out;
  }
  const std::size_t name = get<std::uint16_t>(p, kNameLengthAt);
  if (name > kMaxLoggerName || name > message.size() - kRecordHeaderSize) {
    out.error = "logger name runs past the record";
    return out;
  }
  r.time_unix_ns = get<std::uint64_t>(p, kTimeAt);
  r.thread_id = get<std::uint64_t>(p, kThreadAt);
  const char* chars = reinterpret_cast<const char*>(p);
  r.logger_name = {chars + kRecordHeaderSize, name};
  r.text = {chars + kRecordHeaderSize + name, message.size() - kRecordHeaderSize - name};
  if (r.kind == RecordKind::close && !r.text.empty()) {
    out.error = "a close record carries text";
    return out;
  }
  return out;
}

}  // namespace shmq::log
