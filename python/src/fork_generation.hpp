// A handle belongs to the process that opened it: the library gives the child of a fork() no
// role (see shmq/consumer.hpp), and a child using its copy of the parent's handle would race the
// parent on the same ring. Handles remember the fork generation they were opened in and refuse
// calls from another one.
#pragma once

#include <cstdint>

namespace shmq_python {

// How many fork()s separate this process from the one that loaded the module (counted by a
// pthread_atfork handler, which runs in the child before anything else does).
std::uint64_t fork_generation() noexcept;

// Installs the handler; call once from the module's initialisation.
void count_forks();

}  // namespace shmq_python
