#include "consumer_handle.hpp"

#include <cstdint>
#include <utility>

#include <shmq/error.hpp>

#include "blocking.hpp"
#include "errors.hpp"
#include "in_use.hpp"
#include "message.hpp"

namespace shmq_python {

namespace py = pybind11;

std::unique_ptr<ConsumerHandle> ConsumerHandle::open(const std::filesystem::path& path, bool follow,
                                                     bool allow_other_owner) {
  shmq::OpenOptions options;
  options.allow_other_owner = allow_other_owner;
  options.wait.return_on_peer_gone = !follow;
  return std::unique_ptr<ConsumerHandle>(new ConsumerHandle(shmq::Consumer::open(path, options)));
}

ConsumerHandle::ConsumerHandle(shmq::Consumer consumer)
    : consumer_(std::make_shared<shmq::Consumer>(std::move(consumer))),
      path_(consumer_->path()),
      fork_generation_(fork_generation()) {}

py::object ConsumerHandle::try_receive() {
  shmq::Result<shmq::Message> m = consumer().try_receive();
  return m ? py::reinterpret_steal<py::object>(deliver(*m)) : py::none();
}

py::object ConsumerHandle::receive(std::optional<double> timeout) {
  shmq::Result<shmq::Message> m = wait(to_timeout(timeout));
  switch (m.status()) {
    case shmq::Status::ok:
      return py::reinterpret_steal<py::object>(deliver(*m));
    case shmq::Status::peer_gone:
      throw PeerGone{path_, "the producer is gone and every message it published has been received"};
    default:
      return py::none();
  }
}

PyObject* ConsumerHandle::next() {
  release();
  shmq::Result<shmq::Message> m = wait(std::nullopt);
  if (m.status() == shmq::Status::peer_gone) return nullptr;
  return deliver(*m);  // with no timeout the wait ends only with a message or peer_gone
}

void ConsumerHandle::release() {
  shmq::Consumer& c = consumer();
  if (delivered_.empty()) return;
  take_back_delivered();
  c.release();
}

std::size_t ConsumerHandle::poll(const py::function& on_message, std::optional<std::size_t> max) {
  const std::size_t limit = max.value_or(SIZE_MAX);
  std::size_t delivered = 0;
  while (delivered < limit) {
    shmq::Result<shmq::Message> m = consumer().try_receive();  // the callback may have closed us
    if (!m) break;
    const py::object message = py::reinterpret_steal<py::object>(deliver(*m));
    ++delivered;
    // A vectorcall: pybind11's function call would build an argument tuple for every message.
    PyObject* result = PyObject_CallOneArg(on_message.ptr(), message.ptr());
    if (result == nullptr) throw py::error_already_set();
    Py_DECREF(result);
  }
  release();
  return delivered;
}

void ConsumerHandle::close() {
  check_not_in_use(waiting_, path_);
  detach();
}

shmq::Consumer& ConsumerHandle::consumer() const {
  if (!consumer_) throw shmq::Error(shmq::ErrorCode::usage, path_, "the consumer is closed");
  check_same_process(fork_generation_, path_);
  check_not_in_use(waiting_, path_);
  return *consumer_;
}

// Tries at once with the GIL held (the common case when data flows), then waits without it.
shmq::Result<shmq::Message> ConsumerHandle::wait(std::optional<std::chrono::nanoseconds> timeout) {
  take_over(waiting_);  // an abandoned wait in another thread gives way (in_use.hpp)
  shmq::Consumer& c = consumer();
  if (handed_over_) return *std::exchange(handed_over_, std::nullopt);
  shmq::Result<shmq::Message> m = c.try_receive();
  if (m.status() != shmq::Status::would_block) return m;
  InUse in_use(waiting_, path_);
  m = wait_in_slices(timeout, waiting_, path_, [&c](std::chrono::nanoseconds slice) { return c.receive_for(slice); });
  if (m && waiting_.give_way) {  // received after another thread took over: it gets the message
    handed_over_ = *m;
    gave_way(path_);
  }
  return m;
}

PyObject* ConsumerHandle::deliver(const shmq::Message& m) {
  PyObject* message = make_message(m);
  delivered_.push_back(message);  // the handle's reference, dropped at release
  Py_INCREF(message);             // the caller's
  return message;
}

// Ends Python's access to every delivered message. Throws BufferError, so that the ring is not
// released, while a buffer taken from one of them is still exported.
void ConsumerHandle::take_back_delivered() {
  std::size_t kept = 0;
  for (PyObject* message : delivered_) {
    if (release_message(message)) {
      Py_DECREF(message);
    } else {
      delivered_[kept++] = message;
    }
  }
  delivered_.resize(kept);
  if (kept > 0) {
    throw py::buffer_error(path_.string() + ": cannot release message " +
                           std::to_string(message_sequence(delivered_.front())) +
                           ": a buffer taken from its data (a slice, a memoryview of it, a numpy array, ...) is "
                           "still alive; drop it, or copy the bytes with bytes(...) before releasing");
  }
}

// Python's access to the delivered messages ends here; a buffer still exported from one keeps the
// consumer (its mapping and its role) until it is released.
void ConsumerHandle::detach() {
  if (!consumer_) return;
  const std::shared_ptr<void> owner = std::move(consumer_);
  for (PyObject* message : delivered_) {
    orphan_message(message, owner);
    Py_DECREF(message);
  }
  delivered_.clear();
}

}  // namespace shmq_python
