#include "consumer_iterator.hpp"

#include "consumer_handle.hpp"
#include "errors.hpp"

namespace shmq_python {
namespace {

namespace py = pybind11;

struct IteratorObject {
  PyObject_HEAD PyObject* consumer;  // the Python Consumer (a strong reference)
  ConsumerHandle* handle;            // its C++ state, alive as long as `consumer`
};

PyTypeObject* iterator_type = nullptr;

IteratorObject* as_iterator(PyObject* object) { return reinterpret_cast<IteratorObject*>(object); }

PyObject* iterator_next(PyObject* self) {
  try {
    return as_iterator(self)->handle->next();  // nullptr with no error set: StopIteration
  } catch (...) {
    set_python_error(std::current_exception());
    return nullptr;
  }
}

PyObject* iterator_self(PyObject* self) {
  Py_INCREF(self);
  return self;
}

void iterator_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  Py_CLEAR(as_iterator(self)->consumer);
  type->tp_free(self);
  Py_DECREF(type);  // instances of a heap type hold a reference to it
}

PyType_Slot iterator_slots[] = {
    {Py_tp_iternext, reinterpret_cast<void*>(iterator_next)},
    {Py_tp_iter, reinterpret_cast<void*>(iterator_self)},
    {Py_tp_dealloc, reinterpret_cast<void*>(iterator_dealloc)},
    {Py_tp_doc, const_cast<char*>("Iterates over a Consumer's messages until the producer is gone; each step releases "
                                  "the messages the previous steps returned.")},
    {0, nullptr},
};

PyType_Spec iterator_spec = {"shmq._ConsumerIterator", sizeof(IteratorObject), 0,
                             Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION, iterator_slots};

}  // namespace

py::object make_consumer_iterator(py::object consumer) {
  ConsumerHandle* handle = consumer.cast<ConsumerHandle*>();
  PyObject* self = PyType_GenericAlloc(iterator_type, 0);
  if (self == nullptr) throw py::error_already_set();
  as_iterator(self)->consumer = consumer.release().ptr();
  as_iterator(self)->handle = handle;
  return py::reinterpret_steal<py::object>(self);
}

void register_consumer_iterator(py::module_& module) {
  PyObject* type = PyType_FromSpec(&iterator_spec);
  if (type == nullptr) throw py::error_already_set();
  iterator_type = reinterpret_cast<PyTypeObject*>(type);
  module.add_object("_ConsumerIterator", type);
}

}  // namespace shmq_python
