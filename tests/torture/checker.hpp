// The recorded history of a run and the invariants checked against it after every step.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "protocol.hpp"

namespace shmq::torture {

// A broken invariant: the run stops, prints `seed S step K: <invariant> : <details>`.
struct Violation {
  std::string invariant;
  std::string details;
};
[[noreturn]] void fail(const std::string& invariant, const std::string& details);

// Every step and what came of it, in order; written next to the queue file when a run fails.
class History {
 public:
  explicit History(bool echo) : echo_(echo) {}
  void set_step(std::uint64_t step) { step_ = step; }
  std::uint64_t step() const { return step_; }
  void note(const std::string& line);
  void write(const std::filesystem::path& to) const;

 private:
  bool echo_;
  std::uint64_t step_ = 0;
  std::vector<std::string> lines_;
};

// What the queue has promised so far, learnt from the agents' events, and the checks of each
// new event against it.
class Checker {
 public:
  explicit Checker(History& history) : history_(history) {}

  void producer_events(const std::vector<Event>& events);
  void consumer_events(const std::vector<Event>& events);
  // The consumer's deliveries since its last event are unknown (it was killed while following
  // without an event per message).
  void consumer_knowledge_lost() { knowledge_lost_ = true; }
  void consumer_gone() { consumer_expect_ = kNone; }
  void producer_gone() { producer_expect_ = kNone; }
  // The power failed: the next open recovers, and must keep everything acknowledged durable.
  void power_lost() { recovery_due_ = true; }
  // repair_queue returned: where the producer and the consumer go on.
  void repaired(std::uint64_t next_sequence, std::uint64_t read_sequence);

  std::uint64_t durable_acknowledged() const { return durable_ack_; }
  std::uint64_t published() const { return published_floor_; }
  std::uint64_t received() const { return max_received_; }
  std::uint64_t deliveries() const { return deliveries_; }

 private:
  static constexpr std::uint64_t kNone = ~std::uint64_t{0};
  void recovered(std::uint64_t next_sequence, const char* who);
  void received(const Event& e);

  History& history_;
  std::uint64_t published_floor_ = 0;  // every message below it was acknowledged published
  std::uint64_t durable_ack_ = 0;      // every message below it was acknowledged durable
  std::uint64_t max_received_ = 0;     // one past the highest sequence the consumer received
  std::uint64_t released_ = 0;         // the consumer's next sequence at its last logged release
  std::uint64_t consumer_expect_ = kNone;
  std::uint64_t producer_expect_ = kNone;
  std::uint64_t deliveries_ = 0;
  bool released_may_go_back_ = false;  // after a repair or a power loss: back to a checkpoint
  bool knowledge_lost_ = false;
  bool recovery_due_ = false;
  // The recovery ran in an open that then failed (an injected EIO after it): its report was never
  // seen, so the next producer's sequence is checked against the durable acknowledgement instead.
  bool durable_check_due_ = false;
  struct Delivered {
    std::uint32_t gen;
    std::uint64_t digest;
  };
  std::map<std::uint64_t, Delivered> delivered_;        // the content each sequence was delivered with
  std::map<std::uint64_t, std::uint32_t> staged_dead_;  // sequence -> generation of a record never published
};

}  // namespace shmq::torture
