#include "fencing.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "layout.hpp"

namespace shmq::detail {

namespace {
long membarrier(int command) noexcept { return ::syscall(SYS_membarrier, command, 0, 0); }
}  // namespace

FencingChoice choose_fencing(bool allowed) noexcept {
  static_assert(layout::kFencingFull == 0 && layout::kFencingMembarrier == 1);
  if (!allowed) return {};
  const long supported = membarrier(MEMBARRIER_CMD_QUERY);
  if (supported < 0) return {0, errno};
  constexpr long kNeeded = MEMBARRIER_CMD_GLOBAL_EXPEDITED | MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED;
  if ((supported & kNeeded) != kNeeded) return {0, EINVAL};
  if (membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) != 0) return {0, errno};
  // The parking side must be able to issue the barrier too (a seccomp filter may allow one command
  // and not the other): try it once now rather than discover it while parking.
  if (membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) != 0) return {0, errno};
  return {layout::kFencingMembarrier, 0};
}

int asymmetric_fence() noexcept { return membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0 ? 0 : errno; }

bool fencing_forced_full_by_environment() noexcept {
  const char* value = std::getenv("SHMQ_FENCING");
  return value != nullptr && std::strcmp(value, "full") == 0;
}

}  // namespace shmq::detail
