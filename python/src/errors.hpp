// shmq's exceptions in Python: shmq.Error, one subclass per shmq::ErrorCode carrying the C++
// message, and shmq.PeerGone for a peer that left.
#pragma once

#include <pybind11/pybind11.h>

#include <filesystem>
#include <string>

namespace shmq_python {

// Adds the exception classes to the module and translates shmq::Error (and PeerGone) into them.
void register_errors(pybind11::module_& module);

// Thrown by the bindings when the peer left; becomes shmq.PeerGone.
struct PeerGone {
  std::filesystem::path path;
  std::string cause;  // "the producer is gone and the queue is drained", ...
};

}  // namespace shmq_python
