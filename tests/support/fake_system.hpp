// A test double for the system-call seam (lib/src/system.hpp): forwards to the real calls, but
// can pretend the machine rebooted and can fail msync/fsync/fallocate on schedule.
#pragma once

#include <atomic>
#include <cerrno>
#include <optional>

#include "system.hpp"

namespace shmq::test {

class FakeSystem : public detail::System {
 public:
  FakeSystem() : previous_(detail::install_system(this)) {}
  ~FakeSystem() override { detail::install_system(previous_ == this ? nullptr : previous_); }
  FakeSystem(const FakeSystem&) = delete;
  FakeSystem& operator=(const FakeSystem&) = delete;

  // A boot id other than the real one: the next read-write open recovers.
  void reboot() {
    boot_[0] = static_cast<std::uint8_t>(boot_[0] + 1);
    rebooted_ = true;
  }

  // msync: from call number `at` on (1-based, counted from now), fail with `err` once (`times` = 1)
  // or forever (times = 0).
  void fail_msync(int err, int at = 1, int times = 0) {
    msync_calls_ = 0;
    msync_error_ = err;
    msync_fail_at_ = at;
    msync_fail_times_ = times;
  }
  void fail_fsync(int err) { fsync_error_ = err; }
  void fail_fallocate(int err) { fallocate_error_ = err; }
  // The next `n` calls of each kind return EINTR first.
  void interrupt(int n) { interrupts_ = n; }
  int msync_calls() const { return msync_calls_; }

  int msync(void* address, std::size_t length) override {
    if (take_interrupt()) return EINTR;
    const int call = ++msync_calls_;
    if (msync_error_ != 0 && call >= msync_fail_at_ &&
        (msync_fail_times_ == 0 || call < msync_fail_at_ + msync_fail_times_)) {
      return msync_error_;
    }
    return detail::real_system().msync(address, length);
  }
  int fsync(int fd) override {
    if (take_interrupt()) return EINTR;
    return fsync_error_ != 0 ? fsync_error_ : detail::real_system().fsync(fd);
  }
  int fallocate(int fd, off_t offset, off_t length) override {
    if (take_interrupt()) return EINTR;
    return fallocate_error_ != 0 ? fallocate_error_ : detail::real_system().fallocate(fd, offset, length);
  }
  int pwrite(int fd, const void* data, std::size_t length, off_t offset) override {
    if (take_interrupt()) return EINTR;
    return detail::real_system().pwrite(fd, data, length, offset);
  }
  int boot_id(detail::BootId& out) override {
    if (boot_id_error_ != 0) return boot_id_error_;
    if (!rebooted_ && detail::real_system().boot_id(boot_) != 0) return EIO;
    out = boot_;
    return 0;
  }
  // The boot id cannot be read (a chroot or container without /proc, EMFILE).
  void fail_boot_id(int err) { boot_id_error_ = err; }

 private:
  bool take_interrupt() {
    if (interrupts_ <= 0) return false;
    --interrupts_;
    return true;
  }
  detail::System* previous_;
  detail::BootId boot_{};
  bool rebooted_ = false;
  std::atomic<int> msync_calls_{0};
  int msync_error_ = 0;
  int msync_fail_at_ = 1;
  int msync_fail_times_ = 0;
  int fsync_error_ = 0;
  int fallocate_error_ = 0;
  int boot_id_error_ = 0;
  std::atomic<int> interrupts_{0};
};

}  // namespace shmq::test
