// shmq.SpoolWriter: a process's queue in a crash-safe logging spool (shmq::log::SpoolWriter),
// and shmq.SpoolHandler, a logging.Handler that writes through one.
#pragma once

#include <pybind11/pybind11.h>

namespace shmq_python {

// Adds SpoolWriter and SpoolHandler to the module (SpoolHandler is defined in Python).
void register_spool_writer(pybind11::module_& module);

}  // namespace shmq_python
