// shmq.Reservation: room for one message reserved in the ring, written in place through a
// writable memoryview, then committed (or abandoned).
#pragma once

#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>

#include <shmq/producer.hpp>

namespace shmq_python {

class ReservationHandle {
 public:
  // `producer` is the Python Producer (kept alive while this lives); `outstanding` is its record
  // of the reservation in progress, pointed at this one until it ends; `mapping` owns the ring.
  ReservationHandle(pybind11::object producer, ReservationHandle** outstanding, shmq::Reservation reservation,
                    std::filesystem::path path, std::weak_ptr<void> mapping);
  ReservationHandle(const ReservationHandle&) = delete;
  ReservationHandle& operator=(const ReservationHandle&) = delete;
  ~ReservationHandle();  // abandons a reservation still open

  pybind11::object data();  // a writable memoryview of the reserved bytes
  std::uint64_t sequence() const noexcept { return reservation_.sequence(); }
  std::size_t size() const noexcept { return reservation_.bytes().size(); }
  bool open() const noexcept { return open_; }
  std::uint64_t commit(std::optional<std::size_t> used, bool publish);
  void abandon();

  // For a closing producer: abandons, and a buffer still exported keeps `owner` (the mapping) alive.
  void orphan(const std::shared_ptr<void>& owner);

 private:
  void check_open() const;
  void take_back_data();  // throws BufferError while a buffer of the data is exported
  void end();

  pybind11::object producer_;
  ReservationHandle** outstanding_;
  shmq::Reservation reservation_;
  std::filesystem::path path_;
  std::weak_ptr<void> mapping_;
  PyObject* guard_ = nullptr;  // a GuardedBuffer over the reserved bytes, made on first access
  bool open_ = true;
  std::uint64_t fork_generation_;  // when it was made (see fork_generation.hpp)
};

void register_reservation(pybind11::module_& module);

}  // namespace shmq_python
