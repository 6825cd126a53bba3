#include "failpoint.hpp"

#ifdef SHMQ_FAILPOINTS
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include <unistd.h>

namespace shmq::detail {

void failpoint(const char* name) noexcept {
  // Re-read per process (a forked child may set its own), counted per process.
  static std::atomic<pid_t> owner{0};
  static std::atomic<long> hits{0};
  const char* spec = std::getenv("SHMQ_FAILPOINT");
  if (spec == nullptr) return;
  const std::size_t length = std::strlen(name);
  if (std::strncmp(spec, name, length) != 0 || (spec[length] != '\0' && spec[length] != ':')) return;
  const long target = spec[length] == ':' ? std::atol(spec + length + 1) : 1;
  if (owner.exchange(::getpid()) != ::getpid()) hits.store(0);
  if (hits.fetch_add(1) + 1 >= target) ::kill(::getpid(), SIGKILL);
}

}  // namespace shmq::detail
#endif
