// The outcome of a hot-path operation: a Status and, when it is ok, a value.
#pragma once

#include <cassert>
#include <cstdint>
#include <utility>

namespace shmq {

enum class Status : std::uint8_t {
  ok,           // done; value() holds the result
  would_block,  // try_*: the queue is full (producer) or empty (consumer) right now
  timed_out,    // *_for: the deadline passed first
  peer_gone,    // the wait cannot end: the peer role is vacant (it detached or died) and had been
                // taken before; the consumer gets this only once the queue is drained
};

const char* to_string(Status status) noexcept;

template <class T>
class [[nodiscard]] Result {
 public:
  Result(Status status) noexcept : status_(status) { assert(status != Status::ok); }  // NOLINT: implicit on purpose
  Result(T value) noexcept : status_(Status::ok), value_(std::move(value)) {}         // NOLINT
  Status status() const noexcept { return status_; }
  bool ok() const noexcept { return status_ == Status::ok; }
  explicit operator bool() const noexcept { return ok(); }
  // Preconditions: ok().
  T& value() & noexcept {
    assert(ok());
    return value_;
  }
  const T& value() const& noexcept {
    assert(ok());
    return value_;
  }
  T&& value() && noexcept {
    assert(ok());
    return std::move(value_);
  }
  T* operator->() noexcept { return &value(); }
  const T* operator->() const noexcept { return &value(); }
  T& operator*() & noexcept { return value(); }
  const T& operator*() const& noexcept { return value(); }
  T&& operator*() && noexcept { return std::move(*this).value(); }

 private:
  Status status_;
  T value_{};
};

}  // namespace shmq
