// The JetStream stream the bridge writes to or reads from: checked, or created when asked.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <nats/nats.h>

namespace shmq_bridge {

struct StreamSpec {
  std::string name;
  std::string subject;                           // the subject `out` publishes on
  bool create = false;                           // --create-stream: file storage, this subject
  std::chrono::milliseconds duplicate_window{};  // for a created stream; 0: the server's default (2 min)
};

enum class StreamCheck { ready, missing, transient_failure };

// ready once the stream exists (created if spec.create); missing when it does not and is not to
// be created; transient_failure when the server did not answer (try again on a new session).
// Every other failure (JetStream still starting after a restart, ...) is logged and transient.
StreamCheck ensure_stream(jsCtx* js, const StreamSpec& spec);

// What the last message stored on a subject says about the source queue.
struct LastStored {
  // Its Shmq-Sequence when it came from the queue asked about (Shmq-Instance); nullopt when the
  // subject holds no message or its last one came from elsewhere.
  std::optional<std::uint64_t> sequence;
  std::uint64_t stream_sequence = 0;  // where the stream stored it
};
// nullopt when the server did not answer or failed (logged; try again on a new session).
std::optional<LastStored> last_stored(jsCtx* js, const std::string& stream, const std::string& subject,
                                      const std::string& instance);

// Whether the stream holds the source messages first..last->sequence one after the other, ending
// at `last` (the message `first` positions before it carries Shmq-Sequence `first` from `instance`).
// nullopt when the server did not answer or failed (logged).
std::optional<bool> holds_contiguously(jsCtx* js, const std::string& stream, const LastStored& last,
                                       std::uint64_t first, const std::string& instance);

}  // namespace shmq_bridge
