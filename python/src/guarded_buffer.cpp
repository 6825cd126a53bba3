#include "guarded_buffer.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <unordered_set>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

namespace shmq_python {
namespace {

namespace py = pybind11;

PyTypeObject* guarded_buffer_type = nullptr;

constexpr const char* kInherited =
    "this buffer was inherited through fork(): the ring it viewed is the parent's (copy the bytes before "
    "forking, or open the queue again in the child)";

// Every GuardedBuffer alive in this process (created and freed with the GIL held).
std::unordered_set<GuardedBuffer*>& live_buffers() {
  static auto* live = new std::unordered_set<GuardedBuffer*>();  // never destroyed: buffers may outlive statics
  return *live;
}

// The pages under a buffer whose memory Python code may still reach, copied in the parent just
// before a fork(): the child's pages there become a private copy of them (revoke_all_inherited).
// Copied before, not in the child: the parent goes on, and may reuse the ring, while the child starts.
struct PageCopy {
  std::uintptr_t begin = 0;
  std::vector<char> bytes;
};
std::vector<PageCopy>& copies_for_the_child() {
  static auto* copies = new std::vector<PageCopy>();  // never destroyed, as live_buffers()
  return *copies;
}

PageCopy copy_pages_under(const GuardedBuffer* g) {
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto data = reinterpret_cast<std::uintptr_t>(g->data);
  PageCopy copy;
  copy.begin = data / page * page;
  const std::uintptr_t end = (data + static_cast<std::uintptr_t>(g->size) + page - 1) / page * page;
  copy.bytes.assign(reinterpret_cast<const char*>(copy.begin), reinterpret_cast<const char*>(end));
  return copy;
}

// Replaces the pages `copy` was taken from with private memory holding its bytes.
void map_private_copy(const PageCopy& copy) noexcept {
  if (copy.bytes.empty()) return;
  void* mapped = ::mmap(reinterpret_cast<void*>(copy.begin), copy.bytes.size(), PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  if (mapped != MAP_FAILED) std::memcpy(mapped, copy.bytes.data(), copy.bytes.size());
}

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
  live_buffers().erase(g);
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
  live_buffers().insert(g);
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

void GuardedBuffer::copy_exported_before_fork() noexcept {
  std::vector<PageCopy>& copies = copies_for_the_child();
  copies.clear();
  try {
    for (const GuardedBuffer* g : live_buffers()) {
      if (g->exports > 0 && g->size > 0) copies.push_back(copy_pages_under(g));
    }
  } catch (const std::bad_alloc&) {
    // Without the copies, the child's pages under exported buffers stay the shared ones.
  }
}

void GuardedBuffer::forget_copies() noexcept { copies_for_the_child().clear(); }

void GuardedBuffer::revoke_all_inherited() noexcept {
  // Held while they are revoked: releasing a view may drop a buffer's last other reference.
  std::vector<PyObject*> all;
  all.reserve(live_buffers().size());
  for (GuardedBuffer* g : live_buffers()) {
    Py_INCREF(reinterpret_cast<PyObject*>(g));
    all.push_back(reinterpret_cast<PyObject*>(g));
  }
  for (PyObject* object : all) {
    GuardedBuffer* g = GuardedBuffer::from(object);
    (void)release_view(g);
    g->revoked = true;
    g->revoked_message = kInherited;
  }
  for (PyObject* object : all) Py_DECREF(object);
  // What Python code can still reach (a slice of a view, a numpy array over one) now reads and
  // writes the child's own copy, as it was at the fork.
  for (const PageCopy& copy : copies_for_the_child()) map_private_copy(copy);
  forget_copies();
}

void register_guarded_buffer(py::module_& module) {
  PyObject* type = PyType_FromSpec(&guarded_spec);
  if (type == nullptr) throw py::error_already_set();
  guarded_buffer_type = reinterpret_cast<PyTypeObject*>(type);
  module.add_object("_GuardedBuffer", type);
}

}  // namespace shmq_python
