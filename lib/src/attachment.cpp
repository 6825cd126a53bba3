#include "attachment.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "shmq/error.hpp"
#include "shmq/log.hpp"
#include "fencing.hpp"
#include "waiting.hpp"

namespace shmq::detail {

void take_role(QueueFile& file, Role role) {
  if (!try_take_role(file.fd(), role, file.path())) {
    const std::uint32_t pid = role_line(file.header(), role).pid.load(std::memory_order_relaxed);
    throw Error(ErrorCode::role_taken, file.path(),
                std::string("another process is attached as the ") + to_string(role) + " (pid " + std::to_string(pid) +
                    " as recorded in the file; pids are informative only)");
  }
}

void announce_attach(QueueFile& file, Role role) noexcept {
  layout::Header& h = file.header();
  layout::RoleLine& line = role_line(h, role);
  // We hold the role: no other process writes these fields now. Relaxed stores: informative
  // fields for tools, or (waiting) a flag only we set and only our wait loop relies on.
  wait_line(h, role).waiting.store(0, std::memory_order_relaxed);
  line.pid.store(static_cast<std::uint32_t>(::getpid()), std::memory_order_relaxed);
  line.attach_count.fetch_add(1, std::memory_order_relaxed);
  line.attached.store(1, std::memory_order_relaxed);
}

bool attach_fencing(QueueFile& file, Role role, Fencing requested) noexcept {
  const FencingChoice choice = choose_fencing(requested == Fencing::automatic && !fencing_forced_full_by_environment());
  layout::RoleLine& line = role_line(file.header(), role);
  line.fencing_errno.store(static_cast<std::uint32_t>(choice.error), std::memory_order_relaxed);  // informative
  line.fencing.store(choice.fencing, std::memory_order_relaxed);  // ordered by the fence below
  // Before our first publication: a peer that parks after this fence reads our choice; one that
  // read the old one parked before it, and our later looks at `waiting` see it (waiting.hpp).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return choice.fencing == layout::kFencingMembarrier;
}

void detach_role(QueueFile& file, Role role) noexcept {
  layout::Header& h = file.header();
  role_line(h, role).attached.store(0, std::memory_order_relaxed);
  file.close_fd();                    // the kernel drops our role lock here
  wake(wait_line(h, peer_of(role)));  // a parked peer re-checks liveness now instead of at its next interval
  logger()->info("{} detached from {}", to_string(role), file.path().string());
}

bool peer_vacant(const QueueFile& file, Role self) {
  const Role peer = peer_of(self);
  if (role_line(file.header(), peer).attach_count.load(std::memory_order_relaxed) == 0)
    return false;  // not started yet
  return !role_held_by_other(file.fd(), peer, file.path());
}

}  // namespace shmq::detail
