// shmq.Producer: the producer end of a queue, for Python.
#pragma once

#include <pybind11/pybind11.h>

namespace shmq_python {

void register_producer(pybind11::module_& module);

}  // namespace shmq_python
