// The JetStream stream the bridge writes to or reads from: checked, or created when asked.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nats/nats.h>

namespace shmq_bridge {

struct StreamSpec {
  std::string name;
  std::string subject;                           // the subject `out` publishes on (empty for `in`)
  bool create = false;                           // --create-stream: file storage, this subject
  std::chrono::milliseconds duplicate_window{};  // for a created stream; 0: the server's default (2 min)
  int replicas = 1;                              // for a created stream
};

enum class StreamCheck { ready, missing, transient_failure };

// What the bridge needs to know of a stream that exists.
struct StreamState {
  std::vector<std::string> subjects;
  std::uint64_t last_sequence = 0;  // the stream's last sequence number (0: never stored anything)
};

// ready once the stream exists (created if spec.create) and stores spec.subject; missing when it
// does not exist and is not to be created; transient_failure when the server did not answer (try
// again on a new session). Throws FatalError when the stream exists but does not store
// spec.subject (a publish would reach no stream), also with --create-stream: an existing stream's
// configuration is never changed.
StreamCheck ensure_stream(jsCtx* js, const StreamSpec& spec, StreamState* state = nullptr);

// Whether a NATS subject matches a stream's subject pattern (`*` one token, `>` the rest).
bool subject_matches(const std::string& pattern, const std::string& subject);

// What a message stored in the stream says about its source queue (shmq_headers.hpp).
struct StoredOrigin {
  std::string instance;                   // Shmq-Instance; empty when absent
  std::optional<std::uint64_t> sequence;  // Shmq-Sequence; nullopt when absent or not a number
  std::uint64_t stream_sequence = 0;      // where the stream stored it
};
StoredOrigin origin_of(natsMsg* message);

// The message the stream stores at `stream_sequence`: nullopt when the server did not answer
// (logged); an origin with stream_sequence 0 when there is no message there (deleted or beyond).
std::optional<StoredOrigin> stored_at(jsCtx* js, const std::string& stream, std::uint64_t stream_sequence);

// The last message stored on a subject: nullopt when the server did not answer (logged); an
// origin with stream_sequence 0 when the subject holds no message.
std::optional<StoredOrigin> last_stored(jsCtx* js, const std::string& stream, const std::string& subject);

}  // namespace shmq_bridge
