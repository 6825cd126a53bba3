// Spin-then-park waiting on a WaitLine (an eventcount with one possible waiter), and the wake.
//
// Lost-wakeup argument ("Dekker"). The waiter W and the waker K each do a seq_cst store and then a
// seq_cst load of the other's variable:
//   W: e = epoch;  waiting = 1;  ready()? (loads the position, seq_cst)  -> futex_wait(epoch, e)
//   K: position = p (seq_cst);   waiting?  -> epoch += 1; futex_wake(epoch)
// All are in one total order S. If K's load of `waiting` reads 0, it precedes W's store in S, so
// K's position store precedes W's re-check, which sees the new position: W does not sleep. If K
// reads 1, K bumps epoch after W set `waiting`, so after W loaded e: the kernel's futex_wait
// compares epoch with e atomically with queueing W, so W either sees the change (EAGAIN) or is
// queued before K's FUTEX_WAKE finds it. No interleaving leaves W asleep with the
// position published. The fast path of K is one seq_cst store and one load of a line that only
// changes when W parks: no system call unless W announced itself.
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

// Wakes the waiter of `line` (call when a publish or release reported that it is parked).
inline void wake(layout::WaitLine& line) noexcept {
  line.epoch.fetch_add(1, std::memory_order_seq_cst);  // the futex word; see "Dekker" above
  SHMQ_FAILPOINT("wake.before_futex");
  futex_wake(line.epoch, 1);
}

// a + b for a point in time and a non-negative duration, saturating at kNever (a WaitOptions of
// hours or years must not overflow).
inline std::int64_t add_saturating(std::int64_t a, std::int64_t b) noexcept { return b >= kNever - a ? kNever : a + b; }

// Waits until ready(order) is true or the absolute `deadline` (monotonic_ns) passes.
// `ready` re-reads the peer's position with the given memory order. `peer_vacant` asks whether the
// peer role is vacant after having been taken (a system call): before the first park, every
// liveness_interval, and after every wake that brought no data (a peer that detaches cleanly
// wakes us: it is reported at once, not an interval later).
template <class Ready, class PeerVacant>
Status wait_until(layout::WaitLine& line, const WaitOptions& options, std::int64_t deadline, Ready&& ready,
                  PeerVacant&& peer_vacant) {
  // Spin: a busy peer answers within a few microseconds, far sooner than a park-and-wake cycle.
  const std::int64_t spin_end =
      std::min(deadline, add_saturating(monotonic_ns(), std::max<std::int64_t>(0, options.spin.count())));
  for (std::uint32_t i = 0;; ++i) {
    if (ready(std::memory_order_acquire)) return Status::ok;
    if (options.spin.count() <= 0 || ((i & 63) == 63 && monotonic_ns() >= spin_end)) break;
    cpu_relax();
  }
  const std::int64_t interval = std::max<std::int64_t>(
      1'000'000, std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::min<std::chrono::milliseconds>(options.liveness_interval, std::chrono::hours(24 * 365)))
                     .count());
  bool check_liveness = true;  // before the first park
  std::int64_t next_liveness_check = 0;
  for (;;) {
    // Before the liveness check: a peer that drops its lock after the check bumps the epoch after
    // this load (its detach wakes us), so the futex_wait below cannot sleep through its departure.
    const std::uint32_t epoch = line.epoch.load(std::memory_order_seq_cst);  // pairs with wake()'s increment
    const std::int64_t now = monotonic_ns();
    if (check_liveness || now >= next_liveness_check) {
      if (options.return_on_peer_gone && peer_vacant()) {
        // The peer published (or released) everything before dropping its lock: one last look.
        return ready(std::memory_order_seq_cst) ? Status::ok : Status::peer_gone;
      }
      check_liveness = false;
      next_liveness_check = add_saturating(now, interval);
    }
    if (now >= deadline) return ready(std::memory_order_seq_cst) ? Status::ok : Status::timed_out;

    line.waiting.store(1, std::memory_order_seq_cst);  // announce; pairs with the waker's load of `waiting`
    if (ready(std::memory_order_seq_cst)) {  // re-check after announcing (pairs with the waker's position store)
      line.waiting.store(0, std::memory_order_relaxed);
      return Status::ok;
    }
    const std::int64_t wake_at = std::min(deadline, next_liveness_check);
    const timespec ts{static_cast<time_t>(wake_at / 1'000'000'000), static_cast<long>(wake_at % 1'000'000'000)};
    futex_wait(line.epoch, epoch, &ts);
    line.waiting.store(0, std::memory_order_relaxed);
    if (ready(std::memory_order_acquire)) return Status::ok;
    // Woken without data (a detaching peer, an epoch that moved before we slept, a spurious wake,
    // or the timeout): ask about the peer before sleeping again.
    check_liveness = true;
  }
}

}  // namespace shmq::detail
