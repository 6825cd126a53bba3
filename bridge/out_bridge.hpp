// `shmq-bridge out`: a local queue into a JetStream stream, each message exactly once.
//
// The bridge is the queue's consumer. It connects and checks the stream and its subject at start,
// then takes up to `window` messages from the queue, publishes them asynchronously (Nats-Msg-Id
// "<instance>-<sequence>", headers in shmq_headers.hpp), waits until JetStream has acknowledged
// every one, and only then releases them from the queue. Every publish names the stream sequence
// it expects to follow (Nats-Expected-Last-Sequence), so the stream holds a prefix of each attempt.
// A transient failure (the server gone, a timeout) drops the connection; the bridge reconnects
// with backoff, reads the last message stored on its subject and resends the unreleased messages
// after it. A refusal no retry cures (the stream's limits) is a FatalError with JetStream's reason.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "nats_session.hpp"
#include "stream_setup.hpp"

namespace shmq_bridge {

struct OutOptions {
  std::filesystem::path queue;
  StreamSpec stream;
  // 0: run until SIGTERM. N: exit once the queue's messages 0..N-1 are acknowledged and released
  // (counted over the life of the queue, so a restarted bridge finishes the same job).
  std::uint64_t count = 0;
  std::size_t window = 4096;                    // un-acknowledged publishes at most
  std::chrono::milliseconds ack_timeout{5000};  // a window not acknowledged by then is resent
  std::chrono::seconds stat_interval{0};        // --stat: a JSON line this often (0: none)
};

// Runs until done or stopped; returns the exit status. Throws FatalError and shmq::Error.
int run_out(const OutOptions& options, const NatsConfig& nats);

}  // namespace shmq_bridge
