// The iterator of `for msg in consumer:`, a plain CPython type: its step runs without pybind11's
// call dispatch, which costs as much as the rest of the step.
#pragma once

#include <pybind11/pybind11.h>

namespace shmq_python {

// A new iterator over `consumer` (a Python shmq.Consumer, kept alive by the iterator).
pybind11::object make_consumer_iterator(pybind11::object consumer);

void register_consumer_iterator(pybind11::module_& module);

}  // namespace shmq_python
