// Spin-then-park waiting on a WaitLine (an eventcount with one possible waiter), and the wake.
//
// The wake protocol. The waker K (a producer that published, a consumer that released) makes its
// publication with a release store (a record's commit word; the consumer's read position), then
// loads the WaitLine's `waiting`; only if it is set does K bump `epoch` and call FUTEX_WAKE. The
// waiter W stores `waiting = 1`, re-checks for the publication, and only then sleeps on `epoch`
// with the value it loaded before announcing itself. A wakeup is lost only if K's load misses
// W's announcement AND W's re-check misses K's publication. Two variants exclude that; each
// publishing side picks one at attach (RoleLine::fencing), and the parking side follows it.
//
// Full fences (kFencingFull: membarrier unavailable, or OpenOptions::fencing = full):
//   K: publish (release); fence(seq_cst); load waiting
//   W: waiting = 1;       fence(seq_cst); re-check
// Seq_cst fences are totally ordered. If K's fence comes first, W's re-check (after W's fence)
// sees the publication (before K's fence); if W's fence comes first, K's load sees waiting = 1.
//
// Asymmetric (kFencingMembarrier, the default where the kernel allows it):
//   K: publish (release); compiler barrier;                  load waiting
//   W: waiting = 1;       fence(seq_cst); membarrier(GLOBAL_EXPEDITED); re-check
// K's process registered for the command at attach, so membarrier returns only after every CPU
// running a thread of K's has executed a full barrier (a CPU not running one has passed a context
// switch since, itself a full barrier); call that point in K's instruction stream B. The compiler
// barrier keeps K's store before its load in program order, and B orders memory accesses like
// program order. If K's load comes after B, it sees W's waiting = 1 (made visible by W's fence,
// before the system call). If it comes before B, so does K's publication, which B made visible
// before membarrier returned: W's re-check sees it. K pays no fence per message; W pays one
// system call per park, next to the futex call it was about to make anyway.
//
// Which variant W follows: after its fence, W loads the waker's RoleLine::fencing, each time it
// parks. A new waker stores its fencing, then runs a seq_cst fence, before its first publication
// (attach_fencing). If W loaded the old kFencingFull and skipped membarrier, W's fence came before
// the new waker's fence in the seq_cst order (else W would have loaded the new value), so every
// later load of `waiting` by the new waker sees W's announcement. A stale kFencingMembarrier only
// costs a needless membarrier. A waiter that cannot run membarrier (a seccomp filter of its own)
// facing a waker that does not fence cannot exclude the miss: it parks kPollingPark at most, then
// re-checks. No wakeup is lost for longer than that.
//
// The futex: K bumps `epoch` after its load saw `waiting` = 1, so after W loaded the epoch value
// it sleeps on; the kernel's futex_wait compares `epoch` with it atomically with queueing W, so W
// either sees the change (EAGAIN) or is queued before K's FUTEX_WAKE finds it.
//
// A waiter that dies while parked leaves `waiting` = 1: the peer then makes one needless
// FUTEX_WAKE per publish until the role is taken again (attach clears the flag). Never a hang.
//
// Peer death: a parked waiter also wakes every WaitOptions::liveness_interval to ask the kernel
// whether the peer still holds its role lock, since a killed peer wakes nobody. A peer that
// detaches cleanly drops its lock, then bumps the epoch and wakes: the waiter loads the epoch
// before each liveness check, so a departure after the check changes the epoch it sleeps on, and
// any wake that brings no data leads to a liveness check at once.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>

#include "failpoint.hpp"
#include "fencing.hpp"
#include "futex.hpp"
#include "layout.hpp"
#include "shmq/options.hpp"
#include "shmq/result.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace shmq::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Time points on CLOCK_MONOTONIC in nanoseconds (the clock FUTEX_WAIT_BITSET uses).
inline std::int64_t monotonic_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}
inline constexpr std::int64_t kNever = INT64_MAX;

inline std::int64_t deadline_after(std::chrono::nanoseconds timeout) noexcept {
  const std::int64_t now = monotonic_ns();
  return timeout.count() >= kNever - now ? kNever : now + std::max<std::int64_t>(0, timeout.count());
}

// The longest park of a waiter that cannot run membarrier while its waker does not fence.
inline constexpr std::int64_t kPollingPark = 1'000'000;  // ns

// Wakes in a row that bring no data, after which a waiter stops trusting the epoch: a broken or
// hostile peer that bumps it again and again would otherwise keep the parked side looping, one
// liveness system call per round. The waiter then naps instead (kPollingPark, doubling up to the
// liveness interval; no futex, whose word keeps changing), asks about the peer only at the
// liveness interval, and trusts the futex again after a nap during which the epoch stayed put.
inline constexpr int kTrustedWakes = 4;

// Sleeps until the absolute `deadline` (monotonic_ns), or a signal.
inline void nap_until(std::int64_t deadline) noexcept {
  const timespec ts{static_cast<time_t>(deadline / 1'000'000'000), static_cast<long>(deadline % 1'000'000'000)};
  ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
}

// Orders a publication (or release) before the caller's load of the peer's `waiting` flag, as
// the caller's own RoleLine::fencing says (see the wake protocol above).
inline void fence_before_waiting_check(bool membarrier) noexcept {
  if (membarrier)
    std::atomic_signal_fence(std::memory_order_seq_cst);  // the parking peer's membarrier is the fence
  else
    std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with the parking peer's fence
}

// Wakes the waiter of `line` (call when a publish or release reported that it is parked).
inline void wake(layout::WaitLine& line) noexcept {
  line.epoch.fetch_add(1, std::memory_order_seq_cst);  // the futex word; see "The futex" above
  SHMQ_FAILPOINT("wake.before_futex");
  futex_wake(line.epoch, 1);
}

// a + b for a point in time and a non-negative duration, saturating at kNever (a WaitOptions of
// hours or years must not overflow).
inline std::int64_t add_saturating(std::int64_t a, std::int64_t b) noexcept { return b >= kNever - a ? kNever : a + b; }

// Waits until ready() is true or the absolute `deadline` (monotonic_ns) passes. `ready` re-reads
// the peer's publication (acquire). `waker_fencing` is the peer's RoleLine::fencing. `peer_vacant`
// asks whether the peer role is vacant after having been taken (a system call): before the first
// park, every liveness_interval, and after every wake that brought no data (a peer that detaches
// cleanly wakes us: it is reported at once, not an interval later).
template <class Ready, class PeerVacant>
Status wait_until(layout::WaitLine& line, const std::atomic<std::uint32_t>& waker_fencing, const WaitOptions& options,
                  std::int64_t deadline, Ready&& ready, PeerVacant&& peer_vacant) {
  // Spin: a busy peer answers within a few microseconds, far sooner than a park-and-wake cycle.
  const std::int64_t spin_end =
      std::min(deadline, add_saturating(monotonic_ns(), std::max<std::int64_t>(0, options.spin.count())));
  for (std::uint32_t i = 0;; ++i) {
    if (ready()) return Status::ok;
    if (options.spin.count() <= 0 || ((i & 63) == 63 && monotonic_ns() >= spin_end)) break;
    cpu_relax();
  }
  const std::int64_t interval = std::max<std::int64_t>(
      1'000'000, std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::min<std::chrono::milliseconds>(options.liveness_interval, std::chrono::hours(24 * 365)))
                     .count());
  bool check_liveness = true;  // before the first park
  std::int64_t next_liveness_check = 0;
  int wakes_without_data = 0;       // in a row (kTrustedWakes)
  std::int64_t nap = kPollingPark;  // while the epoch is not trusted
  for (;;) {
    // Before the liveness check: a peer that drops its lock after the check bumps the epoch after
    // this load (its detach wakes us), so the futex_wait below cannot sleep through its departure.
    const std::uint32_t epoch = line.epoch.load(std::memory_order_seq_cst);  // pairs with wake()'s increment
    const std::int64_t now = monotonic_ns();
    if (check_liveness || now >= next_liveness_check) {
      if (options.return_on_peer_gone && peer_vacant()) {
        // The peer published (or released) everything before dropping its lock, and the kernel's
        // lock bookkeeping ordered that before our lock query: one last look.
        std::atomic_thread_fence(std::memory_order_seq_cst);
        return ready() ? Status::ok : Status::peer_gone;
      }
      check_liveness = false;
      next_liveness_check = add_saturating(now, interval);
    }
    if (now >= deadline) return ready() ? Status::ok : Status::timed_out;

    line.waiting.store(1, std::memory_order_relaxed);     // announce; ordered by the fence below
    std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with the waker's fence, or with attach_fencing's
    bool polling = false;
    // Relaxed: the fence above orders it (the attach_fencing argument above).
    if (waker_fencing.load(std::memory_order_relaxed) == layout::kFencingMembarrier) {
      SHMQ_FAILPOINT("park.before_membarrier");
      polling = asymmetric_fence() != 0;  // the waker's barrier (see above); we cannot make it: poll
    }
    if (ready()) {  // the re-check after announcing
      line.waiting.store(0, std::memory_order_relaxed);
      return Status::ok;
    }
    std::int64_t wake_at = std::min(deadline, next_liveness_check);
    if (polling) wake_at = std::min(wake_at, add_saturating(now, kPollingPark));
    const bool trusted = wakes_without_data < kTrustedWakes;
    bool woken_early = false;
    if (trusted) {
      const timespec ts{static_cast<time_t>(wake_at / 1'000'000'000), static_cast<long>(wake_at % 1'000'000'000)};
      woken_early = futex_wait(line.epoch, epoch, &ts) != FutexResult::timed_out;
    } else {
      nap_until(std::min(wake_at, add_saturating(now, nap)));
      nap = std::min(2 * nap, interval);
    }
    line.waiting.store(0, std::memory_order_relaxed);
    if (ready()) return Status::ok;
    if (trusted) {
      // Woken without data (a detaching peer, an epoch that moved before we slept, a spurious
      // wake): ask about the peer before sleeping again, unless it keeps happening. A wait that
      // timed out saw the epoch stay put: the count starts again.
      wakes_without_data = woken_early ? wakes_without_data + 1 : 0;
      check_liveness = woken_early && wakes_without_data < kTrustedWakes;
    } else if (line.epoch.load(std::memory_order_relaxed) == epoch) {
      wakes_without_data = 0;  // quiet again during the nap: the futex can be trusted
      nap = kPollingPark;
    }
  }
}

}  // namespace shmq::detail
