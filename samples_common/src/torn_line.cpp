#include "shmq_sample/torn_line.hpp"

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace shmq_sample {
namespace {

[[noreturn]] void fail(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

bool writes_at_end(int fd, const struct stat& st) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) fail("fcntl(F_GETFL) of standard output");
  if ((flags & O_APPEND) != 0) return true;
  const off_t offset = ::lseek(fd, 0, SEEK_CUR);
  return offset == st.st_size;
}

// A second, read-only descriptor of the file `fd` writes to (standard output is open for
// writing only); closed on destruction.
class ReadableCopy {
 public:
  explicit ReadableCopy(int fd, const struct stat& st)
      : fd_(::open(("/proc/self/fd/" + std::to_string(fd)).c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_ < 0) fail("open /proc/self/fd of standard output for reading");
    struct stat copy {};
    if (::fstat(fd_, &copy) != 0) fail("fstat of standard output");
    if (copy.st_dev != st.st_dev || copy.st_ino != st.st_ino) {
      errno = ESTALE;
      fail("reopen standard output");
    }
  }
  ~ReadableCopy() { ::close(fd_); }
  ReadableCopy(const ReadableCopy&) = delete;
  ReadableCopy& operator=(const ReadableCopy&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

std::optional<TornLine> find_torn_line(int fd, std::size_t max_length) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail("fstat of standard output");
  if (!S_ISREG(st.st_mode) || st.st_size == 0 || !writes_at_end(fd, st)) return std::nullopt;
  const auto size = static_cast<std::size_t>(st.st_size);
  // One byte more than the longest line: its newline, or the proof that the line is longer.
  const std::size_t window = std::min(size, max_length + 1);
  std::string tail(window, '\0');
  const ReadableCopy file(fd, st);
  for (std::size_t done = 0; done < window;) {
    const ssize_t n = ::pread(file.fd(), tail.data() + done, window - done, static_cast<off_t>(size - window + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("read of standard output");
    if (n == 0) return std::nullopt;  // shrunk meanwhile: not a file this program writes alone
    done += static_cast<std::size_t>(n);
  }
  if (tail.back() == '\n') return std::nullopt;
  const std::size_t newline = tail.rfind('\n');
  if (newline == std::string::npos && window < size) return std::nullopt;  // longer than any line
  return TornLine{tail.substr(newline == std::string::npos ? 0 : newline + 1), size};
}

void cut_torn_line(int fd, const TornLine& torn) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail("fstat of standard output");
  if (static_cast<std::size_t>(st.st_size) != torn.file_size) {
    throw std::runtime_error("standard output changed size while its partial last line was checked: left as it is");
  }
  const auto end = static_cast<off_t>(torn.file_size - torn.text.size());
  if (::ftruncate(fd, end) != 0) fail("ftruncate of standard output");
  if (::lseek(fd, end, SEEK_SET) < 0) fail("lseek of standard output");
}

}  // namespace shmq_sample
