#include "message.hpp"

#include <string>

#include "fork_generation.hpp"
#include "guarded_buffer.hpp"

namespace shmq_python {
namespace {

namespace py = pybind11;

constexpr const char* kReleased =
    "the message was released: its bytes in the ring may hold another message now "
    "(copy them with bytes(msg.data) before Consumer.release())";

constexpr const char* kForked =
    "the message was received by the parent of this fork()ed process: its ring is the parent's (copy the bytes "
    "before forking, or open the queue again here)";

struct MessageObject {
  PyObject_HEAD const std::byte* data;
  Py_ssize_t size;
  std::uint64_t sequence;
  std::uint64_t fork_generation;  // when it was received (fork_generation.hpp)
  bool released;
  PyObject* guard;  // a GuardedBuffer, made on the first access to .data
};

PyTypeObject* message_type = nullptr;

MessageObject* as_message(PyObject* object) { return reinterpret_cast<MessageObject*>(object); }
GuardedBuffer* guard_of(MessageObject* m) { return GuardedBuffer::from(m->guard); }

// False, with ValueError set, when the message's bytes are no longer this process's to read.
bool readable(const MessageObject* m) {
  if (m->fork_generation != fork_generation()) {
    PyErr_SetString(PyExc_ValueError, kForked);
    return false;
  }
  if (m->released) {
    PyErr_SetString(PyExc_ValueError, kReleased);
    return false;
  }
  return true;
}

PyObject* message_data(PyObject* self, void* /*closure*/) {
  MessageObject* m = as_message(self);
  if (!readable(m)) return nullptr;
  if (m->guard == nullptr) {
    try {
      // The ring is shared writable, but a consumer only reads: the buffer is read-only.
      m->guard =
          GuardedBuffer::create(const_cast<std::byte*>(m->data), static_cast<std::size_t>(m->size), false, kReleased);
    } catch (py::error_already_set& e) {
      e.restore();  // hands the Python error back to the interpreter
      return nullptr;
    }
  }
  return guard_of(m)->memoryview();
}

PyObject* message_get_sequence(PyObject* self, void* /*closure*/) {
  return PyLong_FromUnsignedLongLong(as_message(self)->sequence);
}

PyObject* message_released(PyObject* self, void* /*closure*/) { return PyBool_FromLong(as_message(self)->released); }

Py_ssize_t message_length(PyObject* self) { return as_message(self)->size; }

PyObject* message_repr(PyObject* self) {
  const MessageObject* m = as_message(self);
  return PyUnicode_FromFormat("<shmq.Message sequence=%llu size=%zd%s>", static_cast<unsigned long long>(m->sequence),
                              m->size, m->released ? " released" : "");
}

// bytes(msg): a copy of the message's bytes.
PyObject* message_bytes(PyObject* self, PyObject* /*unused*/) {
  const MessageObject* m = as_message(self);
  if (!readable(m)) return nullptr;
  return PyBytes_FromStringAndSize(reinterpret_cast<const char*>(m->data), m->size);
}

PyObject* message_reduce(PyObject* /*self*/, PyObject* /*protocol*/) {
  PyErr_SetString(PyExc_TypeError,
                  "a shmq.Message cannot be pickled: it is a view of the queue's ring, valid in this process until "
                  "released; send bytes(msg) and msg.sequence instead");
  return nullptr;
}

PyMethodDef message_methods[] = {
    {"__bytes__", message_bytes, METH_NOARGS, "A copy of the message's bytes."},
    {"__reduce_ex__", message_reduce, METH_O, "Refuses: a Message cannot be pickled."},
    {nullptr, nullptr, 0, nullptr},
};

void message_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  Py_CLEAR(as_message(self)->guard);
  type->tp_free(self);
  Py_DECREF(type);  // instances of a heap type hold a reference to it
}

PyGetSetDef message_getset[] = {
    {"data", message_data, nullptr,
     const_cast<char*>("The message's bytes in the ring: a read-only memoryview, no copy. Valid until the consumer "
                       "releases the message; using it after that raises ValueError."),
     nullptr},
    {"sequence", message_get_sequence, nullptr,
     const_cast<char*>("The message's sequence number: 0, 1, 2, ... in send order for the life of the queue."),
     nullptr},
    {"released", message_released, nullptr, const_cast<char*>("True once the consumer has released the message."),
     nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot message_slots[] = {
    {Py_tp_getset, message_getset},
    {Py_tp_methods, message_methods},
    {Py_sq_length, reinterpret_cast<void*>(message_length)},
    {Py_tp_repr, reinterpret_cast<void*>(message_repr)},
    {Py_tp_dealloc, reinterpret_cast<void*>(message_dealloc)},
    {Py_tp_doc, const_cast<char*>("A received message: its sequence number and a view of its bytes in the ring.\n\n"
                                  "len(msg) is its size in bytes; bytes(msg) copies them. Made by Consumer; valid "
                                  "until released, and in the process that received it only.")},
    {0, nullptr},
};

// Py_TPFLAGS_DISALLOW_INSTANTIATION: only a Consumer makes messages.
PyType_Spec message_spec = {"shmq.Message", sizeof(MessageObject), 0,
                            Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION, message_slots};

}  // namespace

PyObject* make_message(const shmq::Message& message) {
  PyObject* self = PyType_GenericAlloc(message_type, 0);
  if (self == nullptr) throw py::error_already_set();
  MessageObject* m = as_message(self);
  m->data = message.bytes.data();
  m->size = static_cast<Py_ssize_t>(message.bytes.size());
  m->sequence = message.sequence;
  m->fork_generation = fork_generation();
  m->released = false;
  m->guard = nullptr;
  return self;
}

bool release_message(PyObject* message) {
  MessageObject* m = as_message(message);
  if (m->guard != nullptr && !guard_of(m)->revoke()) return false;
  m->released = true;
  return true;
}

void orphan_message(PyObject* message, const std::shared_ptr<void>& owner) {
  MessageObject* m = as_message(message);
  if (m->guard != nullptr) guard_of(m)->orphan(owner);
  m->released = true;
}

std::uint64_t message_sequence(PyObject* message) { return as_message(message)->sequence; }

void register_message(py::module_& module) {
  PyObject* type = PyType_FromSpec(&message_spec);
  if (type == nullptr) throw py::error_already_set();
  message_type = reinterpret_cast<PyTypeObject*>(type);
  module.add_object("Message", type);
}

}  // namespace shmq_python
