// Asymmetric fences between processes (membarrier(2)): the publishing side of the wake protocol
// keeps only a compiler barrier, and a side about to park pays for both with one system call.
// waiting.hpp says why that keeps every wakeup; this file only talks to the kernel.
#pragma once

#include <cstdint>

namespace shmq::detail {

struct FencingChoice {
  std::uint32_t fencing = 0;  // layout::kFencingFull or layout::kFencingMembarrier
  int error = 0;              // why not membarrier: the errno of the failed call (0: chosen, or not allowed)
};

// Decides how this process orders its publications (or releases) before it looks at the peer's
// wait flag. With `allowed` and a kernel that offers MEMBARRIER_CMD_GLOBAL_EXPEDITED, registers
// this process for it (idempotent; a forked child registers again when it opens) and returns
// kFencingMembarrier. Otherwise kFencingFull, with the errno that ruled membarrier out
// (ENOSYS: no membarrier, EINVAL: no global expedited command, EPERM: a seccomp filter).
FencingChoice choose_fencing(bool allowed) noexcept;

// A full memory barrier on this thread and on every CPU that is running a thread of a process
// registered by choose_fencing (MEMBARRIER_CMD_GLOBAL_EXPEDITED). Returns 0 or the errno.
int asymmetric_fence() noexcept;

// Whether the environment forces full fences: SHMQ_FENCING=full (for programs that cannot pass
// OpenOptions::fencing). Any other value, or none, leaves the choice to the options.
bool fencing_forced_full_by_environment() noexcept;

}  // namespace shmq::detail
