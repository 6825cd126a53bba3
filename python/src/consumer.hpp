// shmq.Consumer: the consumer end of a queue, for Python.
#pragma once

#include <pybind11/pybind11.h>

namespace shmq_python {

void register_consumer(pybind11::module_& module);

}  // namespace shmq_python
