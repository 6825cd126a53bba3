#include "stream_setup.hpp"

#include <spdlog/spdlog.h>

#include "nats_session.hpp"
#include "shmq_headers.hpp"

namespace shmq_bridge {
namespace {

std::vector<std::string> tokens(const std::string& subject) {
  std::vector<std::string> out;
  std::string::size_type start = 0;
  for (;;) {
    const std::string::size_type dot = subject.find('.', start);
    out.push_back(subject.substr(start, dot - start));
    if (dot == std::string::npos) return out;
    start = dot + 1;
  }
}

std::string joined(const std::vector<std::string>& subjects) {
  std::string text;
  for (const std::string& s : subjects) text += (text.empty() ? "" : ", ") + s;
  return text.empty() ? "(none)" : text;
}

}  // namespace

bool subject_matches(const std::string& pattern, const std::string& subject) {
  const std::vector<std::string> p = tokens(pattern);
  const std::vector<std::string> s = tokens(subject);
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (p[i] == ">") return s.size() > i;
    if (i >= s.size() || (p[i] != "*" && p[i] != s[i])) return false;
  }
  return p.size() == s.size();
}

StreamCheck ensure_stream(jsCtx* js, const StreamSpec& spec, StreamState* state) {
  jsStreamInfo* info = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  natsStatus status = js_GetStreamInfo(&info, js, spec.name.c_str(), nullptr, &js_error);
  if (status != NATS_OK && status != NATS_NOT_FOUND && js_error != JSStreamNotFoundErr) {
    spdlog::warn("stream {}: {}; retrying", spec.name, describe_nats_error(status, js_error));
    return StreamCheck::transient_failure;
  }
  if (status != NATS_OK) {
    if (!spec.create) return StreamCheck::missing;
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    config.Name = spec.name.c_str();
    const char* subjects[] = {spec.subject.c_str()};
    config.Subjects = subjects;
    config.SubjectsLen = 1;
    config.Storage = js_FileStorage;
    config.Replicas = spec.replicas;
    config.Duplicates = std::chrono::duration_cast<std::chrono::nanoseconds>(spec.duplicate_window).count();
    status = js_AddStream(&info, js, &config, nullptr, &js_error);
    if (status != NATS_OK) {
      spdlog::warn("cannot create stream {} yet: {}; retrying", spec.name, describe_nats_error(status, js_error));
      return StreamCheck::transient_failure;
    }
    spdlog::info("created stream {} (file storage, subject {}, {} replica(s))", spec.name, spec.subject, spec.replicas);
  }
  StreamState found;
  for (int i = 0; i < info->Config->SubjectsLen; ++i) found.subjects.emplace_back(info->Config->Subjects[i]);
  found.last_sequence = info->State.LastSeq;
  jsStreamInfo_Destroy(info);
  if (!spec.subject.empty()) {
    bool stored = false;
    for (const std::string& pattern : found.subjects) stored = stored || subject_matches(pattern, spec.subject);
    if (!stored) {
      throw FatalError("stream " + spec.name + " stores the subjects " + joined(found.subjects) + ", not " +
                       spec.subject + ": JetStream would store nothing this bridge publishes (" +
                       (spec.create ? "--create-stream never changes an existing stream; " : "") +
                       "pass the stream's subject with --subject, or add " + spec.subject + " to the stream)");
    }
  }
  if (state != nullptr) *state = std::move(found);
  return StreamCheck::ready;
}

StoredOrigin origin_of(natsMsg* message) {
  StoredOrigin found;
  const char* instance = nullptr;
  const char* sequence = nullptr;
  if (natsMsgHeader_Get(message, kInstanceHeader, &instance) == NATS_OK) found.instance = instance;
  if (natsMsgHeader_Get(message, kSequenceHeader, &sequence) == NATS_OK) found.sequence = parse_sequence(sequence);
  found.stream_sequence = natsMsg_GetSequence(message);
  return found;
}

std::optional<StoredOrigin> stored_at(jsCtx* js, const std::string& stream, std::uint64_t stream_sequence) {
  if (stream_sequence == 0) return StoredOrigin{};
  natsMsg* message = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  const natsStatus status = js_GetMsg(&message, js, stream.c_str(), stream_sequence, nullptr, &js_error);
  if (status == NATS_NOT_FOUND) return StoredOrigin{};
  if (status != NATS_OK) {
    spdlog::warn("reading stream {} at {}: {}; retrying", stream, stream_sequence,
                 describe_nats_error(status, js_error));
    return std::nullopt;
  }
  StoredOrigin found = origin_of(message);
  natsMsg_Destroy(message);
  return found;
}

std::optional<StoredOrigin> last_stored(jsCtx* js, const std::string& stream, const std::string& subject) {
  natsMsg* message = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  const natsStatus status = js_GetLastMsg(&message, js, stream.c_str(), subject.c_str(), nullptr, &js_error);
  if (status == NATS_NOT_FOUND) return StoredOrigin{};
  if (status != NATS_OK) {
    spdlog::warn("reading the last message of {} in stream {}: {}; retrying", subject, stream,
                 describe_nats_error(status, js_error));
    return std::nullopt;
  }
  StoredOrigin found = origin_of(message);
  natsMsg_Destroy(message);
  return found;
}

}  // namespace shmq_bridge
