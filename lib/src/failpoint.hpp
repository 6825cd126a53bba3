// Named crash points for tests: SHMQ_FAILPOINT=name[:n] in the environment makes the n-th hit
// (default 1) of the failpoint `name` kill the process with SIGKILL, as a crash would at that
// step; SHMQ_FAILPOINT=name:n:stop stops it there with SIGSTOP instead (a preempted or stopped
// process; SIGCONT lets it go on). Compiled in only with SHMQ_FAILPOINTS (the test-only library variant
// shmq_failpoints); in the real library every failpoint is nothing at all.
#pragma once

#ifdef SHMQ_FAILPOINTS
namespace shmq::detail {
void failpoint(const char* name) noexcept;
}  // namespace shmq::detail
#define SHMQ_FAILPOINT(name) ::shmq::detail::failpoint(name)
#else
#define SHMQ_FAILPOINT(name) ((void)0)
#endif
