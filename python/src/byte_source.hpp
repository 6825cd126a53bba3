// The bytes of a Python bytes-like object (bytes, bytearray, memoryview, array.array, a
// C-contiguous numpy array, ...), held for the length of a call.
#pragma once

#include <pybind11/pybind11.h>

#include <cstddef>
#include <span>

namespace shmq_python {

class ByteSource {
 public:
  // Throws TypeError (as pybind11::error_already_set) for an object that is not bytes-like.
  explicit ByteSource(pybind11::handle object) {
    if (PyObject_GetBuffer(object.ptr(), &buffer_, PyBUF_SIMPLE) != 0) throw pybind11::error_already_set();
  }
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;
  ~ByteSource() { PyBuffer_Release(&buffer_); }

  // Stays valid while this object lives: an exported buffer cannot be resized or freed.
  std::span<const std::byte> bytes() const noexcept {
    return {static_cast<const std::byte*>(buffer_.buf), static_cast<std::size_t>(buffer_.len)};
  }

 private:
  Py_buffer buffer_{};
};

}  // namespace shmq_python
