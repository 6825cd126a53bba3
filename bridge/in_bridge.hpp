// `shmq-bridge in`: a JetStream stream into a local queue, each original message exactly once.
//
// The bridge is the local queue's producer and reads the stream through a durable pull consumer
// (acknowledged cumulatively, AckAll, once per fetch). A message is acknowledged to JetStream only after it is
// published in the local queue (after wait_durable for a durable queue). The local queue's sequence numbers are the
// source queue's: the message with Shmq-Sequence S becomes message S of the local queue, so the local queue's next
// sequence number says exactly what it holds. A redelivered message (S below it) is acknowledged and dropped; a message
// ahead of it means JetStream delivered out of order (after a restart of the bridge or the server): the bridge
// repositions its consumer at the consumer's ack floor and reads again. The local queue must therefore start empty with
// the stream's first message being the source queue's message 0 (`shmq-bridge out` on a fresh queue).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "nats_session.hpp"

namespace shmq_bridge {

struct InOptions {
  std::filesystem::path queue;
  std::string stream;
  std::string consumer;  // the durable consumer's name (the bridge owns it: recreated at each start)
  std::string subject;   // the consumer's filter; empty: the stream's only subject
  bool create = false;   // create the local queue when it does not exist
  std::uint64_t capacity = std::uint64_t{64} << 20;  // for --create
  bool durable = false;                              // for --create: a durable queue
  // 0: run until SIGTERM. N: exit once the local queue holds messages 0..N-1, all acknowledged.
  std::uint64_t count = 0;
  std::size_t batch = 256;                // messages per fetch
  std::chrono::seconds ack_wait{30};      // JetStream redelivers what is not acknowledged by then
  std::chrono::seconds stat_interval{0};  // --stat: a JSON line this often (0: none)
};

// Runs until done or stopped; returns the exit status. Throws FatalError and shmq::Error.
int run_in(const InOptions& options, const NatsConfig& nats);

}  // namespace shmq_bridge
