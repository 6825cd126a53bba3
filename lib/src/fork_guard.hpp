// A Producer or Consumer belongs to the process that opened it; fork() must not hand its role to
// the child.
//
// A role is an OFD lock, held while any descriptor of its open file description exists. O_CLOEXEC
// closes the descriptor at exec, but a plain fork() gives the child a copy of it, so the child
// would keep the parent's role alive: a peer would never see the parent's death while the child
// lives. So in every child of fork() (pthread_atfork) the registered descriptors are swapped for a
// placeholder, which drops the child's hold and keeps the descriptor number taken, and the fork
// generation is advanced. A Producer or Consumer whose generation is old is a fork's copy: its
// destructor touches nothing shared, and it must not be used (open a new one in the child).
#pragma once

#include <cstdint>

namespace shmq::detail {

// The number of fork()s between the first process and this one (0 in a process never forked).
std::uint64_t fork_generation() noexcept;

// In children of fork(), replace `fd` by a placeholder until close_dropped(fd) closes it (under
// the same lock as fork's handlers, so no fork falls between forgetting and closing).
void drop_in_forked_children(int fd);
// open(2) of `path` with a descriptor that children of fork() never get (as above): opened and
// registered under the lock fork's handlers take, so no fork() in another thread falls between the
// two. Returns the descriptor, or -1 with errno set.
int open_dropped_in_forked_children(const char* path, int flags);
void close_dropped(int fd) noexcept;

}  // namespace shmq::detail
