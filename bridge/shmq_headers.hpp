// What `shmq-bridge out` puts on each JetStream message besides the payload, and `in` reads back.
//
//   Nats-Msg-Id:    <instance>-<sequence>   JetStream's de-duplication key
//   Shmq-Instance:  <instance>              16 hex digits: the source queue's instance id (queue_identity.hpp)
//   Shmq-Sequence:  <sequence>              the message's sequence number in the source queue, decimal
//   Nats-Expected-Last-Sequence: <n>        JetStream stores the message only if its last sequence is n
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shmq_bridge {

inline constexpr const char* kMsgIdHeader = "Nats-Msg-Id";
inline constexpr const char* kInstanceHeader = "Shmq-Instance";
inline constexpr const char* kSequenceHeader = "Shmq-Sequence";
inline constexpr const char* kExpectedLastSequenceHeader = "Nats-Expected-Last-Sequence";

inline std::string message_id(std::string_view instance, std::uint64_t sequence) {
  return std::string(instance) + "-" + std::to_string(sequence);
}

// A decimal sequence number, or nullopt when `text` is anything else.
inline std::optional<std::uint64_t> parse_sequence(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace shmq_bridge
