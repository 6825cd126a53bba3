// The one interface every transport implements, so that every row of a table is measured by the
// same code. A transport moves messages one way through "channels"; a ping-pong uses two.
//
// Life cycle: the harness process calls prepare() (create queues, files, socket pairs) and then
// forks two child processes; each child opens its ends with open_sender()/open_receiver() (always
// receivers first, so a transport that waits for its peer's subscription cannot deadlock), moves
// messages, and exits. The harness then calls cleanup().
//
// Fairness rules (see bench/README.md):
// - claim() hands out room for one message; the harness writes only the sequence number into it.
//   A copying transport hands out a staging buffer (filled once) and copies all of it in commit();
//   a zero-copy transport hands out room inside the shared memory itself.
// - receive() returns a view of the next message; the harness reads the sequence number from it.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>

namespace bench {

struct ChannelSpec {
  std::size_t message_size = 0;  // every message of a run has this size
  std::size_t ring_bytes = 0;    // the buffering each transport is given (queue, pipe, socket buffer)
};

// Thrown when a transport cannot run here (package missing, limit too low, peer failed to start):
// the row is reported as unavailable, with the message as the reason.
class Unavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Sender {
 public:
  virtual ~Sender() = default;
  // Room for the next message (of the channel's message size); waits for room if there is none.
  virtual std::span<std::byte> claim() = 0;
  // Sends the claimed message.
  virtual void commit() = 0;
  // Makes everything committed visible to the receiver (for transports that stage messages).
  virtual void flush() {}
};

class Receiver {
 public:
  virtual ~Receiver() = default;
  // Waits for the next message; the view is valid until the next call.
  virtual std::span<const std::byte> receive() = 0;
};

enum class Waiting { busy_poll, blocking };

class Transport {
 public:
  virtual ~Transport() = default;
  virtual std::string name() const = 0;
  virtual Waiting waiting() const = 0;
  virtual bool zero_copy() const { return false; }
  // shmq's own rows fail the run when they break; a peer that breaks is reported unavailable.
  virtual bool is_peer() const { return true; }
  // Rows measured for throughput only (shmq's durable modes: a round trip would time msync).
  virtual bool throughput_only() const { return false; }

  virtual void prepare(int channels, const ChannelSpec& spec) = 0;  // in the harness; may throw Unavailable
  // What the last prepare() had to settle for (a shallower queue than asked, ...), or "".
  virtual std::string note() const { return {}; }
  virtual std::unique_ptr<Sender> open_sender(int channel) = 0;      // in a child
  virtual std::unique_ptr<Receiver> open_receiver(int channel) = 0;  // in a child
  virtual void cleanup() noexcept = 0;                               // in the harness
};

}  // namespace bench
