// shmq's exceptions in Python: shmq.Error, one subclass per shmq::ErrorCode carrying the C++
// message, and shmq.PeerGone for a peer that left.
#pragma once

#include <pybind11/pybind11.h>

#include <exception>
#include <filesystem>
#include <string>

namespace shmq_python {

// Adds the exception classes to the module and translates shmq::Error (and PeerGone) into them.
void register_errors(pybind11::module_& module);

// Sets the Python error for a C++ exception (shmq::Error, PeerGone, pybind11's and the standard
// ones), as pybind11 does for a bound function; for code that CPython calls directly.
void set_python_error(std::exception_ptr exception) noexcept;

// The Python error for a C++ exception (set_python_error's), fetched, for a caller that adds to
// it before raising it; a pybind11::error_already_set is returned as it is.
pybind11::error_already_set as_python_error(std::exception_ptr exception);

// Thrown by the bindings when the peer left; becomes shmq.PeerGone.
struct PeerGone {
  std::filesystem::path path;
  std::string cause;  // "the producer is gone and the queue is drained", ...
};

}  // namespace shmq_python
