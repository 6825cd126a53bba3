#include "files.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace shmq::logd {
namespace {

std::string describe(const std::filesystem::path& path, const std::string& cause, int err) {
  std::string text = path.string() + ": " + cause;
  if (err != 0) text += ": " + std::string(std::strerror(err));
  return text;
}

void write_all(int fd, std::string_view data, const std::filesystem::path& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw FileError(path, "cannot write", n < 0 ? errno : EIO);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

FileError::FileError(const std::filesystem::path& path, const std::string& cause, int err)
    : std::runtime_error(describe(path, cause, err)) {}

void sync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw FileError(dir, "cannot open the directory", errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0 && err != EINVAL && err != EROFS) throw FileError(dir, "cannot sync the directory", err);
}

void replace_file(const std::filesystem::path& target, std::string_view content, bool durable) {
  const std::filesystem::path dir = target.parent_path();
  const std::filesystem::path temp = dir / ("." + target.filename().string() + ".tmp");
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) throw FileError(temp, "cannot create", errno);
  try {
    write_all(fd, content, temp);
    if (durable && ::fsync(fd) != 0) throw FileError(temp, "cannot sync", errno);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  if (::rename(temp.c_str(), target.c_str()) != 0)
    throw FileError(target, "cannot rename " + temp.string() + " to", errno);
  if (durable) sync_directory(dir);
}

FileText read_small_file(const std::filesystem::path& path) {
  FileText out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return out;
    throw FileError(path, "cannot open", errno);
  }
  out.exists = true;
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      throw FileError(path, "cannot read", err);
    }
    if (n == 0) break;
    out.text.append(buffer, static_cast<std::size_t>(n));
    if (out.text.size() > (std::size_t{64} << 20)) {
      ::close(fd);
      throw FileError(path, "larger than 64 MiB: not a file this program wrote");
    }
  }
  ::close(fd);
  return out;
}

FileLock::FileLock(const std::filesystem::path& path) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd_ < 0) throw FileError(path, "cannot open the lock file", errno);
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd_);
    if (err == EWOULDBLOCK) throw FileError(path, "another shmq-logd is running (it holds this lock)");
    throw FileError(path, "cannot lock", err);
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace shmq::logd
