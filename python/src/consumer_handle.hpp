// The state behind a Python shmq.Consumer: the shmq::Consumer and the Message objects handed to
// Python since the last release, which release() and close() take back (see guarded_buffer.hpp).
#pragma once

#include <pybind11/pybind11.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <shmq/consumer.hpp>

#include "in_use.hpp"

namespace shmq_python {

class ConsumerHandle {
 public:
  static std::unique_ptr<ConsumerHandle> open(const std::filesystem::path& path, bool follow, bool allow_other_owner);

  ConsumerHandle(const ConsumerHandle&) = delete;
  ConsumerHandle& operator=(const ConsumerHandle&) = delete;
  ~ConsumerHandle() { detach(); }  // with the GIL held, and never during a call (the call holds the handle)

  pybind11::object try_receive();                           // a Message, or None when empty
  pybind11::object receive(std::optional<double> timeout);  // None when the timeout passes
  // The iterator's step: releases what the previous steps delivered, then waits for a message.
  // A new reference, or nullptr (no Python error set) when the producer is gone: the end.
  PyObject* next();
  void release();  // throws BufferError, releasing nothing, while a message's buffer is exported
  std::size_t poll(const pybind11::function& on_message, std::optional<std::size_t> max);
  void close();

  bool closed() const noexcept { return !consumer_; }
  std::string path() const { return path_.string(); }
  std::uint64_t next_sequence() const { return consumer().next_sequence(); }
  std::uint64_t capacity() const { return consumer().capacity(); }
  bool producer_attached() const { return consumer().producer_attached(); }
  shmq::Watermarks watermarks() const { return consumer().watermarks(); }
  shmq::RecoveryReport recovery_report() const { return consumer().recovery_report(); }

 private:
  explicit ConsumerHandle(shmq::Consumer consumer);

  shmq::Consumer& consumer() const;  // throws UsageError when closed or in use by another thread
  shmq::Result<shmq::Message> wait(std::optional<std::chrono::nanoseconds> timeout);
  PyObject* deliver(const shmq::Message& message);  // a new reference
  void take_back_delivered();
  void detach();

  std::shared_ptr<shmq::Consumer> consumer_;  // shared: see detach()
  std::filesystem::path path_;
  std::vector<PyObject*> delivered_;  // strong references
  Waiting waiting_;                   // see in_use.hpp
  // A message an abandoned wait received after it was asked to give way (in_use.hpp): the next
  // wait returns it first.
  std::optional<shmq::Message> handed_over_;
  std::uint64_t fork_generation_;  // when it was opened (see fork_generation.hpp)
};

}  // namespace shmq_python
