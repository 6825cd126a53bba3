#include "source.hpp"

#include <cerrno>
#include <csignal>

#include "shmq/log/record.hpp"

namespace shmq::logd {
namespace {

constexpr std::size_t kMaxPending = 16384;               // records held per source
constexpr std::size_t kMaxReadPerFill = 4096;            // messages read per source per call
constexpr std::uint64_t kRecordOverhead = 16;            // ring bytes per message beyond its payload (its header)
constexpr std::uint64_t kLivenessEveryNs = 100'000'000;  // at most one system call per idle source per 100 ms

}  // namespace

const char* to_string(SourcePhase phase) noexcept {
  switch (phase) {
    case SourcePhase::active:
      return "active";
    case SourcePhase::ended:
      return "ended";
    case SourcePhase::failed:
      return "failed";
  }
  return "?";
}

std::optional<pid_t> pid_in_queue_name(const std::string& name) {
  // <program>.<pid>.<ns>.q: the pid is the third field from the end.
  const std::size_t q = name.rfind('.');
  if (q == std::string::npos || q == 0) return std::nullopt;
  const std::size_t ns = name.rfind('.', q - 1);
  if (ns == std::string::npos || ns == 0) return std::nullopt;
  const std::size_t pid = name.rfind('.', ns - 1);
  if (pid == std::string::npos) return std::nullopt;
  const std::string digits = name.substr(pid + 1, ns - pid - 1);
  if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return static_cast<pid_t>(std::stol(digits));
}

Source::Source(std::filesystem::path path, std::uint64_t resume_at) : path_(std::move(path)), resume_at_(resume_at) {
  OpenOptions open;
  open.wait.spin = std::chrono::nanoseconds(0);
  consumer_.emplace(Consumer::open(path_, open));
  capacity_ = consumer_->capacity();
}

void Source::fail(const std::string& cause) {
  phase_ = SourcePhase::failed;
  failure_ = cause;
}

void Source::take(const Message& message) {
  ++unreleased_messages_;
  unreleased_bytes_ += message.bytes.size() + kRecordOverhead;
  const log::Decoded d = log::decode(message.bytes);
  if (!d) {
    fail("record " + std::to_string(message.sequence) + " is invalid: " + d.error);
    return;
  }
  if (message.sequence < resume_at_) return;  // shipped before a restart of the shipper
  if (d.record.kind == log::RecordKind::close) {
    closed_cleanly_ = true;
    return;
  }
  closed_cleanly_ = false;
  pending_.push_back({message.sequence, d.record.time_unix_ns, d.record.text});
}

std::size_t Source::fill(std::uint64_t now_unix_ns) {
  if (phase_ != SourcePhase::active || !consumer_) return 0;
  std::size_t read = 0;
  empty_since_.reset();
  try {
    while (read < kMaxReadPerFill && pending_.size() < kMaxPending && !throttled_by_space()) {
      Result<Message> m = consumer_->try_receive();
      if (!m.ok()) {
        empty_since_ = now_unix_ns;
        break;
      }
      ++read;
      take(*m);
      if (phase_ != SourcePhase::active) break;
    }
  } catch (const Error& e) {
    fail(e.cause());
  }
  return read;
}

bool Source::throttled_by_space() const noexcept { return unreleased_bytes_ * 2 >= capacity_; }

bool Source::throttled() const noexcept { return pending_.empty() && throttled_by_space(); }

void Source::check_ended(std::uint64_t now_unix_ns) {
  if (phase_ != SourcePhase::active || !consumer_ || !pending_.empty() || !empty_since_) return;
  if (now_unix_ns < next_liveness_check_) return;
  next_liveness_check_ = now_unix_ns + kLivenessEveryNs;
  try {
    Result<Message> m = consumer_->receive_for(std::chrono::nanoseconds(1));
    if (m.ok()) {
      take(*m);
      empty_since_.reset();
      return;
    }
    if (m.status() == Status::peer_gone) {
      phase_ = SourcePhase::ended;
      return;
    }
    // Vacant but never taken as far as the file says: a process killed between creating its
    // queue and attaching to it, or a queue recovered after a power loss. The pid in the name is
    // the only trace left of its process (pids are reused: a heuristic for these cases only).
    if (!consumer_->producer_attached()) {
      const std::optional<pid_t> pid = pid_in_queue_name(name());
      if (pid && ::kill(*pid, 0) != 0 && errno == ESRCH) {
        never_attached_ = true;
        phase_ = SourcePhase::ended;
      }
    }
  } catch (const Error& e) {
    fail(e.cause());
  }
}

std::uint64_t Source::next_to_ship() const noexcept {
  if (!pending_.empty()) return pending_.front().sequence;
  const std::uint64_t next = consumer_ ? consumer_->next_sequence() : resume_at_;
  return std::max(next, resume_at_);
}

void Source::release_if_shipped() noexcept {
  if (!consumer_ || !pending_.empty() || unreleased_messages_ == 0) return;
  consumer_->release();
  unreleased_messages_ = 0;
  unreleased_bytes_ = 0;
}

std::uint64_t Source::published() const noexcept { return consumer_ ? consumer_->watermarks().published : 0; }

}  // namespace shmq::logd
