// shmq.Message: one received message, a view of its bytes in the ring (no copy).
//
// A plain CPython type rather than a pybind11 class: a consumer makes one per message, and this
// costs a fraction of a pybind11 instance. Its bytes are reached through a GuardedBuffer made on
// the first access to .data, so that Consumer.release() can take them back.
#pragma once

#include <pybind11/pybind11.h>

#include <memory>

#include <shmq/message.hpp>

namespace shmq_python {

// A new reference to a Message for `message`.
PyObject* make_message(const shmq::Message& message);

// Ends Python's access to the message's bytes; false (and nothing changed for this message) while
// a buffer taken from its data is still exported.
bool release_message(PyObject* message);

// For a closing consumer: ends access whatever happens; a buffer still exported keeps `owner`
// (and with it the ring) alive until it is released.
void orphan_message(PyObject* message, const std::shared_ptr<void>& owner);

std::uint64_t message_sequence(PyObject* message);

void register_message(pybind11::module_& module);

}  // namespace shmq_python
