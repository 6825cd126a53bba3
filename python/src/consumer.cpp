#include "consumer.hpp"

#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <shmq/shmq.hpp>

#include "blocking.hpp"
#include "errors.hpp"
#include "in_use.hpp"
#include "message.hpp"

namespace shmq_python {
namespace {

namespace py = pybind11;
using namespace pybind11::literals;

// Owns a shmq::Consumer and the Message objects it handed to Python since the last release.
class ConsumerHandle {
 public:
  static std::unique_ptr<ConsumerHandle> open(const std::filesystem::path& path, bool follow, bool allow_other_owner) {
    shmq::OpenOptions options;
    options.allow_other_owner = allow_other_owner;
    options.wait.return_on_peer_gone = !follow;
    return std::unique_ptr<ConsumerHandle>(new ConsumerHandle(shmq::Consumer::open(path, options)));
  }

  ConsumerHandle(const ConsumerHandle&) = delete;
  ConsumerHandle& operator=(const ConsumerHandle&) = delete;
  ~ConsumerHandle() { detach(); }  // with the GIL held, and never during a call (the call holds the handle)

  py::object try_receive() {
    shmq::Result<shmq::Message> m = consumer().try_receive();
    return m ? deliver(*m) : py::none();
  }

  py::object receive(std::optional<double> timeout) {
    shmq::Result<shmq::Message> m = wait(to_timeout(timeout));
    switch (m.status()) {
      case shmq::Status::ok:
        return deliver(*m);
      case shmq::Status::peer_gone:
        throw PeerGone{path_, "the producer is gone and every message it published has been received"};
      default:
        return py::none();
    }
  }

  // The iterator's step: releases what the previous steps delivered, then waits for a message.
  py::object next() {
    release();
    shmq::Result<shmq::Message> m = wait(std::nullopt);
    if (m.status() == shmq::Status::peer_gone) throw py::stop_iteration();
    return deliver(*m);  // with no timeout the wait ends only with a message or peer_gone
  }

  void release() {
    shmq::Consumer& c = consumer();
    if (delivered_.empty()) return;
    take_back_delivered();
    c.release();
  }

  std::size_t poll(const py::function& on_message, std::optional<std::size_t> max) {
    const std::size_t limit = max.value_or(SIZE_MAX);
    std::size_t delivered = 0;
    while (delivered < limit) {
      shmq::Result<shmq::Message> m = consumer().try_receive();  // the callback may have closed us
      if (!m) break;
      py::object message = deliver(*m);
      ++delivered;
      on_message(message);
    }
    release();
    return delivered;
  }

  void close() {
    check_not_in_use(waiting_, path_);
    detach();
  }

  bool closed() const noexcept { return !consumer_; }
  std::string path() const { return path_.string(); }
  std::uint64_t next_sequence() const { return consumer().next_sequence(); }
  std::uint64_t capacity() const { return consumer().capacity(); }
  bool producer_attached() const { return consumer().producer_attached(); }
  shmq::Watermarks watermarks() const { return consumer().watermarks(); }
  shmq::RecoveryReport recovery_report() const { return consumer().recovery_report(); }

 private:
  explicit ConsumerHandle(shmq::Consumer consumer)
      : consumer_(std::make_shared<shmq::Consumer>(std::move(consumer))), path_(consumer_->path()) {}

  shmq::Consumer& consumer() const {
    if (!consumer_) throw shmq::Error(shmq::ErrorCode::usage, path_, "the consumer is closed");
    check_not_in_use(waiting_, path_);
    return *consumer_;
  }

  // Tries at once with the GIL held (the common case when data flows), then waits without it.
  shmq::Result<shmq::Message> wait(std::optional<std::chrono::nanoseconds> timeout) {
    shmq::Consumer& c = consumer();
    shmq::Result<shmq::Message> m = c.try_receive();
    if (m.status() != shmq::Status::would_block) return m;
    InUse in_use(waiting_, path_);
    return wait_in_slices(timeout, [&c](std::chrono::nanoseconds slice) { return c.receive_for(slice); });
  }

  py::object deliver(const shmq::Message& m) {
    PyObject* message = make_message(m);
    delivered_.push_back(message);  // the handle's reference, dropped at release
    return py::reinterpret_borrow<py::object>(message);
  }

  // Ends Python's access to every delivered message. Throws BufferError, so that the ring is not
  // released, while a buffer taken from one of them is still exported.
  void take_back_delivered() {
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

  // Python's access to the delivered messages ends here; a buffer still exported from one keeps
  // the consumer (its mapping and its role) until it is released.
  void detach() {
    if (!consumer_) return;
    const std::shared_ptr<void> owner = std::move(consumer_);
    for (PyObject* message : delivered_) {
      orphan_message(message, owner);
      Py_DECREF(message);
    }
    delivered_.clear();
  }

  std::shared_ptr<shmq::Consumer> consumer_;  // shared: see detach()
  std::filesystem::path path_;
  std::vector<PyObject*> delivered_;  // strong references
  bool waiting_ = false;              // see in_use.hpp
};

constexpr const char* kConsumerDoc = R"(The consumer end of a queue: receives messages in place, without copying.

A received Message is a view of its bytes in the ring, valid until it is released: by release(),
by poll() when it returns, or by the next step of a `for msg in consumer:` loop. Using msg.data
after that raises ValueError instead of reading bytes the producer may have reused. Copy what you
keep: bytes(msg.data). release() raises BufferError (and releases nothing) while a buffer taken
from a message's data, such as a slice of it, is still alive.

Flow control: try_receive() returns None when the queue is empty; receive(timeout) returns None
when the timeout passes; once the producer is gone (detached or died) and every message it
published has been received, receive() raises PeerGone and iteration stops, like a file reaching
its end. Errors raise shmq.Error subclasses.

Delivery is at-least-once: a consumer that closes or dies without releasing a message gets it
again when the queue is next opened. Sequence numbers identify duplicates.

A Consumer is a context manager (close() on exit) and is used by one thread at a time.)";

}  // namespace

void register_consumer(py::module_& module) {
  py::class_<ConsumerHandle>(module, "Consumer", kConsumerDoc)
      .def_static("open", &ConsumerHandle::open, "path"_a, py::kw_only(), "follow"_a = false,
                  "allow_other_owner"_a = false,
                  R"(Attaches to an existing queue as its consumer.

follow: keep waiting when the producer is gone, for the next one (like `tail -f`); receive()
never raises PeerGone and iteration never ends. allow_other_owner: accept a file owned by another
user. Raises RoleTaken when another process is the consumer, NotAQueue, Incompatible, Damaged,
ForeignOwner or IoError when the file cannot be used (it is left unchanged).)")
      .def("try_receive", &ConsumerHandle::try_receive,
           "The next message if one is available now, else None. Does not wait.")
      .def("receive", &ConsumerHandle::receive, "timeout"_a = py::none(),
           R"(Waits for the next message and returns it.

timeout: seconds, or None to wait without limit. Returns None when the timeout passes first.
Raises PeerGone when the producer is gone and every message it published has been received.
The wait releases the GIL and lets signal handlers run every 100 ms (Ctrl-C raises
KeyboardInterrupt). Release what you hold before waiting: a producer waiting for room that only
your unreleased messages fill waits for ever.)")
      .def("release", &ConsumerHandle::release,
           R"(Hands every message received so far back to the producer in one store.

Their data views stop working (ValueError). Raises BufferError, releasing nothing, while a buffer
taken from one message's data is still alive.)")
      .def("poll", &ConsumerHandle::poll, "callback"_a, "max"_a = py::none(),
           R"(Calls callback(msg) for each message available now (up to max), then releases them.

Returns how many were delivered (0 when the queue is empty); does not wait. If the callback
raises, the exception propagates and the messages delivered so far stay unreleased until the next
release().)")
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", &ConsumerHandle::next,
           "Releases the message the previous step returned, then waits for the next (StopIteration when "
           "the producer is gone and the queue is drained).")
      .def("close", &ConsumerHandle::close,
           R"(Detaches from the queue. Messages not released are delivered again to the next consumer.

Their data views stop working; a buffer still taken from one keeps the queue mapped (and the
consumer role held) until it is dropped. Closing twice does nothing.)")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](ConsumerHandle& self, const py::args&) { self.close(); })
      .def_property_readonly("closed", &ConsumerHandle::closed)
      .def_property_readonly("path", &ConsumerHandle::path, "The queue file's path.")
      .def_property_readonly("next_sequence", &ConsumerHandle::next_sequence,
                             "The sequence number the next message will have.")
      .def_property_readonly("capacity", &ConsumerHandle::capacity, "The ring's size in bytes.")
      .def_property_readonly("producer_attached", &ConsumerHandle::producer_attached,
                             "Whether a producer is attached now (asks the kernel: not for a hot loop).")
      .def_property_readonly("watermarks", &ConsumerHandle::watermarks,
                             "Published, consumed and durable positions as the file says now.")
      .def_property_readonly("recovery_report", &ConsumerHandle::recovery_report,
                             "What opening the queue had to recover after the machine lost its page cache.");
}

}  // namespace shmq_python
