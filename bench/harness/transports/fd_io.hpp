// Whole-buffer read and write on a file descriptor, for the byte-stream transports (pipe, stream
// socket): every message has the run's fixed size, so the size is the framing.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>

#include <unistd.h>

namespace bench {

inline void write_all(int fd, std::span<const std::byte> bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("write: ") + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
}

inline void read_all(int fd, std::span<std::byte> bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("read: ") + std::strerror(errno));
    }
    if (n == 0) throw std::runtime_error("read: the peer closed the channel");
    done += static_cast<std::size_t>(n);
  }
}

inline std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace bench
