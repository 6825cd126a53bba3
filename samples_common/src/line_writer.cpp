#include "shmq_sample/line_writer.hpp"

#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include <sys/uio.h>

namespace shmq_sample {

LineWriter::LineWriter(int fd, std::string name, std::size_t capacity)
    : fd_(fd), name_(std::move(name)), buffer_(capacity) {}

void LineWriter::write_line(std::string_view text) {
  const std::size_t needed = text.size() + 1;
  if (needed > buffer_.size() - used_) flush();
  if (needed > buffer_.size()) {
    write_all(text, "\n");
    return;
  }
  std::memcpy(buffer_.data() + used_, text.data(), text.size());
  buffer_[used_ + text.size()] = '\n';
  used_ += needed;
}

void LineWriter::flush() {
  if (used_ == 0) return;
  write_all({buffer_.data(), used_}, {});
  used_ = 0;
}

// writev(2) until both parts are out: it may write less than asked (a pipe, a signal), and a
// signal without SA_RESTART interrupts it with EINTR before anything is written.
void LineWriter::write_all(std::string_view first, std::string_view second) {
  iovec parts[2] = {{const_cast<char*>(first.data()), first.size()}, {const_cast<char*>(second.data()), second.size()}};
  iovec* next = parts;
  int left = 2;
  while (left > 0) {
    const ssize_t n = ::writev(fd_, next, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "cannot write " + name_);
    }
    auto written = static_cast<std::size_t>(n);
    while (left > 0 && written >= next->iov_len) {
      written -= next->iov_len;
      ++next;
      --left;
    }
    if (left > 0) {
      next->iov_base = static_cast<char*>(next->iov_base) + written;
      next->iov_len -= written;
    }
  }
}

}  // namespace shmq_sample
