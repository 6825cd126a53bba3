#include "checker.hpp"

#include <cstdio>
#include <fstream>

#include "payload.hpp"

namespace shmq::torture {

void fail(const std::string& invariant, const std::string& details) { throw Violation{invariant, details}; }

void History::note(const std::string& line) {
  lines_.push_back("step " + std::to_string(step_) + ": " + line);
  if (echo_) std::fprintf(stderr, "%s\n", lines_.back().c_str());
}

void History::write(const std::filesystem::path& to) const {
  std::ofstream out(to);
  for (const std::string& line : lines_) out << line << '\n';
}

namespace {
std::string n(std::uint64_t v) { return std::to_string(v); }
}  // namespace

void Checker::recovered(std::uint64_t next_sequence, const char* who) {
  recovery_due_ = false;
  durable_check_due_ = false;
  history_.note(std::string(who) + " open recovered the queue: next sequence " + n(next_sequence) +
                ", acknowledged durable " + n(durable_ack_));
  if (next_sequence < durable_ack_) {
    fail("everything acknowledged durable survives a power loss", "recovery continues at sequence " + n(next_sequence) +
                                                                      " but messages below " + n(durable_ack_) +
                                                                      " were acknowledged durable");
  }
  // What was published but not durable is gone: its sequence numbers are given out again.
  published_floor_ = std::min(published_floor_, next_sequence);
  max_received_ = std::min(max_received_, next_sequence);
  delivered_.erase(delivered_.lower_bound(next_sequence), delivered_.end());
  released_may_go_back_ = true;
}

void Checker::repaired(std::uint64_t next_sequence, std::uint64_t read_sequence) {
  history_.note("repair: next sequence " + n(next_sequence) + ", consumer resumes at " + n(read_sequence));
  const std::uint64_t floor = std::max(published_floor_, max_received_);
  if (next_sequence < floor) {
    fail("sequence numbers never go back", "repair_queue continues at sequence " + n(next_sequence) +
                                               " after messages up to " + n(floor) + " were published" +
                                               (max_received_ >= floor ? " and received" : ""));
  }
  if (read_sequence > max_received_ && !knowledge_lost_) {
    fail("no gap", "repair_queue resumes the consumer at " + n(read_sequence) + ", past " + n(max_received_) +
                       ", the first message it never received");
  }
  released_may_go_back_ = true;
}

void Checker::producer_events(const std::vector<Event>& events) {
  for (const Event& e : events) {
    switch (e.kind) {
      case EventKind::producer_opened:
        if (e.x == 1) {
          if (!recovery_due_) fail("recovery only after a power loss", "a producer open recovered the queue");
          recovered(e.seq, "producer");
        } else {
          if (recovery_due_ || durable_check_due_) {  // recovered by an open that failed afterwards
            recovery_due_ = false;
            durable_check_due_ = false;
            recovered(e.seq, "an earlier failed");
          }
          const std::uint64_t floor = std::max(published_floor_, max_received_);
          if (e.seq < floor) {
            fail("sequence numbers never go back", "a restarted producer continues at sequence " + n(e.seq) +
                                                       " after messages up to " + n(floor) + " were published" +
                                                       (max_received_ >= floor ? " and received" : ""));
          }
        }
        producer_expect_ = e.seq;
        break;
      case EventKind::committed:
        if (producer_expect_ != kNone && e.seq != producer_expect_) {
          fail("sequence numbers never go back",
               "the producer committed sequence " + n(e.seq) + " where " + n(producer_expect_) + " was next");
        }
        producer_expect_ = e.seq + 1;
        break;
      case EventKind::published:
        published_floor_ = std::max(published_floor_, e.seq);
        break;
      case EventKind::durable:
        durable_ack_ = std::max(durable_ack_, e.seq);
        break;
      case EventKind::staged_dying:
        for (std::uint64_t s = e.seq; s < e.seq + e.x; ++s) staged_dead_[s] = e.gen;
        history_.note("producer gen " + n(e.gen) + " dies with messages " + n(e.seq) + ".." + n(e.seq + e.x - 1) +
                      " staged");
        break;
      default:
        break;
    }
  }
}

void Checker::received(const Event& e) {
  ++deliveries_;
  if (e.y != 1) fail("every payload intact", "message " + n(e.seq) + " was delivered with a damaged payload");
  if (const auto dead = staged_dead_.find(e.seq); dead != staged_dead_.end() && dead->second == e.gen) {
    fail("nothing staged and unpublished is ever delivered",
         "message " + n(e.seq) + " of producer gen " + n(e.gen) + " was delivered; that producer died with it staged");
  }
  if (consumer_expect_ != kNone && e.seq != consumer_expect_) {
    fail(e.seq > consumer_expect_ ? "no gap" : "sequence numbers strictly increasing",
         "the consumer received sequence " + n(e.seq) + " where " + n(consumer_expect_) + " was due");
  }
  if (const auto before = delivered_.find(e.seq); before != delivered_.end() && before->second.digest != e.x) {
    fail("sequence numbers never reused", "message " + n(e.seq) +
                                              " was delivered again with other content (producer gen " +
                                              n(before->second.gen) + " first, now gen " + n(e.gen) + ")");
  }
  delivered_[e.seq] = {e.gen, e.x};
  consumer_expect_ = e.seq + 1;
  max_received_ = std::max(max_received_, e.seq + 1);
}

void Checker::consumer_events(const std::vector<Event>& events) {
  for (const Event& e : events) {
    switch (e.kind) {
      case EventKind::consumer_opened:
        if (e.x == 1) {
          if (!recovery_due_) fail("recovery only after a power loss", "a consumer open recovered the queue");
          recovered(e.y, "consumer");
        } else if (recovery_due_) {
          // An open that failed after its recovery (an injected EIO) recovered the queue: the
          // next producer's sequence is what is checked against the durable acknowledgement;
          // the consumer may resume back at the checkpoint, as after any recovery.
          recovery_due_ = false;
          durable_check_due_ = true;
          released_may_go_back_ = true;
        }
        if (e.seq > max_received_ && !knowledge_lost_) {
          fail("no gap", "a restarted consumer resumes at sequence " + n(e.seq) + ", past " + n(max_received_) +
                             ", the first message it never received");
        }
        if (e.seq < released_ && !released_may_go_back_) {
          fail("re-deliveries only inside the unreleased window", "a restarted consumer resumes at sequence " +
                                                                      n(e.seq) + " although it had released up to " +
                                                                      n(released_));
        }
        knowledge_lost_ = false;
        consumer_expect_ = e.seq;
        released_ = std::min(released_, e.seq);
        max_received_ = std::max(max_received_, e.seq);
        break;
      case EventKind::received:
        received(e);
        break;
      case EventKind::released:
        released_ = e.seq;
        released_may_go_back_ = false;
        break;
      case EventKind::follow_summary:
        if (e.y != 0) {
          fail("no gap", "the following consumer saw sequence or payload " + n(e.y - 1) + " out of order or damaged");
        }
        consumer_expect_ = e.seq;
        max_received_ = std::max(max_received_, e.seq);
        deliveries_ += e.x;
        break;
      default:
        break;
    }
  }
}

}  // namespace shmq::torture
