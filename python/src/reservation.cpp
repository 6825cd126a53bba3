#include "reservation.hpp"

#include <pybind11/stl.h>

#include <string>

#include <shmq/error.hpp>

#include "guarded_buffer.hpp"
#include "in_use.hpp"

namespace shmq_python {
namespace {

namespace py = pybind11;
using namespace pybind11::literals;

constexpr const char* kEnded = "the reservation was committed or abandoned: its bytes belong to the queue now";

}  // namespace

ReservationHandle::ReservationHandle(py::object producer, ReservationHandle** outstanding,
                                     shmq::Reservation reservation, std::filesystem::path path,
                                     std::weak_ptr<void> mapping)
    : producer_(std::move(producer)),
      outstanding_(outstanding),
      reservation_(std::move(reservation)),
      path_(std::move(path)),
      mapping_(std::move(mapping)),
      fork_generation_(fork_generation()) {
  *outstanding_ = this;
}

ReservationHandle::~ReservationHandle() {
  if (open_) {
    // A buffer still taken from the data writes into abandoned room; it keeps the ring mapped.
    if (guard_ != nullptr) GuardedBuffer::from(guard_)->orphan(mapping_.lock());
    reservation_.abandon();
    end();
  }
  Py_CLEAR(guard_);
}

py::object ReservationHandle::data() {
  check_same_process(fork_generation_, path_);  // a fork()ed child must not write into the parent's ring
  if (!open_) throw py::value_error(path_.string() + ": " + kEnded);  // as a released memoryview does
  if (guard_ == nullptr) {
    const std::span<std::byte> bytes = reservation_.bytes();
    guard_ = GuardedBuffer::create(bytes.data(), bytes.size(), true, kEnded);
  }
  PyObject* view = GuardedBuffer::from(guard_)->memoryview();
  if (view == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(view);
}

std::uint64_t ReservationHandle::commit(std::optional<std::size_t> used, bool publish) {
  check_open();
  const std::size_t size = used.value_or(reservation_.bytes().size());
  if (size > reservation_.bytes().size()) {
    throw shmq::Error(shmq::ErrorCode::invalid_argument, path_,
                      "commit of " + std::to_string(size) + " bytes into a reservation of " +
                          std::to_string(reservation_.bytes().size()));
  }
  take_back_data();
  const std::uint64_t sequence = reservation_.commit(size, publish ? shmq::Publish::now : shmq::Publish::later);
  end();
  return sequence;
}

void ReservationHandle::abandon() {
  check_open();
  take_back_data();
  reservation_.abandon();
  end();
}

void ReservationHandle::orphan(const std::shared_ptr<void>& owner) {
  if (!open_) return;
  if (guard_ != nullptr) GuardedBuffer::from(guard_)->orphan(owner);
  reservation_.abandon();
  end();
}

void ReservationHandle::check_open() const {
  check_same_process(fork_generation_, path_);
  if (!open_) throw shmq::Error(shmq::ErrorCode::usage, path_, kEnded);
}

void ReservationHandle::take_back_data() {
  if (guard_ != nullptr && !GuardedBuffer::from(guard_)->revoke()) {
    throw py::buffer_error(path_.string() +
                           ": a buffer taken from the reservation's data (a slice, a memoryview of it, a numpy "
                           "array, ...) is still alive; drop it before commit() or abandon()");
  }
}

void ReservationHandle::end() {
  open_ = false;
  if (*outstanding_ == this) *outstanding_ = nullptr;
}

void register_reservation(py::module_& module) {
  py::class_<ReservationHandle>(module, "Reservation", R"(Room for one message in the ring, written in place.

Write into .data (a writable memoryview, no copy), then commit() the bytes used. A reservation
not committed is abandoned: by abandon(), at the end of a `with` block, or when it is garbage
collected. While it is open the producer accepts no other send or reservation. After commit or
abandon, .data raises ValueError; commit() and abandon() raise BufferError while a buffer taken
from .data (a slice of it, a numpy array over it) is still alive.)")
      .def_property_readonly("data", &ReservationHandle::data, "The reserved bytes: a writable memoryview.")
      .def_property_readonly("sequence", &ReservationHandle::sequence, "The sequence number the message will get.")
      .def_property_readonly("open", &ReservationHandle::open, "False once committed or abandoned.")
      .def("__len__", &ReservationHandle::size)
      .def("commit", &ReservationHandle::commit, "size"_a = py::none(), py::kw_only(), "publish"_a = true,
           R"(Commits the first `size` bytes (default: all) as one message; returns its sequence number.

publish=False stages it: Producer.publish() (or the next wait for room) makes staged messages
visible with one store.)")
      .def("abandon", &ReservationHandle::abandon, "Gives the room back: nothing becomes visible.")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__",
           [](ReservationHandle& self, const py::args&) {
             if (self.open()) self.abandon();
           })
      .def("__reduce_ex__", [](const ReservationHandle&, py::handle) -> py::object {
        throw py::type_error(
            "a shmq.Reservation cannot be pickled: it is room in this process's queue ring; commit it here and "
            "send the bytes");
      });
}

}  // namespace shmq_python
