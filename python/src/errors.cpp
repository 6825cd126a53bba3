#include "errors.hpp"

#include <array>
#include <exception>
#include <map>

#include <shmq/error.hpp>

namespace shmq_python {
namespace {

namespace py = pybind11;

struct ErrorClass {
  shmq::ErrorCode code;
  const char* name;
  const char* doc;
};

// In shmq::ErrorCode's order.
constexpr std::array<ErrorClass, 10> kErrorClasses{{
    {shmq::ErrorCode::invalid_argument, "InvalidArgument",
     "Bad options or arguments (a capacity that is not a power of two, a message larger than the ring, ...). "
     "Also a ValueError."},
    {shmq::ErrorCode::io, "IoError",
     "A system call failed; .errno says which errno. Also an OSError, and the OSError subclass of its errno "
     "(FileNotFoundError, PermissionError, ...)."},
    {shmq::ErrorCode::already_exists, "AlreadyExists", "create: something already exists at the path."},
    {shmq::ErrorCode::not_a_queue, "NotAQueue", "The file is not a shmq queue, or not one this build can read."},
    {shmq::ErrorCode::incompatible, "Incompatible", "A shmq queue of another format version or layout."},
    {shmq::ErrorCode::damaged_file, "DamagedFile",
     "Found broken when opened: impossible header, positions, checkpoints or records."},
    {shmq::ErrorCode::foreign_owner, "ForeignOwner", "The file belongs to another user (see allow_other_owner)."},
    {shmq::ErrorCode::role_taken, "RoleTaken", "Another process is attached as the producer (or the consumer)."},
    {shmq::ErrorCode::peer_broke_protocol, "PeerBrokeProtocol",
     "A record or position written by the peer broke the protocol (sticky)."},
    {shmq::ErrorCode::usage, "UsageError",
     "The API was used out of order: a closed handle, two reservations at once, a second thread, ..."},
}};

PyObject* error_base = nullptr;
std::array<PyObject*, kErrorClasses.size()> error_classes{};
PyObject* peer_gone_class = nullptr;
// IoError for each OSError subclass an errno maps to (FileNotFoundError, PermissionError, ...):
// a class deriving from both, made on first use, so that `except FileNotFoundError` catches a
// missing queue as it would for open().
std::map<PyObject*, PyObject*> io_error_classes;

PyObject* io_error_class(int sys_errno) {
  PyObject* io_error = error_classes[static_cast<std::size_t>(shmq::ErrorCode::io)];
  if (sys_errno == 0) return io_error;
  // OSError(errno, text) is an instance of the subclass Python gives that errno.
  py::object probe = py::reinterpret_borrow<py::object>(PyExc_OSError)(sys_errno, "");
  PyObject* os_class = reinterpret_cast<PyObject*>(Py_TYPE(probe.ptr()));
  if (os_class == PyExc_OSError) return io_error;
  PyObject*& cached = io_error_classes[os_class];
  if (cached == nullptr) {
    const py::object name = py::reinterpret_borrow<py::object>(os_class).attr("__name__");
    py::dict namespace_;
    namespace_["__module__"] = "shmq";
    namespace_["__doc__"] = "shmq.IoError that is also the OSError subclass of its errno.";
    py::object made = py::reinterpret_borrow<py::object>(reinterpret_cast<PyObject*>(&PyType_Type))(
        name, py::make_tuple(py::handle(io_error), py::handle(os_class)), namespace_);
    cached = made.release().ptr();  // kept for the life of the module
  }
  return cached;
}

PyObject* new_class(py::module_& module, const char* name, const char* doc, PyObject* bases) {
  const std::string qualified = std::string("shmq.") + name;
  PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases, nullptr);
  if (type == nullptr) throw py::error_already_set();
  module.add_object(name, type);
  return type;
}

// Raises an instance of `type` with `message` and the given attributes.
void set_error(PyObject* type, const std::string& message, const char* code, const std::string& path,
               const std::string& cause, int sys_errno) {
  py::object error = py::reinterpret_borrow<py::object>(type)(message);
  error.attr("code") = code;
  error.attr("path") = path.empty() ? py::object(py::none()) : py::object(py::str(path));
  error.attr("cause") = cause;
  error.attr("errno") = sys_errno;
  PyErr_SetObject(type, error.ptr());
}

void translate(std::exception_ptr exception) {
  try {
    if (exception) std::rethrow_exception(exception);
  } catch (const shmq::Error& e) {
    const auto index = static_cast<std::size_t>(e.code());
    PyObject* type = e.code() == shmq::ErrorCode::io ? io_error_class(e.sys_errno())
                     : index < error_classes.size()  ? error_classes[index]
                                                     : error_base;
    set_error(type, e.what(), shmq::to_string(e.code()), e.path().string(), e.cause(), e.sys_errno());
  } catch (const PeerGone& e) {
    set_error(peer_gone_class, e.path.string() + ": " + e.cause + " [peer_gone]", "peer_gone", e.path.string(), e.cause,
              0);
  }
}

}  // namespace

void set_python_error(std::exception_ptr exception) noexcept {
  try {
    translate(exception);  // shmq::Error and PeerGone; rethrows anything else
    return;
  } catch (...) {
  }
  try {
    py::detail::translate_exception(exception);  // pybind11's own and the standard exceptions
    return;
  } catch (...) {
  }
  PyErr_SetString(PyExc_SystemError, "shmq: an unknown C++ exception");
}

py::error_already_set as_python_error(std::exception_ptr exception) {
  try {
    std::rethrow_exception(exception);
  } catch (const py::error_already_set& e) {
    return e;
  } catch (...) {
    set_python_error(exception);
    return py::error_already_set();
  }
}

void register_errors(py::module_& module) {
  error_base = new_class(module, "Error",
                         "Base of shmq's exceptions. Attributes: code (the C++ ErrorCode's name, or 'peer_gone'), "
                         "path (the queue file, or None), cause (what went wrong, without the path), errno "
                         "(0 unless a system call failed).",
                         nullptr);
  for (std::size_t i = 0; i < kErrorClasses.size(); ++i) {
    const ErrorClass& c = kErrorClasses[i];
    if (static_cast<std::size_t>(c.code) != i) throw std::logic_error("kErrorClasses is out of ErrorCode's order");
    py::object bases = c.code == shmq::ErrorCode::invalid_argument
                           ? py::object(py::make_tuple(py::handle(error_base), py::handle(PyExc_ValueError)))
                       : c.code == shmq::ErrorCode::io
                           ? py::object(py::make_tuple(py::handle(error_base), py::handle(PyExc_OSError)))
                           : py::reinterpret_borrow<py::object>(error_base);
    error_classes[i] = new_class(module, c.name, c.doc, bases.ptr());
  }
  peer_gone_class = new_class(module, "PeerGone",
                              "The peer left: the producer detached or died and every message it published has been "
                              "received, or the consumer left while the ring is full.",
                              error_base);
  py::register_exception_translator(translate);
}

}  // namespace shmq_python
