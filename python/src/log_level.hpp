// shmq.set_log_level: how much the library logs to stderr (its spdlog logger "shmq").
#pragma once

#include <pybind11/pybind11.h>

namespace shmq_python {

void register_log_level(pybind11::module_& module);

}  // namespace shmq_python
