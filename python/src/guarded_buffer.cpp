#include "guarded_buffer.hpp"

#include <new>

namespace shmq_python {
namespace {

namespace py = pybind11;

PyTypeObject* guarded_buffer_type = nullptr;

int guarded_get_buffer(PyObject* self, Py_buffer* buffer, int flags) {
  GuardedBuffer* g = GuardedBuffer::from(self);
  if (g->revoked) {
    PyErr_SetString(PyExc_ValueError, g->revoked_message);
    buffer->obj = nullptr;
    return -1;
  }
  if (PyBuffer_FillInfo(buffer, self, g->data, g->size, g->writable ? 0 : 1, flags) != 0) return -1;
  ++g->exports;
  return 0;
}

void guarded_release_buffer(PyObject* self, Py_buffer* /*buffer*/) {
  GuardedBuffer* g = GuardedBuffer::from(self);
  if (--g->exports == 0) g->keep_alive.reset();  // an orphaned buffer lets its ring go
}

void guarded_dealloc(PyObject* self) {
  GuardedBuffer* g = GuardedBuffer::from(self);
  PyTypeObject* type = Py_TYPE(self);
  Py_CLEAR(g->view);
  g->keep_alive.~shared_ptr();
  type->tp_free(self);
  Py_DECREF(type);  // instances of a heap type hold a reference to it
}

// Releases the cached memoryview. False when it cannot be released (a buffer exported from it).
bool release_view(GuardedBuffer* g) {
  if (g->view == nullptr) return true;
  if (Py_REFCNT(g->view) == 1) {  // nobody else holds it: dropping it releases its buffer
    Py_CLEAR(g->view);
    return true;
  }
  PyObject* result = PyObject_CallMethod(g->view, "release", nullptr);
  if (result == nullptr) {  // BufferError: something holds a buffer of the view itself
    PyErr_Clear();
    return false;
  }
  Py_DECREF(result);
  Py_CLEAR(g->view);
  return true;
}

PyType_Slot guarded_slots[] = {
    {Py_bf_getbuffer, reinterpret_cast<void*>(guarded_get_buffer)},
    {Py_bf_releasebuffer, reinterpret_cast<void*>(guarded_release_buffer)},
    {Py_tp_dealloc, reinterpret_cast<void*>(guarded_dealloc)},
    {Py_tp_doc,
     const_cast<char*>("Ring memory lent to Python; its memoryview stops working once the owner takes it back.")},
    {0, nullptr},
};

PyType_Spec guarded_spec = {"shmq._GuardedBuffer", sizeof(GuardedBuffer), 0, Py_TPFLAGS_DEFAULT, guarded_slots};

}  // namespace

PyObject* GuardedBuffer::create(std::byte* data, std::size_t size, bool writable, const char* revoked_message) {
  PyObject* self = PyType_GenericAlloc(guarded_buffer_type, 0);
  if (self == nullptr) throw py::error_already_set();
  GuardedBuffer* g = GuardedBuffer::from(self);
  g->data = data;
  g->size = static_cast<Py_ssize_t>(size);
  g->writable = writable;
  g->revoked = false;
  g->revoked_message = revoked_message;
  g->exports = 0;
  g->view = nullptr;
  new (&g->keep_alive) std::shared_ptr<void>();
  return self;
}

PyObject* GuardedBuffer::memoryview() {
  if (view == nullptr) {
    view = PyMemoryView_FromObject(reinterpret_cast<PyObject*>(this));  // raises when revoked
    if (view == nullptr) return nullptr;
  }
  Py_INCREF(view);
  return view;
}

bool GuardedBuffer::revoke() {
  if (!release_view(this) || exports > 0) return false;
  revoked = true;
  return true;
}

void GuardedBuffer::orphan(std::shared_ptr<void> owner) {
  release_view(this);
  revoked = true;
  if (exports > 0) keep_alive = std::move(owner);
}

void register_guarded_buffer(py::module_& module) {
  PyObject* type = PyType_FromSpec(&guarded_spec);
  if (type == nullptr) throw py::error_already_set();
  guarded_buffer_type = reinterpret_cast<PyTypeObject*>(type);
  module.add_object("_GuardedBuffer", type);
}

}  // namespace shmq_python
