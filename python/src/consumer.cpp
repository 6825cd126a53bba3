#include "consumer.hpp"

#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <shmq/shmq.hpp>

#include "consumer_handle.hpp"
#include "consumer_iterator.hpp"

namespace shmq_python {
namespace {

namespace py = pybind11;
using namespace pybind11::literals;

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
user. Raises RoleTaken when another process is the consumer, NotAQueue, Incompatible, DamagedFile,
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
      .def("__iter__", &make_consumer_iterator,
           "An iterator whose each step releases the messages the previous steps returned, then waits for the "
           "next; it ends when the producer is gone and the queue is drained.")
      .def("close", &ConsumerHandle::close,
           R"(Detaches from the queue. Messages not released are delivered again to the next consumer.

Their data views stop working; a buffer still taken from one keeps the queue mapped (and the
consumer role held) until it is dropped. Closing twice does nothing.)")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](ConsumerHandle& self, const py::args&) { self.close(); })
      .def("__reduce_ex__",
           [](const ConsumerHandle&, py::handle) -> py::object {
             throw py::type_error(
                 "a shmq.Consumer cannot be pickled: it holds this process's role on the queue; "
                 "open the queue again in the other process");
           })
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
