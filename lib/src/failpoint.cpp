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
  const char* action = spec[length] == ':' ? std::strchr(spec + length + 1, ':') : nullptr;
  const bool stop = action != nullptr && std::strcmp(action, ":stop") == 0;
  if (owner.exchange(::getpid()) != ::getpid()) hits.store(0);
  const long hit = hits.fetch_add(1) + 1;
  if (stop ? hit == target : hit >= target) ::kill(::getpid(), stop ? SIGSTOP : SIGKILL);
}

}  // namespace shmq::detail
#endif
