#include "spool_watch.hpp"

#include <cerrno>
#include <cstring>

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "files.hpp"

namespace shmq::logd {

SpoolWatch::SpoolWatch(std::filesystem::path spool) : spool_(std::move(spool)) {
  fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) throw FileError(spool_, "cannot start inotify", errno);
  if (::inotify_add_watch(fd_, spool_.c_str(), IN_CREATE | IN_MOVED_TO | IN_ONLYDIR) < 0) {
    const int err = errno;
    ::close(fd_);
    throw FileError(spool_, "cannot watch the spool directory", err);
  }
}

SpoolWatch::~SpoolWatch() { ::close(fd_); }

std::vector<std::string> SpoolWatch::new_names() {
  std::vector<std::string> names;
  bool overflow = !scanned_;
  alignas(inotify_event) char buffer[16384];
  for (;;) {
    const ssize_t n = ::read(fd_, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EAGAIN: nothing more now
    for (ssize_t at = 0; at < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
      if ((event->mask & IN_Q_OVERFLOW) != 0) overflow = true;
      if (event->len > 0) names.emplace_back(event->name);
      at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
    }
  }
  if (overflow) {
    scanned_ = true;
    return scan();
  }
  return names;
}

void SpoolWatch::wait(int timeout_ms) {
  pollfd p{fd_, POLLIN, 0};
  ::poll(&p, 1, timeout_ms);
}

std::vector<std::string> SpoolWatch::scan() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(spool_, ec))
    names.push_back(entry.path().filename().string());
  if (ec) throw FileError(spool_, "cannot list the spool directory", ec.value());
  return names;
}

}  // namespace shmq::logd
