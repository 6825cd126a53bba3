// Ring memory lent to Python code, with a way to take it back.
//
// Python reaches the bytes of the shared ring (a message being read, a reservation being written)
// only through a GuardedBuffer: an object with the buffer protocol that counts the buffers it has
// exported. Its memoryview is made once and cached. revoke() releases that memoryview, so that any
// later use of it raises ValueError instead of reading memory the producer may have reused, and
// refuses new exports. It fails, and the caller must then keep the ring memory from being reused,
// while another buffer is still exported: a slice of the memoryview, a numpy array over it, ...
#pragma once

#include <pybind11/pybind11.h>

#include <cstddef>
#include <memory>

namespace shmq_python {

struct GuardedBuffer {
  PyObject_HEAD std::byte* data;
  Py_ssize_t size;
  bool writable;
  bool revoked;
  const char* revoked_message;       // the ValueError raised on a use after revoke()
  Py_ssize_t exports;                // buffers exported and not yet released
  PyObject* view;                    // the cached memoryview, or nullptr
  std::shared_ptr<void> keep_alive;  // see orphan()

  static GuardedBuffer* from(PyObject* object) noexcept { return reinterpret_cast<GuardedBuffer*>(object); }

  // A new reference to a buffer over [data, data + size).
  static PyObject* create(std::byte* data, std::size_t size, bool writable, const char* revoked_message);

  // The memoryview over all of it (the same object each time): a new reference, or nullptr with
  // ValueError set once revoked.
  PyObject* memoryview();

  // Ends Python's access. Returns true when no buffer is exported any more; false, with the buffer
  // still usable, when one is (the memoryview itself is then released unless it was exported).
  bool revoke();

  // For a handle that is closing and cannot refuse: revokes for good, and when buffers are still
  // exported keeps `owner` (which keeps the ring mapped) alive until the last one is released.
  void orphan(std::shared_ptr<void> owner);

  // fork(): the child inherits every buffer but owns no ring (the handles are the parent's).
  // In the parent, just before: copies the pages under every buffer with an export (Python code
  // may reach them through a slice or a numpy array, which cannot be revoked). In the child:
  // revokes every live buffer for good (its memoryview raises ValueError), and makes its pages
  // under those buffers a private copy of what they held at the fork, so that nothing it
  // inherited reads what the parent's ring holds later or writes into it. In the parent, after:
  // forgets the copies.
  static void copy_exported_before_fork() noexcept;
  static void revoke_all_inherited() noexcept;
  static void forget_copies() noexcept;
};

// Creates the type; call once from the module's initialisation.
void register_guarded_buffer(pybind11::module_& module);

}  // namespace shmq_python
