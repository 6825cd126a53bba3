// Module-level functions on queue files (create_queue, inspect_queue, max_message_size) and the
// plain records the handles return (Watermarks, RecoveryReport, QueueInfo).
#pragma once

#include <pybind11/pybind11.h>

namespace shmq_python {

void register_queue_files(pybind11::module_& module);

}  // namespace shmq_python
