// Taking and giving up a role (producer or consumer) on an open queue file.
#pragma once

#include "queue_file.hpp"
#include "role_lock.hpp"
#include "shmq/options.hpp"

namespace shmq::detail {

// Takes the role's lock, or throws Error(role_taken) naming the holder's recorded pid.
// Writes nothing to the file: the caller validates it first.
void take_role(QueueFile& file, Role role);

// Once the file is validated: records this process in the role's line and clears the role's
// stale waiter announcement (a predecessor killed while parked).
void announce_attach(QueueFile& file, Role role) noexcept;

// Chooses how this handle fences its publications or releases (fencing.hpp) and records it in the
// role's line for the peer and the tools; returns true for membarrier. Call after announce_attach
// and before the first publication or release (waiting.hpp, "Which variant").
bool attach_fencing(QueueFile& file, Role role, Fencing requested) noexcept;

// Clears the attached flag, drops the lock (by closing the descriptor) and wakes a parked peer so
// that it notices at once. The mapping stays valid until the QueueFile is destroyed.
void detach_role(QueueFile& file, Role role) noexcept;

// The peer role is vacant now but was taken at least once (so "gone", not "not yet started").
bool peer_vacant(const QueueFile& file, Role self);

inline layout::RoleLine& role_line(layout::Header& h, Role role) {
  return role == Role::producer ? h.producer : h.consumer;
}
// The line a role parks on: the consumer waits for data, the producer for space.
inline layout::WaitLine& wait_line(layout::Header& h, Role role) {
  return role == Role::producer ? h.space_ready : h.data_ready;
}
inline Role peer_of(Role role) { return role == Role::producer ? Role::consumer : Role::producer; }

}  // namespace shmq::detail
