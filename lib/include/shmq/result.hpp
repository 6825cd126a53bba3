// The outcome of a hot-path operation: a Status and, when it is ok, a value.
#pragma once

#include <cassert>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <variant>

namespace shmq {

enum class Status : std::uint8_t {
  ok,           // done; value() holds the result
  would_block,  // try_*: the queue is full (producer) or empty (consumer) right now
  timed_out,    // *_for: the deadline passed first
  peer_gone,    // the wait cannot end: the peer role is vacant (it detached or died) and had been
                // taken before; the consumer gets this only once the queue is drained
};

const char* to_string(Status status) noexcept;

// Holds a Status, or a T when the status is ok. T need not be default-constructible; a Result of
// a trivially copyable T is itself trivially copyable (it travels in registers).
template <class T>
class [[nodiscard]] Result {
 public:
  Result(Status status) noexcept : state_(status) { assert(status != Status::ok); }  // NOLINT: implicit on purpose
  Result(T value) noexcept(std::is_nothrow_move_constructible_v<T>)                  // NOLINT: implicit on purpose
      : state_(std::in_place_index<1>, std::move(value)) {}
  Status status() const noexcept { return state_.index() == 0 ? *std::get_if<0>(&state_) : Status::ok; }
  bool ok() const noexcept { return state_.index() == 1; }
  explicit operator bool() const noexcept { return ok(); }
  // Preconditions: ok().
  T& value() & noexcept {
    assert(ok());
    return *std::get_if<1>(&state_);
  }
  const T& value() const& noexcept {
    assert(ok());
    return *std::get_if<1>(&state_);
  }
  T&& value() && noexcept {
    assert(ok());
    return std::move(*std::get_if<1>(&state_));
  }
  T* operator->() noexcept { return &value(); }
  const T* operator->() const noexcept { return &value(); }
  T& operator*() & noexcept { return value(); }
  const T& operator*() const& noexcept { return value(); }
  T&& operator*() && noexcept { return std::move(*this).value(); }

 private:
  std::variant<Status, T> state_;
};

}  // namespace shmq
