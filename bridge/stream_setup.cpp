#include "stream_setup.hpp"

#include <cstdint>

#include <spdlog/spdlog.h>

#include "nats_session.hpp"
#include "shmq_headers.hpp"

namespace shmq_bridge {

StreamCheck ensure_stream(jsCtx* js, const StreamSpec& spec) {
  jsStreamInfo* info = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  natsStatus status = js_GetStreamInfo(&info, js, spec.name.c_str(), nullptr, &js_error);
  if (status == NATS_OK) {
    jsStreamInfo_Destroy(info);
    return StreamCheck::ready;
  }
  if (status != NATS_NOT_FOUND && js_error != JSStreamNotFoundErr) {
    spdlog::warn("stream {}: {}; retrying", spec.name, describe_nats_error(status, js_error));
    return StreamCheck::transient_failure;
  }
  if (!spec.create) return StreamCheck::missing;
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = spec.name.c_str();
  const char* subjects[] = {spec.subject.c_str()};
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  config.Duplicates = std::chrono::duration_cast<std::chrono::nanoseconds>(spec.duplicate_window).count();
  status = js_AddStream(&info, js, &config, nullptr, &js_error);
  if (status != NATS_OK) {
    spdlog::warn("cannot create stream {} yet: {}; retrying", spec.name, describe_nats_error(status, js_error));
    return StreamCheck::transient_failure;
  }
  jsStreamInfo_Destroy(info);
  spdlog::info("created stream {} (file storage, subject {})", spec.name, spec.subject);
  return StreamCheck::ready;
}

std::optional<LastStored> last_stored(jsCtx* js, const std::string& stream, const std::string& subject,
                                      const std::string& instance) {
  natsMsg* message = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  const natsStatus status = js_GetLastMsg(&message, js, stream.c_str(), subject.c_str(), nullptr, &js_error);
  if (status == NATS_NOT_FOUND) return LastStored{};
  if (status != NATS_OK) {
    spdlog::warn("reading the last message of {} in stream {}: {}; retrying", subject, stream,
                 describe_nats_error(status, js_error));
    return std::nullopt;
  }
  LastStored found;
  const char* from = nullptr;
  const char* sequence = nullptr;
  if (natsMsgHeader_Get(message, kInstanceHeader, &from) == NATS_OK && instance == from &&
      natsMsgHeader_Get(message, kSequenceHeader, &sequence) == NATS_OK) {
    found.sequence = parse_sequence(sequence);
    found.stream_sequence = natsMsg_GetSequence(message);
  }
  natsMsg_Destroy(message);
  return found;
}

std::optional<bool> holds_contiguously(jsCtx* js, const std::string& stream, const LastStored& last,
                                       std::uint64_t first, const std::string& instance) {
  const std::uint64_t span = *last.sequence - first;
  if (span >= last.stream_sequence) return false;
  natsMsg* message = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  const natsStatus status = js_GetMsg(&message, js, stream.c_str(), last.stream_sequence - span, nullptr, &js_error);
  if (status == NATS_NOT_FOUND) return false;
  if (status != NATS_OK) {
    spdlog::warn("reading stream {}: {}; retrying", stream, describe_nats_error(status, js_error));
    return std::nullopt;
  }
  const char* from = nullptr;
  const char* sequence = nullptr;
  const bool contiguous = natsMsgHeader_Get(message, kInstanceHeader, &from) == NATS_OK && instance == from &&
                          natsMsgHeader_Get(message, kSequenceHeader, &sequence) == NATS_OK &&
                          parse_sequence(sequence) == first;
  natsMsg_Destroy(message);
  return contiguous;
}

}  // namespace shmq_bridge
