#include "spool_writer.hpp"

#include <pybind11/eval.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include <spdlog/details/os.h>

#include <shmq/error.hpp>
#include <shmq/log/record.hpp>
#include <shmq/log/sink.hpp>

namespace shmq_python {
namespace {

namespace py = pybind11;
using namespace pybind11::literals;

shmq::log::FullPolicy to_full_policy(const std::string& name) {
  if (name == "block") return shmq::log::FullPolicy::block;
  if (name == "drop") return shmq::log::FullPolicy::drop;
  throw py::value_error("when_full must be 'block' or 'drop', not '" + name + "'");
}

std::chrono::nanoseconds to_bound(double seconds) {
  if (std::isnan(seconds) || seconds < 0) throw py::value_error("block_bound must be a number of seconds >= 0");
  const double clamped = std::min(seconds, 1e9);
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(clamped));
}

std::uint64_t now_unix_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// Thread-safe: a mutex serialises the writer (taken with the GIL released, so a thread that
// blocks on a full queue never stops the others from running Python).
class SpoolWriterHandle {
 public:
  explicit SpoolWriterHandle(const shmq::log::SinkOptions& options)
      : writer_(std::make_unique<shmq::log::SpoolWriter>(options)), queue_path_(writer_->queue_path()) {}

  ~SpoolWriterHandle() {
    // The close record may wait up to block_bound for room: let other threads run meanwhile.
    if (writer_ && Py_IsInitialized() && PyGILState_Check()) {
      py::gil_scoped_release unlocked;
      const std::lock_guard lock(mutex_);
      writer_.reset();
    }
  }

  bool write(int level, const std::string& logger_name, const std::string& text,
             std::optional<std::uint64_t> time_unix_ns, std::optional<std::uint64_t> thread_id) {
    if (level < 0 || level > shmq::log::kMaxLevel) {
      throw py::value_error("level must be 0 (trace) ... 5 (critical), not " + std::to_string(level));
    }
    shmq::log::Record record;
    record.level = static_cast<std::uint8_t>(level);
    record.time_unix_ns = time_unix_ns ? *time_unix_ns : now_unix_ns();
    record.thread_id = thread_id ? *thread_id : static_cast<std::uint64_t>(spdlog::details::os::thread_id());
    record.logger_name = logger_name;
    record.text = text;
    py::gil_scoped_release unlocked;
    const std::lock_guard lock(mutex_);
    return open_writer().write(record);
  }

  void flush() {
    py::gil_scoped_release unlocked;
    const std::lock_guard lock(mutex_);
    open_writer().flush();
  }

  void close() {
    py::gil_scoped_release unlocked;
    const std::lock_guard lock(mutex_);
    if (!writer_) return;
    dropped_at_close_ = writer_->dropped();
    writer_.reset();
  }

  std::uint64_t dropped() {
    py::gil_scoped_release unlocked;
    const std::lock_guard lock(mutex_);
    return writer_ ? writer_->dropped() : dropped_at_close_;
  }

  bool closed() {
    const std::lock_guard lock(mutex_);
    return !writer_;
  }

  std::string queue_path() const { return queue_path_.string(); }

 private:
  shmq::log::SpoolWriter& open_writer() {
    if (!writer_) throw shmq::Error(shmq::ErrorCode::usage, queue_path_, "the spool writer is closed");
    return *writer_;
  }

  std::mutex mutex_;
  std::unique_ptr<shmq::log::SpoolWriter> writer_;
  std::filesystem::path queue_path_;
  std::uint64_t dropped_at_close_ = 0;
};

constexpr const char* kSpoolWriterDoc =
    R"(A queue of this process's own in a crash-safe logging spool directory, shipped into a log file by
shmq-logd (the Python side of the C++ spdlog spool sink):

    with shmq.SpoolWriter('/run/app-logs') as writer:
        writer.write(2, 'app', 'order 17 filled')   # level 2: info

Once write() returns the record is in a shared mapping: kill -9 of this process loses nothing.
The queue `<program>.<pid>.<start-ns>.q` is created in `spool` (which must exist); `program`
defaults to this program's name. When the queue is full (shmq-logd down or slow), `when_full`
decides: 'drop' drops the record at once, 'block' waits up to `block_bound` seconds for room and
then drops (and later writes drop at once until one fits again). Dropped records are counted
(`dropped`) and reported by shmq-logd. With `durable=True` (a spool on a real file system) records
also survive power loss, and flush() returns once every record written before is durable.

Thread-safe; write() and flush() release the GIL. A context manager (close() on exit); close()
publishes a close record so that shmq-logd reports a clean end.)";

// SpoolHandler: a logging.Handler, defined in Python over SpoolWriter.
constexpr const char* kSpoolHandlerSource = R"PY(
import logging as _logging


def _spool_level(levelno):
    if levelno < _logging.DEBUG:
        return 0
    if levelno < _logging.INFO:
        return 1
    if levelno < _logging.WARNING:
        return 2
    if levelno < _logging.ERROR:
        return 3
    if levelno < _logging.CRITICAL:
        return 4
    return 5


class SpoolHandler(_logging.Handler):
    """A logging.Handler that writes each record into this process's queue in a crash-safe logging
    spool directory, from where shmq-logd ships it into a log file. Once the logging call returns
    the line is in a shared mapping: kill -9 of the process loses nothing.

        handler = shmq.SpoolHandler('/run/app-logs')
        handler.setFormatter(logging.Formatter('%(asctime)s %(levelname)s %(name)s %(message)s'))
        logging.getLogger().addHandler(handler)

    The options are SpoolWriter's. Each record carries the line formatted by the handler's
    formatter, the level (Python's levels mapped to spdlog's: below DEBUG trace 0, DEBUG 1, INFO 2,
    WARNING 3, ERROR 4, CRITICAL and above 5), record.created, record.thread and the logger name.
    flush() is the writer's flush(); close() closes the writer.
    """

    def __init__(self, spool, program=None, capacity=4 << 20, when_full="block", block_bound=0.01,
                 durable=False, level=_logging.NOTSET):
        # The writer first: a handler whose writer failed must not reach logging's handler list.
        self._writer = SpoolWriter(spool, program=program, capacity=capacity, when_full=when_full,
                                   block_bound=block_bound, durable=durable)
        super().__init__(level)

    @property
    def writer(self):
        """The SpoolWriter this handler writes through."""
        return self._writer

    @property
    def queue_path(self):
        """This process's queue in the spool."""
        return self._writer.queue_path

    @property
    def dropped(self):
        """How many records this process dropped (queue full)."""
        return self._writer.dropped

    def emit(self, record):
        """Formats the record and writes it into the spool; errors go to handleError()."""
        try:
            text = self.format(record)
            self._writer.write(_spool_level(record.levelno), record.name, text,
                              time_unix_ns=max(0, round(record.created * 1e9)),
                              thread_id=record.thread or 0)
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def flush(self):
        """The writer's flush(): with a durable spool, returns once every record is durable."""
        self.acquire()
        try:
            if not self._writer.closed:
                self._writer.flush()
        finally:
            self.release()

    def close(self):
        """Closes the writer (a close record tells shmq-logd of a clean end), then the handler."""
        self.acquire()
        try:
            self._writer.close()
        finally:
            self.release()
        super().close()

    def __repr__(self):
        return f"<SpoolHandler {self._writer.queue_path} ({_logging.getLevelName(self.level)})>"
)PY";

}  // namespace

void register_spool_writer(py::module_& module) {
  py::class_<SpoolWriterHandle>(module, "SpoolWriter", kSpoolWriterDoc)
      .def(py::init([](const std::filesystem::path& spool, std::optional<std::string> program, std::uint64_t capacity,
                       const std::string& when_full, double block_bound, bool durable) {
             shmq::log::SinkOptions options;
             options.spool = spool;
             options.program = program.value_or(std::string());
             options.capacity = capacity;
             options.when_full = to_full_policy(when_full);
             options.block_bound = to_bound(block_bound);
             options.durable = durable;
             py::gil_scoped_release unlocked;  // creating the queue does I/O
             return std::make_unique<SpoolWriterHandle>(options);
           }),
           "spool"_a, "program"_a = py::none(), "capacity"_a = std::uint64_t{4} << 20, "when_full"_a = "block",
           "block_bound"_a = 0.01, "durable"_a = false)
      .def("write", &SpoolWriterHandle::write, "level"_a, "logger_name"_a, "text"_a, "time_unix_ns"_a = py::none(),
           "thread_id"_a = py::none(),
           R"(Writes one log record: `level` is spdlog's level number (trace 0, debug 1, info 2, warn 3,
error 4, critical 5), `text` the formatted line without its newline (cut to the queue's largest
message if need be). time_unix_ns defaults to now, thread_id to this thread's OS id. Returns True
when the record was published, False when it was dropped (queue full; see when_full).)")
      .def("flush", &SpoolWriterHandle::flush,
           "Durable spool: returns once every record written before is durable. Otherwise does nothing.")
      .def("close", &SpoolWriterHandle::close,
           "Publishes a close record (waiting up to block_bound for room) and detaches. Idempotent.")
      .def("__enter__", [](py::object self) { return self; })
      .def("__exit__", [](SpoolWriterHandle& self, const py::args&) { self.close(); })
      .def_property_readonly("queue_path", &SpoolWriterHandle::queue_path, "This process's queue in the spool.")
      .def_property_readonly("dropped", &SpoolWriterHandle::dropped, "How many records this process dropped.")
      .def_property_readonly("closed", &SpoolWriterHandle::closed);

  py::exec(kSpoolHandlerSource, module.attr("__dict__"));
}

}  // namespace shmq_python
