#include "producer.hpp"

#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <shmq/shmq.hpp>

#include "blocking.hpp"
#include "byte_source.hpp"
#include "errors.hpp"
#include "in_use.hpp"
#include "options.hpp"
#include "reservation.hpp"

namespace shmq_python {
namespace {

namespace py = pybind11;
using namespace pybind11::literals;
using std::chrono::nanoseconds;

constexpr const char* kConsumerGone = "the consumer is gone and the ring is full";

// Owns a shmq::Producer and knows its outstanding reservation.
class ProducerHandle {
 public:
  static std::unique_ptr<ProducerHandle> create(const std::filesystem::path& path, const QueueOptions& queue) {
    return std::unique_ptr<ProducerHandle>(new ProducerHandle(shmq::Producer::create(path, to_create_options(queue))));
  }

  static std::unique_ptr<ProducerHandle> open(const std::filesystem::path& path, bool allow_other_owner) {
    shmq::OpenOptions options;
    options.allow_other_owner = allow_other_owner;
    return std::unique_ptr<ProducerHandle>(new ProducerHandle(shmq::Producer::open(path, options)));
  }

  ProducerHandle(const ProducerHandle&) = delete;
  ProducerHandle& operator=(const ProducerHandle&) = delete;
  ~ProducerHandle() { detach(); }  // with the GIL held, never during a call

  std::optional<std::uint64_t> try_send(py::handle data, bool publish) {
    const ByteSource source(data);
    return sequence_or_none(producer().try_send(source.bytes(), publish ? shmq::Publish::now : shmq::Publish::later));
  }

  std::optional<std::uint64_t> send(py::handle data, std::optional<double> timeout) {
    const ByteSource source(data);
    take_over(waiting_);  // an abandoned wait in another thread gives way (in_use.hpp)
    shmq::Producer& p = producer();
    shmq::Result<std::uint64_t> sent = p.try_send(source.bytes());
    if (sent.status() == shmq::Status::would_block) {
      InUse in_use(waiting_, path_);
      sent = wait_in_slices(to_timeout(timeout), waiting_, path_,
                            [&](nanoseconds slice) { return p.send_for(source.bytes(), slice); });
    }
    return sequence_or_none(sent);
  }

  // Stages each message and publishes them together; when the ring is full, what is staged is
  // published and the producer waits for room (in slices, as send() does).
  // Every message is taken and checked before anything is staged. A batch that fits now is
  // published with one store: all or nothing. One that must wait for room publishes what is
  // staged before each wait, so when it ends with an exception (PeerGone, KeyboardInterrupt, ...)
  // its first messages may be out: nothing stays staged, and the exception says how many went
  // out (`published`, from `first_sequence`), so that a retry can send exactly the rest.
  std::uint64_t send_batch(const py::iterable& messages) {
    std::vector<std::unique_ptr<ByteSource>> sources;
    for (py::handle data : messages) sources.push_back(std::make_unique<ByteSource>(data));
    take_over(waiting_);  // an abandoned wait in another thread gives way (in_use.hpp)
    shmq::Producer& p = producer();
    for (std::size_t i = 0; i < sources.size(); ++i) {
      if (sources[i]->bytes().size() > p.max_message_size()) {
        throw shmq::Error(shmq::ErrorCode::invalid_argument, path_,
                          "message " + std::to_string(i) + " of the batch is " +
                              std::to_string(sources[i]->bytes().size()) + " bytes, larger than this queue takes (" +
                              std::to_string(p.max_message_size()) + " bytes): nothing was sent");
      }
    }
    const std::uint64_t first = p.next_sequence();
    try {
      for (const std::unique_ptr<ByteSource>& source : sources) {
        shmq::Result<std::uint64_t> sent = p.try_send(source->bytes(), shmq::Publish::later);
        if (sent.status() == shmq::Status::would_block) {
          InUse in_use(waiting_, path_);
          sent = wait_in_slices(std::nullopt, waiting_, path_,
                                [&](nanoseconds slice) { return p.send_for(source->bytes(), slice); });
        }
        (void)sequence_or_none(sent);  // no timeout: ok, or peer_gone (thrown)
      }
    } catch (...) {
      p.publish();  // nothing stays staged
      py::error_already_set error = as_python_error(std::current_exception());
      const std::uint64_t published = p.next_sequence() - first;
      error.value().attr("published") = published;
      error.value().attr("first_sequence") = first;
      if (py::hasattr(error.value(), "add_note")) {
        error.value().attr("add_note")("shmq: " + std::to_string(published) + " of the batch's " +
                                       std::to_string(sources.size()) + " messages were published, from sequence " +
                                       std::to_string(first) + "; none is left staged");
      }
      throw error;
    }
    p.publish();
    return first;
  }

  static py::object reserve(const py::object& self, std::size_t size, std::optional<double> timeout) {
    ProducerHandle& h = self.cast<ProducerHandle&>();
    take_over(h.waiting_);
    shmq::Producer& p = h.producer();
    shmq::Result<shmq::Reservation> r = p.try_reserve(size);
    if (r.status() == shmq::Status::would_block) {
      InUse in_use(h.waiting_, h.path_);
      r = wait_in_slices(to_timeout(timeout), h.waiting_, h.path_,
                         [&](nanoseconds slice) { return p.reserve_for(size, slice); });
      // A reservation made after another thread took over is abandoned (its destructor): nothing was sent.
      if (r && h.waiting_.give_way) gave_way(h.path_);
    }
    return h.reservation_or_none(self, std::move(r));
  }

  static py::object try_reserve(const py::object& self, std::size_t size) {
    ProducerHandle& h = self.cast<ProducerHandle&>();
    return h.reservation_or_none(self, h.producer().try_reserve(size));
  }

  void publish() { producer().publish(); }

  std::uint64_t sync() {
    take_over(waiting_);
    shmq::Producer& p = producer();
    InUse in_use(waiting_, path_);
    return run_in_slices([&p] { return p.sync(); });
  }

  void wait_durable(std::uint64_t sequence) {
    take_over(waiting_);
    shmq::Producer& p = producer();
    InUse in_use(waiting_, path_);
    run_in_slices([&p, sequence] {
      p.wait_durable(sequence);
      return 0;
    });
  }

  void close() {
    check_not_in_use(waiting_, path_);
    detach();
  }

  bool closed() const noexcept { return !producer_; }
  std::string path() const { return path_.string(); }
  std::uint64_t next_sequence() const { return producer().next_sequence(); }
  std::size_t max_message_size() const { return producer().max_message_size(); }
  std::uint64_t capacity() const { return producer().capacity(); }
  bool consumer_attached() const { return producer().consumer_attached(); }
  shmq::Watermarks watermarks() const { return producer().watermarks(); }
  shmq::RecoveryReport recovery_report() const { return producer().recovery_report(); }

 private:
  explicit ProducerHandle(shmq::Producer producer)
      : producer_(std::make_shared<shmq::Producer>(std::move(producer))),
        path_(producer_->path()),
        fork_generation_(fork_generation()) {}

  shmq::Producer& producer() const {
    if (!producer_) throw shmq::Error(shmq::ErrorCode::usage, path_, "the producer is closed");
    check_same_process(fork_generation_, path_);
    check_not_in_use(waiting_, path_);
    return *producer_;
  }

  std::optional<std::uint64_t> sequence_or_none(const shmq::Result<std::uint64_t>& sent) const {
    if (sent.status() == shmq::Status::peer_gone) throw PeerGone{path_, kConsumerGone};
    if (!sent) return std::nullopt;
    return *sent;
  }

  py::object reservation_or_none(const py::object& self, shmq::Result<shmq::Reservation> r) {
    if (r.status() == shmq::Status::peer_gone) throw PeerGone{path_, kConsumerGone};
    if (!r) return py::none();
    return py::cast(new ReservationHandle(self, &outstanding_, std::move(*r), path_, producer_),
                    py::return_value_policy::take_ownership);
  }

  // An open reservation is abandoned; a buffer still taken from it keeps the producer (its mapping
  // and its role) until it is released.
  void detach() {
    if (!producer_) return;
    const std::shared_ptr<void> owner = std::move(producer_);
    if (outstanding_ != nullptr) outstanding_->orphan(owner);
  }

  std::shared_ptr<shmq::Producer> producer_;  // shared: see detach()
  std::filesystem::path path_;
  ReservationHandle* outstanding_ = nullptr;  // the open reservation, if any (it clears this when it ends)
  Waiting waiting_;                           // see in_use.hpp
  std::uint64_t fork_generation_;             // when it was opened (see fork_generation.hpp)
};

constexpr const char* kProducerDoc = R"(The producer end of a queue.

Flow control: try_send() and try_reserve() return None when the ring has no room now; send() and
reserve() wait for room, and return None only when their timeout passes; they raise PeerGone when
the consumer is gone while the ring is full. Errors raise shmq.Error subclasses.

A message is visible to the consumer once send() returns (or publish() ran, for staged messages).
Sequence numbers are assigned by the queue: 0, 1, 2, ... for the life of the file.

Waits release the GIL and let signal handlers run every 100 ms (Ctrl-C raises KeyboardInterrupt).
A Producer is a context manager (close() on exit) and is used by one thread at a time.)";

}  // namespace

void register_producer(py::module_& module) {
  py::class_<ProducerHandle>(module, "Producer", kProducerDoc)
      .def_static(
          "create",
          [](const std::filesystem::path& path, std::uint64_t capacity, bool durable, std::optional<bool> checksums,
             std::uint32_t mode, std::uint64_t checkpoint_bytes, double checkpoint_interval) {
            return ProducerHandle::create(
                path, QueueOptions{capacity, durable, checksums, mode, checkpoint_bytes, checkpoint_interval});
          },
          "path"_a, py::kw_only(), "capacity"_a = QueueOptions{}.capacity, "durable"_a = false,
          "checksums"_a = py::none(), "mode"_a = QueueOptions{}.mode, "checkpoint_bytes"_a = 0,
          "checkpoint_interval"_a = QueueOptions{}.checkpoint_interval,
          R"(Creates a new queue file at `path` (never replacing anything) and attaches as its producer.

capacity: ring bytes, a power of two from 4 KiB to 1 TiB (the largest message is capacity - 40).
durable: keep msync checkpoints so the queue survives an OS crash (a real file system, not
/dev/shm). checksums: a checksum on every record (default: on for durable queues). mode: the file's
permission bits, applied exactly. checkpoint_bytes / checkpoint_interval (seconds): when a durable
producer takes checkpoints (0: off). Raises AlreadyExists, InvalidArgument or IoError.)")
      .def_static("open", &ProducerHandle::open, "path"_a, py::kw_only(), "allow_other_owner"_a = false,
                  R"(Attaches to an existing queue as its producer; the sequence numbers continue.

Raises RoleTaken when another process is the producer (its pid is in the message), NotAQueue,
Incompatible, DamagedFile, ForeignOwner or IoError when the file cannot be used (it is left unchanged).)")
      .def("try_send", &ProducerHandle::try_send, "data"_a, py::kw_only(), "publish"_a = true,
           R"(Copies `data` (any bytes-like object) into the ring if there is room now.

Returns the message's sequence number, or None when the ring is full. publish=False stages the
message: publish() makes staged messages visible with one store.)")
      .def("send", &ProducerHandle::send, "data"_a, "timeout"_a = py::none(),
           R"(Copies `data` (any bytes-like object) into the ring, waiting for room; returns its sequence number.

timeout: seconds, or None to wait without limit; returns None when it passes first. Raises
PeerGone when the consumer is gone while the ring is full, InvalidArgument when the message is
larger than max_message_size.)")
      .def("send_batch", &ProducerHandle::send_batch, "messages"_a,
           R"(Sends every bytes-like object of an iterable, published together (waiting for room as send()
does, publishing what is staged before each wait). Returns the first one's sequence number
(next_sequence when the iterable is empty).)")
      .def("try_reserve", &ProducerHandle::try_reserve, "size"_a,
           "Reserves room for a message of up to `size` bytes if there is room now: a Reservation, or None.")
      .def("reserve", &ProducerHandle::reserve, "size"_a, "timeout"_a = py::none(),
           R"(Reserves room for a message of up to `size` bytes, waiting for it: a Reservation to write into
in place (zero-copy) and commit(). Returns None when the timeout passes first; raises PeerGone
as send() does.)")
      .def("publish", &ProducerHandle::publish, "Makes every staged message visible and wakes the consumer.")
      .def("sync", &ProducerHandle::sync,
           R"(Durable queues: publishes, then returns once a checkpoint covers every message sent before:
the returned sequence number S means messages 0..S-1 survive an OS crash. Raises UsageError on a
queue created without durability, IoError (for good) when an msync failed.)")
      .def("wait_durable", &ProducerHandle::wait_durable, "sequence"_a,
           "Durable queues: returns once message `sequence` survives an OS crash (taking a checkpoint if needed).")
      .def("close", &ProducerHandle::close,
           R"(Publishes staged messages and detaches (the consumer sees PeerGone once it has read them).
An open reservation is abandoned. Closing twice does nothing.)")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](ProducerHandle& self, const py::args&) { self.close(); })
      .def("__reduce_ex__",
           [](const ProducerHandle&, py::handle) -> py::object {
             throw py::type_error(
                 "a shmq.Producer cannot be pickled: it holds this process's role on the queue; "
                 "open the queue again in the other process");
           })
      .def_property_readonly("closed", &ProducerHandle::closed)
      .def_property_readonly("path", &ProducerHandle::path, "The queue file's path.")
      .def_property_readonly("next_sequence", &ProducerHandle::next_sequence,
                             "The sequence number the next message will get.")
      .def_property_readonly("max_message_size", &ProducerHandle::max_message_size,
                             "The largest message the queue takes (capacity - 40).")
      .def_property_readonly("capacity", &ProducerHandle::capacity, "The ring's size in bytes.")
      .def_property_readonly("consumer_attached", &ProducerHandle::consumer_attached,
                             "Whether a consumer is attached now (asks the kernel: not for a hot loop).")
      .def_property_readonly("watermarks", &ProducerHandle::watermarks,
                             "Published, consumed and durable positions as the file says now.")
      .def_property_readonly("recovery_report", &ProducerHandle::recovery_report,
                             "What opening the queue had to recover after the machine lost its page cache.");
}

}  // namespace shmq_python
