#include "queue_files.hpp"

#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <filesystem>
#include <string>

#include <shmq/shmq.hpp>

#include "options.hpp"

namespace shmq_python {
namespace {

namespace py = pybind11;
using namespace pybind11::literals;

std::string repr(const shmq::Watermarks& w) {
  return "Watermarks(published=" + std::to_string(w.published) + ", consumed=" + std::to_string(w.consumed) +
         ", durable=" + std::to_string(w.durable) + ", durable_mode=" + (w.durable_mode ? "True" : "False") + ")";
}

std::string repr(const shmq::QueueInfo& q) {
  return "QueueInfo(capacity=" + std::to_string(q.capacity) +
         ", max_message_size=" + std::to_string(q.max_message_size) +
         ", checksums=" + (q.checksums ? "True" : "False") + ", durable=" + (q.durable ? "True" : "False") + ")";
}

}  // namespace

void register_queue_files(py::module_& module) {
  py::class_<shmq::Watermarks>(module, "Watermarks",
                               "How far a queue's messages have got, as sequence numbers: messages below `published` "
                               "are visible to the consumer, below `consumed` were released, below `durable` survive "
                               "an OS crash (durable queues; 0 otherwise).")
      .def_readonly("published", &shmq::Watermarks::published)
      .def_readonly("consumed", &shmq::Watermarks::consumed)
      .def_readonly("durable", &shmq::Watermarks::durable)
      .def_readonly("durable_mode", &shmq::Watermarks::durable_mode)
      .def("__repr__", [](const shmq::Watermarks& w) { return repr(w); });

  py::class_<shmq::RecoveryReport>(module, "RecoveryReport",
                                   "What opening a queue found and did after the machine lost its page cache "
                                   "(ran is False when there was nothing to recover).")
      .def_readonly("ran", &shmq::RecoveryReport::ran)
      .def_readonly("checkpoint", &shmq::RecoveryReport::checkpoint)
      .def_readonly("durable_sequence", &shmq::RecoveryReport::durable_sequence)
      .def_readonly("recovered_messages", &shmq::RecoveryReport::recovered_messages)
      .def_readonly("discarded_bytes", &shmq::RecoveryReport::discarded_bytes)
      .def_readonly("next_sequence", &shmq::RecoveryReport::next_sequence)
      .def_readonly("read_sequence", &shmq::RecoveryReport::read_sequence)
      .def_readonly("stopped_because", &shmq::RecoveryReport::stopped_because);

  py::class_<shmq::QueueInfo>(module, "QueueInfo", "What a queue file is, learnt without attaching to it.")
      .def_readonly("capacity", &shmq::QueueInfo::capacity)
      .def_readonly("max_message_size", &shmq::QueueInfo::max_message_size)
      .def_readonly("checksums", &shmq::QueueInfo::checksums)
      .def_readonly("durable", &shmq::QueueInfo::durable)
      .def("__repr__", [](const shmq::QueueInfo& q) { return repr(q); });

  module.def(
      "create_queue",
      [](const std::filesystem::path& path, std::uint64_t capacity, bool durable, std::optional<bool> checksums,
         std::uint32_t mode) {
        shmq::create_queue(path, to_create_options(QueueOptions{capacity, durable, checksums, mode}));
      },
      "path"_a, py::kw_only(), "capacity"_a = QueueOptions{}.capacity, "durable"_a = false, "checksums"_a = py::none(),
      "mode"_a = QueueOptions{}.mode,
      R"(Creates a queue file without attaching to it (so that producer and consumer may start in
any order). Options as for Producer.create. Raises AlreadyExists when anything is at `path`.)");

  module.def(
      "inspect_queue",
      [](const std::filesystem::path& path, bool allow_other_owner) {
        shmq::OpenOptions options;
        options.allow_other_owner = allow_other_owner;
        return shmq::inspect_queue(path, options);
      },
      "path"_a, py::kw_only(), "allow_other_owner"_a = false,
      "Reads a queue file's parameters without attaching (read-only): a QueueInfo. Raises as Consumer.open.");

  module.def("max_message_size", &shmq::max_message_size, "capacity"_a,
             "The largest message a queue of `capacity` ring bytes takes (capacity - 40).");
}

}  // namespace shmq_python
